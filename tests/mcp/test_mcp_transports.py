"""The real processes: stdio through the SDK client and raw (stdout carries only JSON-RPC), and streamable
HTTP on a port of its own. Startup refusals run the CLI in process (the exit code is `main`'s return value).
"""

from __future__ import annotations

import asyncio
import json
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_helpers import base_env, closed_port, other_service, run_main, sandbox_env, server_command
from servicekit import a_service, is_get, is_top_list, tools_where
from unizo_mcp_core import transport
from unizo_mcp_core.spec import ServiceSpec, ToolSpec
from unizo_testkit import initialize_request

INIT = initialize_request("raw")


def served_service() -> tuple[ServiceSpec, ToolSpec, ToolSpec]:
    """A service with a top-level list and a get by one id: (service, list tool, get tool)."""

    def fits(spec: ServiceSpec) -> bool:
        return bool(tools_where(spec, is_top_list)) and any(
            len(t.path_params()) == 1 for t in tools_where(spec, is_get)
        )

    spec = a_service(fits)
    getter = next(t for t in tools_where(spec, is_get) if len(t.path_params()) == 1)
    return spec, tools_where(spec, is_top_list)[0], getter


SPEC, LISTER, GETTER = served_service()


def stdio_params(env: dict[str, str], *args: str) -> StdioServerParameters:
    command, *rest = server_command(SPEC)
    return StdioServerParameters(command=command, args=[*rest, *args], env=base_env(env))


@pytest.mark.slow
async def test_stdio_session_through_the_sdk_client(sandbox: Any) -> None:
    integration = sandbox.integrations(SPEC.name)[0]["id"]
    hidden = next(t for t in reversed(SPEC.all_tools()) if t not in (LISTER, GETTER))
    env = sandbox_env(sandbox, UNIZO_INTEGRATION_ID=integration)
    async with Client(stdio_params(env, "--exclude-tools", hidden.name), read_timeout_seconds=30) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        listed = await session.call_tool(LISTER.name, {"limit": 2})
        refused = await session.call_tool(hidden.name, {})
    assert names == [t.name for t in SPEC.all_tools() if t is not hidden]
    assert not listed.is_error and len(listed.structured_content["data"]) == 2  # type: ignore[index]
    assert refused.is_error
    assert refused.content[0].text == (  # type: ignore[union-attr]
        f"{hidden.name} is not available: hidden by --exclude-tools (UNIZO_EXCLUDE_TOOLS)."
    )


