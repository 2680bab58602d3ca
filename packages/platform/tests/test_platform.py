"""Platform administration: every tool against the sandbox (success and failure), its snapshot, and what
an account-level service has that the category services do not: no integration_id and no discovery tools,
the integrations search across categories, JSON-Patch bodies, write-only secrets, the delete rules on the
wire.

servicekit's generated success and failure tests walk a service's data from its integrations (discovery tools,
`integration_id`), which an account-level service has not: they are written here from the same rules (the
request the sandbox must receive, the 404 naming an unknown id, the 403 naming `platform:<action>`). The
snapshots are servicekit's.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from servicekit import MISSING, Example, Session, expected_path, ref, service_tests
from unizo_mcp_core import cli
from unizo_mcp_core.errors import ExitCode
from unizo_mcp_core.schema import input_schema
from unizo_mcp_core.spec import Permission
from unizo_mcp_platform.tools import SERVICE
from unizo_mcp_sandbox.services import discover, events
from unizo_testkit import preserved_logging, text_of

TOOLS = {tool.name: tool for tool in SERVICE.tools}
NAMES = [tool.name for tool in SERVICE.all_tools()]
SECRET = "whsec-Platform-Test-0042"  # noqa: S105 - a test value
HOOK_URL = "http://127.0.0.1:9/hooks/platform"
# Categories and events are taken from the sandbox, never named: a category both organizations have, an event
# and another event of another noun.
CATEGORY = next(service for service in discover() if service.second_organization)
EVENT = events()[0]
NOUN = EVENT.split(":", 1)[0]
OTHER_EVENT = next(event for event in events() if not event.startswith(NOUN + ":"))
READS = [name for name in NAMES if TOOLS[name].permission is Permission.READ]
DELETES = sorted(name for name in NAMES if TOOLS[name].permission is Permission.DELETE)

_, _, test_tool_snapshot = service_tests(SERVICE, {})


# ---- the data a call needs, made through the tools themselves ----------------------------------------------


class Account:
    """A webhook and a watch created with the tools, and an integration to watch, for one session."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.integration = ""
        self.webhook = ""
        self.watch = ""

    async def prepare(self) -> Account:
        found = await self.s.data("platform_search_integrations", {"category": CATEGORY.name})
        self.integration = found[0]["id"]
        hook = await self.s.data(
            "platform_create_webhook",
            {"name": "prepared", "url": HOOK_URL, "events": [f"{NOUN}:*"], "secret": SECRET},
        )
        self.webhook = hook["id"]
        watch = await self.s.data(
            "platform_create_watch",
            {
                "integration": self.integration,
                "name": "prepared",
                "type": "HOOK",
                "resource_type": "PROJECT",
                "url": "https://hooks.example.com/watch",
                "secret": SECRET,
            },
        )
        self.watch = watch["id"]
        return self

    def arguments(self, tool: str) -> dict[str, Any]:
        ids = {"integration": self.integration, "watch_id": self.watch, "webhook_id": self.webhook}
        args = {p.name: ids[p.name] for p in TOOLS[tool].path_params()}
        return {**EXAMPLES.get(tool, Example()).args, **args}  # the ids made here win over the table's


def _listed(data: Any) -> None:
    assert isinstance(data, list) and data


def _hook(data: Any) -> None:
    assert data["name"] == "release-bot" and data["events"] == [EVENT] and "secret" not in data


def _watch(data: Any) -> None:
    assert data["resource"]["type"] == "REPOSITORY" and data["resource"]["repository"] == {"id": "42"}
    assert data["resource"]["config"]["url"] == "https://hooks.example.com/repo"
    assert "secret" not in data["resource"]["config"]


def _renamed(data: Any) -> None:
    assert data["name"] == "renamed"


def _pinged(data: Any) -> None:
    assert data["action"] == "ping" and data["delivery"]["attempts"] >= 1


# Integrations are found by searching (no list tool names them by path): for the generic walkers of the
# cross-cutting suites, the integration a watch tool works on is the first one the search returns.
AN_INTEGRATION = ref("platform_search_integrations")

