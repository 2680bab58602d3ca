"""One subprocess per transport through the SDK client, plus raw stdio: stdout carries only JSON-RPC."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp_helpers import base_env, cli_command, closed_port, run_cli, sandbox_env
from unizo_testkit import initialize_request

INIT = initialize_request("raw")


def stdio_params(env: dict[str, str], *args: str, service: str = "EDR") -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=[*cli_command(service), *args], env=base_env(env)
    )


async def test_stdio_session_through_the_sdk_client(sandbox: Any) -> None:
    integration = sandbox.integrations("edr")[0]["id"]
    env = sandbox_env(sandbox, UNIZO_EDR_INTEGRATION_ID=integration)
    async with Client(
        stdio_params(env, "--exclude-tools", "edr_list_device_alerts"), read_timeout_seconds=30
    ) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        listed = await session.call_tool("edr_list_devices", {"limit": 2})
        hidden = await session.call_tool("edr_list_device_alerts", {"device_id": "d"})
    assert names == [
        "edr_list_connectors",
        "edr_list_integrations",
        "edr_list_devices",
        "edr_get_device_details",
    ]
    assert not listed.is_error and len(listed.structured_content["data"]) == 2  # type: ignore[index]
    assert hidden.is_error
    assert hidden.content[0].text == (  # type: ignore[union-attr]
        "edr_list_device_alerts is not available: hidden by --exclude-tools (UNIZO_EXCLUDE_TOOLS)."
    )


async def test_stdio_server_starts_when_the_api_is_unreachable(sandbox: Any) -> None:
    env = sandbox_env(
        sandbox, UNIZO_BASE_URL=f"https://127.0.0.1:{closed_port()}", UNIZO_INTEGRATION_ID="i-1"
    )
    async with Client(stdio_params(env), read_timeout_seconds=30) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        result = await session.call_tool("edr_list_devices", {})
    assert len(names) == 5
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert text.startswith("edr_list_devices failed: ") and "could not connect" in text


@pytest.mark.parametrize(
    ("role", "service", "code", "words"),
    [
        ("expired", "mcp_specs.EDR", 3, "has expired"),
        ("development", "mcp_specs.EDR", 3, "belongs to the development environment"),
        ("edr_only", "mcp_specs.TICKETING", 4, "no permission on the ticketing service"),
    ],
)
def test_startup_refusals_exit_codes(sandbox: Any, role: str, service: str, code: int, words: str) -> None:
    result = run_cli([], sandbox_env(sandbox, role), service=service)
    assert result.code == code, result
    assert result.stdout == ""
    assert words in result.stderr_lines[-1]
    assert sandbox.keys[role] not in result.stderr


def test_raw_stdio_stdout_is_only_json_rpc_at_debug_level(sandbox: Any) -> None:
    key = sandbox.keys["full"]
    integration = sandbox.integrations("edr")[0]["id"]
    env = base_env(
        sandbox_env(
            sandbox, UNIZO_LOG_LEVEL="debug", UNIZO_LOG_AUTH="true", UNIZO_EDR_INTEGRATION_ID=integration
        )
    )
    process = subprocess.Popen(
        [sys.executable, *cli_command()],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert process.stdin is not None and process.stdout is not None
    messages = [
        INIT,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "edr_list_devices", "arguments": {"limit": 1}},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": "edr_get_device_details", "arguments": {"device_id": "missing"}},
        },
        {
            "jsonrpc": "2.0",
            "id": 5,
            "method": "tools/call",
            "params": {"name": "edr_get_device_details", "arguments": {"device_id": "../x"}},
        },
        {"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "nope", "arguments": {}}},
    ]
    replies: dict[int, dict[str, Any]] = {}
    lines: list[str] = []
    try:
        for message in messages:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
            if "id" in message:  # wait for the answer before sending more (in-flight calls die at EOF)
                line = process.stdout.readline()
                lines.append(line)
                reply = json.loads(line)
                replies[reply["id"]] = reply
        rest, stderr = process.communicate(input="", timeout=30)  # EOF: the server exits
    finally:
        if process.poll() is None:
            process.kill()
    lines += rest.splitlines(keepends=True)
    assert process.returncode == 0, stderr
    for line in lines:
        assert line.endswith("\n")
        parsed = json.loads(line)
        assert parsed["jsonrpc"] == "2.0" and (
            "result" in parsed or "error" in parsed or "method" in parsed
        ), line
    assert set(replies) == {1, 2, 3, 4, 5, 6}
    assert replies[3]["result"].get("isError") is not True
    assert (
        replies[4]["result"]["isError"] is True and "HTTP 404" in replies[4]["result"]["content"][0]["text"]
    )
    assert replies[5]["result"]["isError"] is True
    assert "DEBUG unizo_mcp.client" in stderr and "INFO unizo_mcp.auth" in stderr  # the logs went to stderr
    everything = "".join(lines) + stderr
    assert key not in everything and key.split("_")[-1] not in everything


# --- streamable HTTP -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http_server(sandbox_server: Any) -> Iterator[str]:
    """One streamable-HTTP server for this module (the sandbox's seeded keys and ids survive resets)."""
    port = closed_port()
    integration = sandbox_server.integrations("edr")[0]["id"]
    env = base_env(sandbox_env(sandbox_server, UNIZO_EDR_INTEGRATION_ID=integration))
    process = subprocess.Popen(
        [sys.executable, *cli_command(), "--transport", "streamable-http", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()  # type: ignore[union-attr]
    deadline = time.monotonic() + 60
    seen = []
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            pytest.fail(f"server did not start: {seen}")
        seen.append(line)
        if "serving MCP over streamable HTTP at " in line:
            break
    assert f"http://127.0.0.1:{port}/mcp" in line
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        stdout, _ = process.communicate(timeout=15)
        assert stdout == ""


async def test_streamable_http_session(http_server: str) -> None:
    async with Client(http_server, read_timeout_seconds=30) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        result = await session.call_tool("edr_list_devices", {"limit": 1})
    assert "edr_list_devices" in names
    assert not result.is_error and len(result.structured_content["data"]) == 1  # type: ignore[index]


async def test_streamable_http_refuses_foreign_host_and_origin(http_server: str) -> None:
    port = http_server.split(":")[2].split("/")[0]
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with httpx2.AsyncClient(timeout=30) as http:
        host = await http.post(http_server, json=INIT, headers={**headers, "Host": "evil.example"})
        origin = await http.post(http_server, json=INIT, headers={**headers, "Origin": "http://evil.example"})
        rebinding = await http.post(
            http_server, json=INIT, headers={**headers, "Host": f"attacker.example:{port}"}
        )
        allowed = await http.post(
            http_server, json=INIT, headers={**headers, "Origin": f"http://localhost:{port}"}
        )
    assert host.status_code == 421
    assert origin.status_code == 403
    assert rebinding.status_code == 421
    assert allowed.status_code == 200