def test_server_starts_when_the_api_is_unreachable(
    sandbox: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's serving path, in process: the stdio loop itself is replaced by an in-memory client
    session (the stdio transport is what the real-process tests above and below check)."""
    seen: dict[str, Any] = {}

    async def session_instead_of_stdio(server: Any) -> None:
        async with Client(server.mcp) as session:
            seen["names"] = [t.name for t in (await session.list_tools()).tools]
            seen["result"] = await session.call_tool(LISTER.name, {})

    monkeypatch.setattr(transport, "serve_stdio", session_instead_of_stdio)
    env = sandbox_env(
        sandbox, UNIZO_BASE_URL=f"https://127.0.0.1:{closed_port()}", UNIZO_INTEGRATION_ID="i-1"
    )
    run = run_main(capsys, SPEC, [], env)
    assert run.code == 0, run
    assert run.stdout == ""
    assert "failed: could not connect" in run.stderr and "Starting anyway" in run.stderr, run.stderr
    assert seen["names"] == [t.name for t in SPEC.all_tools()]
    result = seen["result"]
    assert result.is_error
    text = result.content[0].text
    assert text.startswith(f"{LISTER.name} failed: ") and "could not connect" in text


@pytest.mark.parametrize(
    ("role", "code", "words"),
    [
        ("expired", 3, "has expired"),
        ("development", 3, "belongs to the development environment"),
        ("no permission", 4, "no permission on the {service} service"),
    ],
)
def test_startup_refusals_exit_codes(
    sandbox: Any, new_key: Any, capsys: pytest.CaptureFixture[str], role: str, code: int, words: str
) -> None:
    if role == "no permission":  # a key with every permission on another service only
        other = other_service(SPEC)
        key = asyncio.run(new_key({other.name: ["read", "write", "delete"]}))
        env = sandbox_env(sandbox, UNIZO_API_KEY=key)
    else:
        key, env = sandbox.keys[role], sandbox_env(sandbox, role)
    result = run_main(capsys, SPEC, [], env)
    assert result.code == code, result
    assert result.stdout == ""
    assert words.format(service=SPEC.name) in result.stderr_lines[-1]
    assert key not in result.stderr


@pytest.mark.slow
def test_raw_stdio_stdout_is_only_json_rpc_at_debug_level(sandbox: Any) -> None:
    key = sandbox.keys["full"]
    integration = sandbox.integrations(SPEC.name)[0]["id"]
    env = base_env(
        sandbox_env(sandbox, UNIZO_LOG_LEVEL="debug", UNIZO_LOG_AUTH="true", UNIZO_INTEGRATION_ID=integration)
    )
    process = subprocess.Popen(
        server_command(SPEC),
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert process.stdin is not None and process.stdout is not None
    param = GETTER.path_params()[0].name
    messages = [
        INIT,
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": LISTER.name, "arguments": {"limit": 1}},
        },
        {
            "jsonrpc": "2.0",
            "id": 4,
            "method": "tools/call",
            "params": {"name": GETTER.name, "arguments": {param: "missing"}},
        },
        {
            "jsonrpc": "2.0",
            "id": 5,
            "method": "tools/call",
            "params": {"name": GETTER.name, "arguments": {param: "../x"}},
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


def start_http_server(env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    """The server on a free port; another try on another port if that one was taken in the meantime."""
    for _ in range(3):
        port = closed_port()
        process = subprocess.Popen(
            [*server_command(SPEC), "--transport", "streamable-http", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def pump(stream: Any = process.stderr, lines: queue.Queue[str | None] = lines) -> None:
            for line in stream:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 60
        seen: list[str] = []
        while True:
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                process.kill()
                pytest.fail(f"server did not start: {seen}")
            if line is None:  # exited: the port was taken, or a real failure (reported below)
                process.wait(timeout=15)
                break
            seen.append(line)
            if "serving MCP over streamable HTTP at " in line:
                assert f"http://127.0.0.1:{port}/mcp" in line
                return process, port
    pytest.fail(f"server did not start: {seen}")


HTTP_TOKEN = "transport-test-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {HTTP_TOKEN}"}


@pytest.fixture(scope="module")
def http_server(sandbox_server: Any) -> Iterator[str]:
    """One streamable-HTTP server for this module (the sandbox's seeded keys and ids survive resets)."""
    integration = sandbox_server.integrations(SPEC.name)[0]["id"]
    env = sandbox_env(sandbox_server, UNIZO_INTEGRATION_ID=integration, UNIZO_HTTP_TOKEN=HTTP_TOKEN)
    process, port = start_http_server(base_env(env))
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        stdout, _ = process.communicate(timeout=15)
        assert stdout == ""


@pytest.mark.slow
async def test_streamable_http_session(http_server: str) -> None:
    async with (
        httpx2.AsyncClient(headers=BEARER, timeout=30) as http,
        Client(streamable_http_client(http_server, http_client=http), read_timeout_seconds=30) as session,
    ):
        names = [t.name for t in (await session.list_tools()).tools]
        result = await session.call_tool(LISTER.name, {"limit": 1})
    assert LISTER.name in names
    assert not result.is_error and len(result.structured_content["data"]) == 1  # type: ignore[index]


@pytest.mark.slow
async def test_streamable_http_refuses_foreign_host_and_origin(http_server: str) -> None:
    port = http_server.split(":")[2].split("/")[0]
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json", **BEARER}
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
