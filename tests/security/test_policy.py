"""Policy: hidden tools are refused when called by name; the tool list is the same in every session.

Tools can be hidden by the key's permissions (read-only key, a key limited to one service), by
--read-only and by --exclude-tools / --tools. A hidden tool must not be listed, and calling it by name
(as a client with a stale list, or a prompt-injected model, would) must be refused with the rule that
hid it, before anything reaches the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from unizo_mcp_core.spec import Permission

from .support import SERVERS, all_tools, base_env, body_value, inprocess_client, stdio_client, text_of


def call_args(tool: Any, integration: str) -> dict[str, Any]:
    args: dict[str, Any] = {p.name: "id-1" for p in tool.path_params()}
    args.update({p.name: body_value(p) for p in tool.params if p.required and p.location != "path"})
    if tool.needs_integration:
        args["integration_id"] = integration
    return args


async def assert_hidden_refused(client: Any, server: str, sandbox: Any, hidden: set[str], rule: str) -> None:
    """None of `hidden` is listed; each is refused by name, naming `rule`; nothing reaches the API."""
    listed = {t.name for t in (await client.list_tools()).tools}
    assert hidden, "nothing to check: the configuration hides no tool"
    assert not hidden & listed, f"hidden tools are listed: {sorted(hidden & listed)}"
    sandbox.clear_requests()
    for spec, tool in all_tools(server):
        if tool.name not in hidden:
            continue
        integration = sandbox.integrations(spec.name)[0]["id"] if spec.name != "observability" else "x"
        result = await client.call_tool(tool.name, call_args(tool, integration))
        text = text_of(result)
        assert result.is_error, f"{tool.name} was executed although hidden"
        assert tool.name in text and "not available" in text and rule in text, text
    assert sandbox.requests() == [], [r.raw_path for r in sandbox.requests()]


def write_tools(server: str) -> set[str]:
    return {t.name for _s, t in all_tools(server) if t.permission is not Permission.READ}


@pytest.mark.parametrize("server", ["ticketing", "scm", "server"])
async def test_read_only_key_hides_and_refuses_writes(server: str, sandbox: Any) -> None:
    async with inprocess_client(server, sandbox.env("readonly")) as (client, _server):
        await assert_hidden_refused(client, server, sandbox, write_tools(server), "permissions")
        listed = {t.name for t in (await client.list_tools()).tools}
        assert listed == {t.name for _s, t in all_tools(server)} - write_tools(server)


async def test_service_limited_key_hides_other_services(sandbox: Any) -> None:
    """A key with permissions on EDR only, on the all-in-one server: every other service is hidden."""
    async with inprocess_client("server", sandbox.env("edr_only")) as (client, _server):
        others = {t.name for s, t in all_tools("server") if s.name != "edr"}
        await assert_hidden_refused(client, "server", sandbox, others, "permissions")


@pytest.mark.parametrize("server", list(SERVERS))
async def test_read_only_setting_hides_and_refuses_writes(server: str, sandbox: Any) -> None:
    env = {**sandbox.env("full"), "UNIZO_READ_ONLY": "true"}
    async with inprocess_client(server, env) as (client, _server):
        listed = {t.name for t in (await client.list_tools()).tools}
        assert listed == {t.name for _s, t in all_tools(server)} - write_tools(server)
        if write_tools(server):
            await assert_hidden_refused(client, server, sandbox, write_tools(server), "--read-only")


async def test_exclude_and_allow_lists_refuse_by_name(sandbox: Any) -> None:
    excluded = {"edr_get_device_details", "ticketing_create_ticket", "scm_list_connectors"}
    env = {**sandbox.env("full"), "UNIZO_EXCLUDE_TOOLS": ",".join(sorted(excluded))}
    async with inprocess_client("server", env) as (client, _server):
        await assert_hidden_refused(client, "server", sandbox, excluded, "--exclude-tools")
    allowed = {"edr_list_devices", "ticketing_list_tickets"}
    env = {**sandbox.env("full"), "UNIZO_TOOLS": ",".join(sorted(allowed))}
    async with inprocess_client("server", env) as (client, _server):
        others = {t.name for _s, t in all_tools("server")} - allowed
        await assert_hidden_refused(client, "server", sandbox, others, "--tools")
    # exclusion wins over the allow-list
    env = {
        **sandbox.env("full"),
        "UNIZO_TOOLS": "edr_list_devices",
        "UNIZO_EXCLUDE_TOOLS": "edr_list_devices",
    }
    async with inprocess_client("server", env) as (client, _server):
        await assert_hidden_refused(client, "server", sandbox, {"edr_list_devices"}, "--exclude-tools")


@pytest.mark.slow
async def test_cli_flags_hide_and_refuse_over_stdio(sandbox: Any, tmp_path: Path) -> None:
    """The same through the real console script and its flags."""
    env = base_env(tmp_path, sandbox.env("full"))
    args = ["--read-only", "--exclude-tools", "edr_get_device_details,scm_list_organizations"]
    async with stdio_client("server", env, tmp_path, args) as client:
        hidden = write_tools("server")
        await assert_hidden_refused(client, "server", sandbox, hidden, "--read-only")
        await assert_hidden_refused(
            client, "server", sandbox, {"edr_get_device_details", "scm_list_organizations"}, "--exclude-tools"
        )


def tool_list_dump(result: Any) -> list[dict[str, Any]]:
    return [tool.model_dump(mode="json") for tool in result.tools]


@pytest.mark.slow
async def test_tool_list_identical_across_sessions(sandbox: Any, tmp_path: Path) -> None:
    """A stdio session, two in-process sessions on one server and one on a new server: the same list
    (and for a read-only key, its own list in every session)."""
    env = base_env(tmp_path, sandbox.env("full"))
    lists = []
    async with stdio_client("server", env, tmp_path) as client:
        lists.append(tool_list_dump(await client.list_tools()))
        lists.append(tool_list_dump(await client.list_tools(cache_mode="refresh")))
    for role in ("full", "readonly"):
        role_lists = [] if role != "full" else lists
        async with inprocess_client("server", sandbox.env(role)) as (client, server):
            role_lists.append(tool_list_dump(await client.list_tools()))
            async with Client(server.mcp) as second:
                role_lists.append(tool_list_dump(await second.list_tools()))
        async with inprocess_client("server", sandbox.env(role)) as (client, _server):
            role_lists.append(tool_list_dump(await client.list_tools()))
        assert role_lists[0], "empty tool list"
        for other in role_lists[1:]:
            assert other == role_lists[0]