EXAMPLES = {
    "platform_list_services": Example({"sort": "type,name"}, check=_listed),
    "platform_get_integration": Example({"integration": AN_INTEGRATION}),
    "platform_get_watch": Example({"integration": AN_INTEGRATION}),
    "platform_delete_watch": Example({"integration": AN_INTEGRATION}),
    "platform_search_integrations": Example({"category": CATEGORY.name}, check=_listed),
    "platform_list_watches": Example({"integration": AN_INTEGRATION}, check=_listed),
    "platform_list_webhooks": Example({"event_type": EVENT}, check=_listed),
    "platform_create_webhook": Example(
        {"name": "release-bot", "url": HOOK_URL, "events": [EVENT], "secret": SECRET}, check=_hook
    ),
    "platform_create_watch": Example(
        {
            "integration": AN_INTEGRATION,
            "name": "repo events",
            "type": "HOOK",
            "resource_type": "REPOSITORY",
            "repository_id": "42",
            "url": "https://hooks.example.com/repo",
            "secret": SECRET,
        },
        check=_watch,
    ),
    "platform_update_watch": Example(
        {
            "integration": AN_INTEGRATION,
            "operations": [{"op": "replace", "path": "/name", "value": "renamed"}],
        },
        check=_renamed,
    ),
    "platform_update_webhook": Example(
        {"operations": [{"op": "replace", "path": "/name", "value": "renamed"}]}, check=_renamed
    ),
    "platform_create_webhook_action": Example({"action": "ping"}, check=_pinged),
}


def _expected(tool: str, args: dict[str, Any]) -> tuple[str, str]:
    spec = TOOLS[tool]
    return spec.method, expected_path(spec, args)


@pytest.mark.parametrize("tool", NAMES)
async def test_tool_succeeds(tool: str, open_server: Any, sandbox: Any) -> None:
    async with open_server("platform") as s:
        account = await Account(s).prepare()
        args = account.arguments(tool)
        before = len(sandbox.requests())
        result = await s.call(tool, args)
        assert not result.is_error, text_of(result)
        data = result.structured_content["data"]
        sent = sandbox.requests()[before:]
    assert [(r.method, r.raw_path.split("?")[0]) for r in sent] == [_expected(tool, args)]
    assert 200 <= sent[0].status < 300 and sent[0].integration_id is None
    spec = TOOLS[tool]
    if spec.method == "GET" and not spec.fields and spec.path_params():
        assert data["id"] == args[spec.path_params()[-1].name]
    example = EXAMPLES.get(tool)
    if example is not None and example.check is not None:
        example.check(data)
    assert SECRET not in text_of(result)


async def _key_without(new_key: Any, action: str) -> str:
    """A key that may do everything on every service but `action` on `platform`."""
    from unizo_mcp_core.registry import installed_service_names

    everything = {name: ["read", "write", "delete"] for name in installed_service_names()}
    everything["platform"] = [a for a in ("read", "write", "delete") if a != action]
    return str(await new_key(everything, name=f"no-platform-{action}"))


@pytest.mark.parametrize("tool", NAMES)
async def test_tool_fails(tool: str, open_server: Any, sandbox: Any, new_key: Any) -> None:
    """A write with a key that lost the permission is a 403 naming it; a read of an unknown id is the 404
    naming the id; a read without an id, a 403 naming what the key lacks."""
    spec = TOOLS[tool]
    ids = [p.name for p in spec.path_params()]
    async with open_server("platform", key_file=True) as s:
        account = await Account(s).prepare()
        args = account.arguments(tool)
        if spec.permission is not Permission.READ or not ids:
            action = spec.permission.value
            if tool == "platform_search_integrations":  # it needs read on the category it searches
                s.rotate_key(await new_key({"platform": ["read"]}, name="platform-only"))
                needed = f"{CATEGORY.name}:read"
            else:
                s.rotate_key(await _key_without(new_key, action))
                needed = f"platform:{action}"
            before = len(sandbox.requests())
            result = await s.call(tool, args)
            assert result.is_error and needed in text_of(result), text_of(result)
            statuses = [r.status for r in sandbox.requests()[before:] if r.path != "/v1/auth/verify"]
            assert 403 in statuses, statuses
            return
        before = len(sandbox.requests())
        result = await s.call(tool, {**args, ids[-1]: MISSING})
        assert result.is_error and MISSING in text_of(result) and "HTTP 404" in text_of(result), text_of(
            result
        )
        assert [r.status for r in sandbox.requests()[before:]] == [404]


