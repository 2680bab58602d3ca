"""The sandbox's account administration (services/platform.py): connectors, integrations by id, watches and
webhooks with JSON-Patch updates and actions; their validation, the `platform` permission on every path,
write-only secrets, both profiles, and persistence across a restart.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox): fixtures `sandbox`, `sandbox_client`,
`any_sandbox`, `webhook_receiver`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from unizo_mcp_sandbox.services import discover, events
from unizo_mcp_sandbox.testclient import SandboxClient, WebhookReceiver
from unizo_mcp_sandbox.testclient import sandbox_client as open_client
from unizo_mcp_sandbox.testing import SandboxHandle, start_sandbox

Api = SandboxClient
# Categories and events are taken from the sandbox, never named: a category both organizations have, an event,
# another event of another noun, and the category that emits the first.
CATEGORY = next(service for service in discover() if service.second_organization)
EVENT = events()[0]
NOUN = EVENT.split(":", 1)[0]
OTHER_EVENT = next(event for event in events() if not event.startswith(NOUN + ":"))
EMITTER = next(service for service in discover() if EVENT in service.events)
API = "/api/v1"
WEBHOOKS = API + "/webhooks"
SERVICES = API + "/services"
SECRET = "whsec-sandbox-platform-1"  # noqa: S105 - a test value
HOOK = {"name": "hook", "url": "http://127.0.0.1:9/hook", "events": [f"{NOUN}:*"], "secret": SECRET}
WATCH = {
    "name": "repo watch",
    "type": "HOOK",
    "resource": {
        "type": "REPOSITORY",
        "repository": {"id": "42"},
        "config": {"url": "https://hooks.example.com/w", "secret": SECRET, "retryCount": 3},
    },
}


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


def watches(integration: str) -> str:
    return f"{API}/integrations/{integration}/watches"


async def patch(api: Api, path: str, operations: Any, **kw: Any) -> Any:
    return await api.call("PATCH", path, json=operations, **kw)


async def new_key(api: Api, permissions: dict[str, list[str]]) -> str:
    reply = await api.post(API + "/apiKeys", json={"name": "limited", "permissions": permissions})
    assert reply.status == 201, reply.text
    return str(reply.json["key"])


# ---- connectors and integrations ---------------------------------------------------------------------------


async def test_connectors_follow_the_organizations_integrations(api: Api) -> None:
    search = await api.post(API + "/integrations/search", json={"pagination": {"limit": 1000}})
    integrations = search.json["data"]
    reply = await api.get(SERVICES, params={"limit": "100", "sort": "type,name"})
    assert reply.status == 200, reply.text
    connectors = reply.json["data"]
    assert {(c["type"], c["name"]) for c in connectors} == {
        (i["type"], i["serviceProfile"]["name"]) for i in integrations
    }
    assert [(c["type"], c["name"]) for c in connectors] == sorted((c["type"], c["name"]) for c in connectors)
    first = connectors[0]
    assert set(first) >= {"id", "type", "name", "state", "serviceProfile", "organization", "changeLog"}
    assert (await api.get(f"{SERVICES}/{first['id']}")).json == first
    assert (await api.get(f"{SERVICES}/nope")).status == 404
    beta = await api.get(SERVICES, role="service_disabled", params={"limit": "100"})
    assert all(item["integrationCount"] == 1 for item in beta.json["data"])
    assert len(beta.json["data"]) < len(connectors)


async def test_an_integration_is_served_by_id_in_its_organization_only(api: Api) -> None:
    integration = api.integration(CATEGORY.name)
    reply = await api.get(f"{API}/integrations/{integration}")
    assert reply.status == 200 and reply.json["id"] == integration and reply.json["type"] == CATEGORY.category
    other = await api.get(f"{API}/integrations/{integration}", role="service_disabled")
    assert (other.status, other.error["errorCode"]) == (404, "AP-4040002")
    search = await api.post(API + "/integrations/search", json={})
    assert search.status == 200, "the search shares the path segment and keeps its own permission rules"


@pytest.mark.parametrize(
    ("method", "suffix", "action"),
    [("GET", "", "read"), ("GET", "/watches", "read"), ("POST", "/watches", "write")],
)
async def test_integration_paths_need_platform_permissions(
    api: Api, method: str, suffix: str, action: str
) -> None:
    key = await new_key(api, {CATEGORY.name: ["read", "write", "delete"]})
    path = f"{API}/integrations/{api.integration(CATEGORY.name)}{suffix}"
    reply = await api.call(method, path, role=None, key=key, json=WATCH if method == "POST" else None)
    assert reply.status == 403 and f"platform:{action}" in reply.error["errorMessage"]


# ---- watches -----------------------------------------------------------------------------------------------


async def test_a_watch_is_created_read_patched_and_deleted(api: Api) -> None:
    path = watches(api.integration(CATEGORY.name))
    created = await api.post(path, json=WATCH)
    assert created.status == 201, created.text
    watch = created.json
    assert SECRET not in created.text and watch["state"] == "ACTIVE"
    assert watch["resource"]["config"] == {"url": "https://hooks.example.com/w", "retryCount": 3}
    assert (await api.get(f"{path}/{watch['id']}")).json == watch
    assert [item["id"] for item in (await api.get(path)).json["data"]] == [watch["id"]]
    ops = [
        {"op": "replace", "path": "/resource/config/url", "value": "https://hooks.example.com/v2"},
        {"op": "add", "path": "/description", "value": "moved"},
        {"op": "replace", "path": "/resource/config/secret", "value": "another-secret-value"},
    ]
    patched = await patch(api, f"{path}/{watch['id']}", ops)
    assert patched.status == 200, patched.text
    assert patched.json["resource"]["config"]["url"] == "https://hooks.example.com/v2"
    assert patched.json["description"] == "moved" and patched.json["name"] == "repo watch"
    assert "another-secret-value" not in patched.text
    assert (await api.delete(f"{path}/{watch['id']}", role="readonly")).status == 403
    assert (await api.delete(f"{path}/{watch['id']}")).status == 204
    assert (await api.get(f"{path}/{watch['id']}")).status == 404


@pytest.mark.parametrize(
    ("change", "property"),
    [
        ({"name": None}, "name"),
        ({"type": "PUSH"}, "type"),
        ({"resource": None}, "resource"),
        ({"resource": {"type": "DRIVE"}}, "resource.type"),
        ({"resource": {"type": "REPOSITORY", "repository": {}}}, "resource.repository.id"),
        ({"resource": {"type": "REPOSITORY", "config": {"secret": "s3cret-value"}}}, "resource.config.url"),
        ({"resource": {"type": "REPOSITORY", "config": {"url": "ftp://x"}}}, "resource.config.url"),
        (
            {"resource": {"type": "REPOSITORY", "config": {"url": "https://x", "timeout": 0}}},
            "resource.config.timeout",
        ),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_watch_bodies_are_validated(api: Api, change: dict[str, Any], property: str) -> None:
    body = {key: value for key, value in {**WATCH, **change}.items() if value is not None}
    reply = await api.post(watches(api.integration(CATEGORY.name)), json=body)
    assert (reply.status, reply.error["property"]) == (400, property), reply.text


# ---- JSON-Patch --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operations", "property"),
    [
        ([], "body"),
        ({"op": "replace", "path": "/name", "value": "x"}, "body"),
        (["replace"], "[0]"),
        ([{"op": "move", "path": "/name", "from": "/url"}], "[0].from"),
        ([{"op": "copy", "path": "/name"}], "[0].op"),
        ([{"op": "replace", "path": "name", "value": "x"}], "[0].path"),
        ([{"op": "replace", "path": "/id", "value": "x"}], "[0].path"),
        ([{"op": "replace", "path": "/createdAt", "value": "x"}], "[0].path"),
        ([{"op": "replace", "path": "/name"}], "[0].value"),
        ([{"op": "remove", "path": "/events/7"}], "[0].path"),
        ([{"op": "test", "path": "/name", "value": "other"}], "[0].value"),
        ([{"op": "replace", "path": "/url", "value": "https://example.com/hook"}], "url"),
        ([{"op": "remove", "path": "/secret"}], "secret"),
        ([{"op": "replace", "path": "/events", "value": []}], "events"),
        ([{"op": "add", "path": "/events/-", "value": f"{NOUN}:exploded"}], "events[1]"),
    ],
)
async def test_bad_patches_are_refused_naming_the_operation(api: Api, operations: Any, property: str) -> None:
    hook = (await api.post(WEBHOOKS, json=HOOK)).json
    reply = await patch(api, f"{WEBHOOKS}/{hook['id']}", operations)
    assert (reply.status, reply.error["property"]) == (400, property), reply.text
    assert (await api.get(f"{WEBHOOKS}/{hook['id']}")).json == hook, "a refused patch changes nothing"


async def test_a_patch_applies_its_operations_in_order(api: Api) -> None:
    hook = (await api.post(WEBHOOKS, json=HOOK)).json
    operations = [
        {"op": "test", "path": "/name", "value": "hook"},
        {"op": "add", "path": "/events/0", "value": OTHER_EVENT},
        {"op": "remove", "path": "/events/1"},
        {"op": "replace", "path": "/active", "value": False},
        {"op": "replace", "path": "/description", "value": "paused"},
    ]
    reply = await patch(api, f"{WEBHOOKS}/{hook['id']}", operations)
    assert reply.status == 200, reply.text
    changed = reply.json
    assert (changed["events"], changed["active"], changed["description"]) == (
        [OTHER_EVENT],
        False,
        "paused",
    )
    assert (await api.get(f"{WEBHOOKS}/{hook['id']}")).json == changed
    assert (await patch(api, f"{WEBHOOKS}/{hook['id']}", operations[:1], role="readonly")).status == 403


# ---- webhook actions ---------------------------------------------------------------------------------------


async def test_test_ping_and_redeliver(api: Api, webhook_receiver: WebhookReceiver) -> None:
    hook = (await api.post(WEBHOOKS, json={**HOOK, "url": webhook_receiver.url + "/actions"})).json
    actions = f"{WEBHOOKS}/{hook['id']}/actions"
    tested = await api.post(actions, json={"action": "test"})
    assert tested.status == 200, tested.text
    received = await webhook_receiver.next()
    assert received.payload["type"].startswith(NOUN + ":") and received.payload["data"]["test"] is True
    assert received.payload["integration"]["type"] == EMITTER.category
    assert tested.json["delivery"] == {
        "id": received.headers["x-unizo-delivery-id"], "webhookId": hook["id"],
        "eventType": received.payload["type"], "attempts": 1, "delivered": True, "responseStatus": 204,
        "error": None,
    }  # fmt: skip
    again = await api.post(
        actions, json={"action": "redeliver", "delivery_id": tested.json["delivery"]["id"]}
    )
    assert again.status == 200
    redelivered = await webhook_receiver.next()
    assert redelivered.body == received.body
    missing = await api.post(actions, json={"action": "redeliver"})
    assert (missing.status, missing.error["property"]) == (400, "delivery_id")
    unknown = await api.post(actions, json={"action": "redeliver", "delivery_id": "nope"})
    assert (unknown.status, unknown.error["errorMessage"]) == (404, "delivery 'nope' was not found")
    wrong = await api.post(actions, json={"action": "reboot"})
    assert (wrong.status, wrong.error["property"]) == (400, "action")
    refused = await api.post(actions, role="readonly", json={"action": "ping"})
    assert refused.status == 403 and "platform:write" in refused.error["errorMessage"]


async def test_an_unreachable_receiver_is_reported_not_raised(api: Api) -> None:
    hook = (await api.post(WEBHOOKS, json=HOOK)).json
    reply = await api.post(f"{WEBHOOKS}/{hook['id']}/actions", json={"action": "ping"})
    assert reply.status == 200
    delivery = reply.json["delivery"]
    assert (delivery["delivered"], delivery["attempts"], delivery["responseStatus"]) == (False, 4, None)
    assert delivery["error"]


# ---- both profiles, persistence ----------------------------------------------------------------------------


async def test_both_profiles_serve_the_account_apis(any_sandbox: SandboxHandle) -> None:
    async with open_client(any_sandbox) as api:
        hook = (await api.post(WEBHOOKS, json=HOOK)).json
        assert (
            await patch(api, f"{WEBHOOKS}/{hook['id']}", [{"op": "replace", "path": "/name", "value": "x"}])
        ).status == 200
        assert (await api.get(SERVICES)).status == 200
        path = watches(api.integration(CATEGORY.name))
        assert (await api.post(path, json=WATCH)).status == 201
        refused = await api.get(path, role="service_disabled")
        assert refused.status == 404


async def test_watches_and_patched_webhooks_survive_a_restart(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        async with open_client(handle) as api:
            path = watches(api.integration(CATEGORY.name))
            watch = (await api.post(path, json=WATCH)).json
            hook = (await api.post(WEBHOOKS, json=HOOK)).json
            await patch(
                api, f"{WEBHOOKS}/{hook['id']}", [{"op": "replace", "path": "/description", "value": "kept"}]
            )
        handle.restart()
        async with open_client(handle) as api:
            assert (await api.get(f"{path}/{watch['id']}")).json == watch
            assert (await api.get(f"{WEBHOOKS}/{hook['id']}")).json["description"] == "kept"
