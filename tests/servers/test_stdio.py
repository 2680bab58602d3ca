"""Each server as a desktop client runs it: a subprocess over stdio, with an explicit environment."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from unizo_testkit import initialize_request

from .catalog import ROUTES, SERVICES, tools_of
from .helpers import base_env, script

pytestmark = pytest.mark.slow

READ_CALL = {
    "edr": "edr_list_devices",
    "scm": "scm_list_organizations",
    "ticketing": "ticketing_list_users",
    "observability": "observability_list_logs",
}
CONNECTOR = {"edr": "crowdstrike", "scm": "github", "ticketing": "jira", "observability": "datadog"}


@pytest.mark.parametrize("service", SERVICES)
async def test_stdio_session_lists_tools_and_reads(service, sandbox, tmp_path):
    params = StdioServerParameters(
        command=script(f"unizo-mcp-{service}"), args=[], env=base_env(tmp_path, sandbox.env("full"))
    )
    async with Client(params, read_timeout_seconds=60) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert names == tools_of(service)
        found = await client.call_tool(f"{service}_list_integrations", {"connector": CONNECTOR[service]})
        assert not found.is_error, found.content
        integration = found.structured_content["data"][0]["id"]
        result = await client.call_tool(READ_CALL[service], {"integration_id": integration, "limit": 2})
        assert not result.is_error, result.content
        assert len(result.structured_content["data"]) == 2
        assert result.structured_content["pagination"]["limit"] == 2
    method, path = ROUTES[READ_CALL[service]]
    sent = [(r.method, r.path, r.status, r.integration_id) for r in sandbox.requests()]
    assert (method, "/api/v1" + path, 200, integration) in sent


async def _raw_tools_list(command: str, env: dict[str, str]) -> list[dict[str, Any]]:
    """`tools/list` as raw JSON from the server's stdout, after a plain initialize handshake."""
    proc = await asyncio.create_subprocess_exec(
        command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None

    async def send(message: dict[str, Any]) -> None:
        proc.stdin.write((json.dumps(message) + "\n").encode())
        await proc.stdin.drain()

    async def answer(request_id: int) -> dict[str, Any]:
        while True:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, "the server closed stdout"
            message = json.loads(line)
            if message.get("id") == request_id:
                assert "result" in message, message
                return message["result"]

    try:
        await send(initialize_request("raw-test", "0"))
        await answer(1)
        await send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        await send({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}})
        return (await answer(2))["tools"]
    finally:
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize("service", SERVICES)
async def test_annotations_on_the_wire_match_http_methods(service, sandbox, tmp_path):
    """GET tools are read-only; POST/PUT tools are not; nothing is destructive without DELETE."""
    tools = await _raw_tools_list(script(f"unizo-mcp-{service}"), base_env(tmp_path, sandbox.env("full")))
    assert [t["name"] for t in tools] == tools_of(service)
    for tool in tools:
        method, path = ROUTES[tool["name"]]
        notes = tool["annotations"]
        search = path == "/integrations/search"  # discovery: a search, read-only though it is a POST
        assert notes["readOnlyHint"] is (method == "GET" or search), tool["name"]
        assert notes["destructiveHint"] is (method == "DELETE"), tool["name"]
        assert notes["idempotentHint"] is (method in ("GET", "PUT", "DELETE") or search), tool["name"]
        # left out: the MCP default (true) is what every tool here is (it reaches a vendor through Unizo)
        assert notes.get("openWorldHint", True) is True


async def test_all_in_one_over_stdio_narrowed_by_services_flag(sandbox, tmp_path):
    params = StdioServerParameters(
        command=script("unizo-mcp-server"),
        args=["--services", "edr,scm"],
        env=base_env(tmp_path, sandbox.env("full")),
    )
    async with Client(params, read_timeout_seconds=60) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert sorted(names) == sorted(tools_of("edr") + tools_of("scm"))
        result = await client.call_tool("scm_list_connectors", {})
        assert not result.is_error, result.content