# ---- an account-level service ------------------------------------------------------------------------------


def test_no_tool_takes_an_integration_id() -> None:
    assert [tool.name for tool in SERVICE.all_tools()] == [tool.name for tool in SERVICE.tools]
    for tool in SERVICE.tools:
        assert not tool.needs_integration, tool.name
        properties = input_schema(tool)["properties"]
        assert "integration_id" not in properties, tool.name
        if "integration" in properties:  # the integration a watch belongs to, in the path
            assert tool.path.startswith("/integrations/{integration}"), tool.name
            assert [p.location for p in tool.params if p.name == "integration"] == ["path"]


def test_json_patch_is_the_whole_body_and_secrets_are_write_only() -> None:
    for name in ("platform_update_watch", "platform_update_webhook"):
        (body,) = [p for p in TOOLS[name].params if p.location == "body"]
        assert body.as_body and body.required and body.items == "object" and TOOLS[name].method == "PATCH"
    secrets = {(name, p.wire_name) for name, tool in TOOLS.items() for p in tool.params if p.secret}
    assert secrets == {
        ("platform_create_webhook", "secret"),
        ("platform_create_watch", "resource.config.secret"),
    }


async def test_updates_send_json_patch_lists(open_server: Any, sandbox: Any) -> None:
    async with open_server("platform") as s:
        account = await Account(s).prepare()
        patch = [
            {"op": "replace", "path": "/active", "value": False},
            {"op": "add", "path": "/events/-", "value": OTHER_EVENT},
        ]
        hook = await s.data("platform_update_webhook", {"webhook_id": account.webhook, "operations": patch})
        assert hook["active"] is False and hook["events"] == [f"{NOUN}:*", OTHER_EVENT]
        watch_patch = [
            {"op": "replace", "path": "/resource/config/url", "value": "https://hooks.example.com/2"}
        ]
        watch = await s.data(
            "platform_update_watch",
            {"integration": account.integration, "watch_id": account.watch, "operations": watch_patch},
        )
        assert watch["resource"]["config"]["url"] == "https://hooks.example.com/2"
        assert watch["name"] == "prepared", "paths not named keep their values"
        bad = await s.call(
            "platform_update_webhook",
            {"webhook_id": account.webhook, "operations": [{"op": "replace", "path": "/id", "value": "x"}]},
        )
        assert bad.is_error and "HTTP 400" in text_of(bad) and "[0].path" in text_of(bad)


async def test_a_secret_never_comes_back(open_server: Any, sandbox: Any, caplog: Any) -> None:
    caplog.set_level("DEBUG")
    async with open_server("platform", env={"UNIZO_LOG_LEVEL": "debug"}) as s:
        account = await Account(s).prepare()
        shown = [
            await s.call("platform_get_webhook", {"webhook_id": account.webhook}),
            await s.call("platform_list_webhooks", {"fields": ["*"]}),
            await s.call(
                "platform_get_watch", {"integration": account.integration, "watch_id": account.watch}
            ),
            await s.call("platform_list_watches", {"integration": account.integration, "fields": ["*"]}),
        ]
    for result in shown:
        assert not result.is_error and SECRET not in text_of(result) + str(result.structured_content)
    assert SECRET not in caplog.text


async def test_the_event_type_filter_narrows_webhooks(open_server: Any) -> None:
    async with open_server("platform") as s:
        for name, events in (
            ("nouns", [f"{NOUN}:*"]),
            ("everything", ["*"]),
            ("others", [OTHER_EVENT]),
        ):
            await s.data(
                "platform_create_webhook", {"name": name, "url": HOOK_URL, "events": events, "secret": SECRET}
            )
        kept = await s.data("platform_list_webhooks", {"event_type": EVENT, "sort": "name"})
        assert [hook["name"] for hook in kept] == ["everything", "nouns"]
        other = await s.data("platform_list_webhooks", {"event_type": "PUBLIC"})
        assert [hook["name"] for hook in other] == ["everything"]  # "*" receives every event


