"""Policy: hidden tools are refused when called by name; the tool list is the same in every session.

Tools can be hidden by the key's permissions (read-only key, a key limited to one service), by
--read-only and by --exclude-tools / --tools. A hidden tool must not be listed, and calling it by name
(as a client with a stale list, or a prompt-injected model, would) must be refused with the rule that
hid it, before anything reaches the API.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from servicekit import has_writes, is_get, is_write

from .calls import discovery_tool, plain_args
from .conftest import StdioServer
from .support import (
    ALL_IN_ONE,
    SERVERS,
    SERVICES,
    all_tools,
    inprocess_client,
    listable,
    specs_of,
    text_of,
    top_list,
)


async def assert_hidden_refused(client: Any, server: str, sandbox: Any, hidden: set[str], rule: str) -> None:
    """None of `hidden` is listed; each is refused by name, naming `rule`; nothing reaches the API."""
    listed = {t.name for t in (await client.list_tools()).tools}
    assert hidden, "nothing to check: the configuration hides no tool"
    assert not hidden & listed, f"hidden tools are listed: {sorted(hidden & listed)}"
    sandbox.clear_requests()
    integrations: dict[str, str] = {}
    for spec, tool in all_tools(server):
        if tool.name not in hidden:
            continue
        if spec.name not in integrations and spec.discovery:
            integrations[spec.name] = sandbox.integrations(spec.name)[0]["id"]
        result = await client.call_tool(
            tool.name, plain_args(spec, tool, integration=integrations.get(spec.name))
        )
        text = text_of(result)
        assert result.is_error, f"{tool.name} was executed although hidden"
        assert tool.name in text and "not available" in text and rule in text, text
    assert sandbox.requests() == [], [r.raw_path for r in sandbox.requests()]


def write_tools(server: str) -> set[str]:
    return {t.name for _s, t in all_tools(server) if is_write(t)}


WRITING_SERVERS = [server for server in SERVERS if any(has_writes(spec) for spec in specs_of(server))]


@pytest.mark.parametrize("server", WRITING_SERVERS)
async def test_read_only_key_hides_and_refuses_writes(server: str, sandbox: Any) -> None:
    async with inprocess_client(server, sandbox.env("readonly")) as (client, _server):
        await assert_hidden_refused(client, server, sandbox, write_tools(server), "permissions")
        listed = {t.name for t in (await client.list_tools()).tools}
        assert listed == {t.name for _s, t in all_tools(server)} - write_tools(server)


async def test_service_limited_key_hides_other_services(sandbox: Any, new_key: Any) -> None:
    """A key with every permission on one service only, on the all-in-one server: the others are hidden."""
    kept = SERVICES[0]
    env = {**sandbox.env("full"), "UNIZO_API_KEY": await new_key({kept.name: ["read", "write", "delete"]})}
    async with inprocess_client(ALL_IN_ONE, env) as (client, _server):
        listed = {t.name for t in (await client.list_tools()).tools}
        assert listed == {t.name for t in kept.all_tools()}
        others = {t.name for s, t in all_tools(ALL_IN_ONE) if s.name != kept.name}
        await assert_hidden_refused(client, ALL_IN_ONE, sandbox, others, "permissions")


def some_tools() -> tuple[set[str], set[str]]:
    """(to exclude: a get, a write and a discovery tool, of different services where there are several;
    to allow: the first list tool of the first and of the last service)."""
    listing = [spec for spec in SERVICES if listable(spec)]
    first, last = listing[0], listing[-1]
    get = next(t for s in SERVICES for t in s.tools if is_get(t))
    write = next(t for s in reversed(SERVICES) for t in s.tools if is_write(t))
    excluded = {get.name, write.name, discovery_tool(last, "connectors").name}
    return excluded, {top_list(first).name, top_list(last).name}


async def test_exclude_and_allow_lists_refuse_by_name(sandbox: Any) -> None:
    excluded, allowed = some_tools()
    env = {**sandbox.env("full"), "UNIZO_EXCLUDE_TOOLS": ",".join(sorted(excluded))}
    async with inprocess_client(ALL_IN_ONE, env) as (client, _server):
        await assert_hidden_refused(client, ALL_IN_ONE, sandbox, excluded, "--exclude-tools")
    env = {**sandbox.env("full"), "UNIZO_TOOLS": ",".join(sorted(allowed))}
    async with inprocess_client(ALL_IN_ONE, env) as (client, _server):
        others = {t.name for _s, t in all_tools(ALL_IN_ONE)} - allowed
        await assert_hidden_refused(client, ALL_IN_ONE, sandbox, others, "--tools")
    # exclusion wins over the allow-list
    both = sorted(allowed)[0]
    env = {**sandbox.env("full"), "UNIZO_TOOLS": both, "UNIZO_EXCLUDE_TOOLS": both}
    async with inprocess_client(ALL_IN_ONE, env) as (client, _server):
        await assert_hidden_refused(client, ALL_IN_ONE, sandbox, {both}, "--exclude-tools")


@pytest.mark.parametrize("server", list(SERVERS))
async def test_read_only_setting_hides_and_refuses_writes(server: str, sandbox: Any) -> None:
    env = {**sandbox.env("full"), "UNIZO_READ_ONLY": "true"}
    async with inprocess_client(server, env) as (client, _server):
        listed = {t.name for t in (await client.list_tools()).tools}
        assert listed == {t.name for _s, t in all_tools(server)} - write_tools(server)
        if write_tools(server):
            await assert_hidden_refused(client, server, sandbox, write_tools(server), "--read-only")


async def test_cli_flags_hide_and_refuse(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same through the all-in-one console script's command line: the CLI parses the flags and
    builds the settings and services it would serve (in process: only the stdio transport, which other
    suites drive, is left out), and the server built from them hides and refuses."""
    from unizo_mcp_core import cli, transport
    from unizo_mcp_core.server import prepare_server

    reads = [t.name for s in SERVICES for t in s.tools if not is_write(t)]
    excluded = {reads[0], reads[-1]}
    served: dict[str, Any] = {}

    def serve(settings: Any, services: Any, **options: Any) -> int:
        served.update(settings=settings, services=services, options=options)
        return 0

    monkeypatch.setattr(transport, "serve", serve)
    argv = ["--read-only", "--exclude-tools", ",".join(sorted(excluded))]
    assert cli.main(None, argv=argv, environ=sandbox.env("full")) == 0
    server = await prepare_server(served["settings"], served["services"], **served["options"])
    try:
        async with Client(server.mcp) as client:
            await assert_hidden_refused(client, ALL_IN_ONE, sandbox, write_tools(ALL_IN_ONE), "--read-only")
            await assert_hidden_refused(client, ALL_IN_ONE, sandbox, excluded, "--exclude-tools")
    finally:
        await server.aclose()


def tool_list_dump(result: Any) -> list[dict[str, Any]]:
    return [tool.model_dump(mode="json") for tool in result.tools]


@pytest.mark.slow
async def test_tool_list_identical_across_sessions(sandbox: Any, stdio_servers: Any) -> None:
    """A stdio session, two in-process sessions on one server and one on a new server: the same list
    (and for a read-only key, its own list in every session)."""
    stdio: StdioServer = stdio_servers[ALL_IN_ONE]
    lists = [tool_list_dump(stdio.list_tools()), tool_list_dump(stdio.list_tools(cache_mode="refresh"))]
    for role in ("full", "readonly"):
        role_lists = [] if role != "full" else lists
        async with inprocess_client(ALL_IN_ONE, sandbox.env(role)) as (client, server):
            role_lists.append(tool_list_dump(await client.list_tools()))
            async with Client(server.mcp) as second:
                role_lists.append(tool_list_dump(await second.list_tools()))
        async with inprocess_client(ALL_IN_ONE, sandbox.env(role)) as (client, _server):
            role_lists.append(tool_list_dump(await client.list_tools()))
        assert role_lists[0], "empty tool list"
        for other in role_lists[1:]:
            assert other == role_lists[0]