async def test_search_spans_categories_and_narrows_by_connector(open_server: Any) -> None:
    async with open_server("platform") as s:
        everything = await s.data("platform_search_integrations", {"limit": 100})
        assert len({item["type"] for item in everything}) >= 3
        jira = await s.data("platform_search_integrations", {"connector": "JIRA"})
        assert jira and {item["connector"] for item in jira} == {"jira"}
        connectors = await s.data("platform_list_services", {"limit": 100})
        assert {(c["type"], c["name"]) for c in connectors} == {
            (i["type"], i["connector"]) for i in everything
        }


async def test_a_ping_reaches_the_receiver_signed(open_server: Any, webhook_receiver: Any) -> None:
    async with open_server("platform") as s:
        hook = await s.data(
            "platform_create_webhook",
            {"name": "rx", "url": webhook_receiver.url + "/ping", "events": ["*"], "secret": SECRET},
        )
        answer = await s.data("platform_create_webhook_action", {"webhook_id": hook["id"], "action": "ping"})
        received = await webhook_receiver.next()
        assert answer["delivery"]["delivered"] is True
        assert received.headers["x-unizo-delivery-id"] == answer["delivery"]["id"]
        assert received.payload["type"] == "webhook:ping"
        again = await s.data(
            "platform_create_webhook_action",
            {"webhook_id": hook["id"], "action": "redeliver", "delivery_id": answer["delivery"]["id"]},
        )
        redelivered = await webhook_receiver.next()
        assert (
            again["delivery"]["id"] == redelivered.headers["x-unizo-delivery-id"] == answer["delivery"]["id"]
        )


# ---- the destructive-tool rules, on the wire ---------------------------------------------------------------


async def test_a_key_without_delete_never_sees_a_delete_tool(open_server: Any, new_key: Any) -> None:
    key = await new_key({"platform": ["read", "write"]}, name="platform-no-delete")
    async with open_server("platform", env={"UNIZO_API_KEY": key}) as s:
        listed = await s.tool_names()
        assert DELETES and not set(DELETES) & set(listed)
        assert sorted(listed) == sorted(name for name in NAMES if name not in DELETES)
        refused = await s.call(DELETES[0], {})
        assert refused.is_error and "platform:delete" in text_of(refused), text_of(refused)


async def test_read_only_hides_every_write_and_delete(open_server: Any) -> None:
    async with open_server("platform", env={"UNIZO_READ_ONLY": "true"}) as s:
        assert await s.tool_names() == READS


async def test_destructive_hint_only_on_deletes(open_server: Any) -> None:
    async with open_server("platform") as s:
        listed = {t.name: t.annotations for t in (await s.client.list_tools()).tools}
    assert sorted(listed) == sorted(NAMES)
    for name, notes in listed.items():
        tool = TOOLS[name]
        assert notes.destructive_hint is (tool.method == "DELETE"), name
        assert notes.read_only_hint is (tool.permission is Permission.READ), name
        assert notes.idempotent_hint is (tool.method in ("GET", "DELETE") or tool.handler != "http"), name


# ---- the command line --------------------------------------------------------------------------------------


def _cli(argv: list[str], env: dict[str, str], capsys: Any) -> tuple[int, str]:
    with preserved_logging(["unizo_mcp"]):
        code = cli.main(SERVICE, argv=argv, environ=env)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def test_verify_connection_passes(sandbox: Any, capsys: Any) -> None:
    env = {k: v for k, v in sandbox.env("full").items() if k != "UNIZO_API_KEY"}
    env[SERVICE.key_variable] = sandbox.keys["full"]
    code, out = await asyncio.to_thread(_cli, ["--verify-connection"], env, capsys)
    assert code == ExitCode.OK, out
    assert sandbox.keys["full"] not in out
