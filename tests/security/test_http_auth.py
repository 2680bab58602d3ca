"""Who may use a server over streamable HTTP, and how many users it can serve.

Loopback is not an authentication boundary on a shared machine: by default the server needs a bearer
token (UNIZO_HTTP_TOKEN, or a random one written to a file only the user can read). With
`--auth per-request` each request carries its own Unizo key: one deployment serves many users, each
with their own verification, policy and rate limiter. `--stateless` serves without sessions (replicas
behind a load balancer); idle sessions expire and their number is capped.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from servicekit import a_service, is_top_list, is_write, tools_where
from unizo_mcp_core.errors import ConfigError
from unizo_mcp_core.settings import load_settings
from unizo_mcp_core.transport import check_bind
from unizo_testkit import initialize_request

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
SERVING = re.compile(r"serving MCP over streamable HTTP at (http://\S+/mcp)")
TOKEN_FILE = re.compile(r"the token is in (\S+) \(readable by")
SPEC = a_service(lambda s: any(is_write(t) for t in s.tools))


class HttpServer:
    def __init__(self, process: asyncio.subprocess.Process, url: str, log: list[str]) -> None:
        self.process, self.url, self.log = process, url, log

    @property
    def stderr(self) -> str:
        return "\n".join(self.log)


@asynccontextmanager
async def http_server(env: Mapping[str, str], *args: str) -> AsyncIterator[HttpServer]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    base["XDG_CACHE_HOME"] = os.environ["XDG_CACHE_HOME"]  # the test's own store (conftest.py)
    process = await asyncio.create_subprocess_exec(
        str(BIN / SPEC.package),
        "--transport",
        "streamable-http",
        "--port",
        "0",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**base, **env},
    )
    assert process.stderr is not None
    log: list[str] = []
    url = None
    while url is None:
        line = await asyncio.wait_for(process.stderr.readline(), 60)
        assert line, "the server exited: " + "\n".join(log)
        log.append(line.decode().rstrip())
        if found := SERVING.search(log[-1]):
            url = found.group(1)

    async def drain() -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            log.append(line.decode().rstrip())

    reader = asyncio.create_task(drain())
    try:
        yield HttpServer(process, url, log)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)
        await reader


@asynccontextmanager
async def session(url: str, headers: Mapping[str, str]) -> AsyncIterator[Any]:
    async with (
        httpx2.AsyncClient(headers=dict(headers), timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), mode="legacy") as client,
    ):
        yield client


async def _post_initialize(url: str, headers: Mapping[str, str]) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=30) as http:
        return await http.post(
            url,
            json=initialize_request("raw", "0"),
            headers={"Accept": "application/json, text/event-stream", **headers},
        )


# --- the bearer token ---------------------------------------------------------------------------------


async def test_a_generated_token_is_written_privately_and_required(sandbox: Any) -> None:
    async with http_server(sandbox.env("full")) as server:
        found = TOKEN_FILE.search(server.stderr)
        assert found, server.stderr
        path = Path(found.group(1))
        token = path.read_text().strip()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert token not in server.stderr
        for headers in ({}, {"Authorization": "Bearer garbage-garbage-garbage"}, {"Authorization": token}):
            refused = await _post_initialize(server.url, headers)
            assert refused.status_code == 401, headers
            body = refused.json()
            assert body["jsonrpc"] == "2.0" and body["id"] is None and body["error"]["code"] == -32001
            assert "Unauthorized" in body["error"]["message"] and token not in refused.text
        async with session(server.url, {"Authorization": f"Bearer {token}"}) as client:
            assert [t.name for t in (await client.list_tools()).tools] == [t.name for t in SPEC.all_tools()]
    assert not path.exists(), "the token file is removed when the server stops"


async def test_a_chosen_token_works_and_is_never_logged(sandbox: Any) -> None:
    token = "chosen-token-" + "x" * 24
    async with http_server({**sandbox.env("full"), "UNIZO_HTTP_TOKEN": token}) as server:
        assert (await _post_initialize(server.url, {})).status_code == 401
        async with session(server.url, {"Authorization": f"Bearer {token}"}) as client:
            assert (await client.list_tools()).tools
    assert token not in server.stderr and "the token is in" not in server.stderr


def test_allow_remote_without_a_chosen_token_is_refused() -> None:
    env = {"UNIZO_API_KEY": "uz_prod_0123abcd_" + "R" * 32, "UNIZO_TRANSPORT": "streamable-http"}
    remote = {**env, "UNIZO_HOST": "0.0.0.0", "UNIZO_ALLOW_REMOTE": "true"}
    with pytest.raises(ConfigError, match="without a token you chose"):
        check_bind(load_settings(SPEC.name, remote))
    check_bind(load_settings(SPEC.name, {**remote, "UNIZO_HTTP_TOKEN": "t" * 20}))
    check_bind(load_settings(SPEC.name, {**remote, "UNIZO_HTTP_AUTH": "per-request"}))


# --- one key per request --------------------------------------------------------------------------------


async def test_per_request_keys_each_see_their_own_tools_and_travel_on_the_wire(sandbox: Any) -> None:
    env = {k: v for k, v in sandbox.env("full").items() if k != "UNIZO_API_KEY"}
    full, readonly = sandbox.keys["full"], sandbox.keys["readonly"]
    top = tools_where(SPEC, is_top_list)[0]
    async with http_server(env, "--auth", "per-request") as server:
        refused = await _post_initialize(server.url, {})
        assert refused.status_code == 401 and "your Unizo API key" in refused.json()["error"]["message"]
        seen: dict[str, set[str]] = {}
        for role, key in (("full", full), ("readonly", readonly)):
            async with session(server.url, {"Authorization": f"Bearer {key}"}) as client:
                seen[role] = {t.name for t in (await client.list_tools()).tools}
                sandbox.clear_requests()
                connectors = await client.call_tool(f"{SPEC.name}_list_connectors", {})
                assert not connectors.is_error, connectors.content
                used = {r.key_id for r in sandbox.requests() if r.path.startswith("/api/")}
                assert used == {sandbox.key_id(role)}, (role, used)
        writes = {t.name for t in SPEC.tools if is_write(t)}
        assert writes <= seen["full"] and not writes & seen["readonly"]
        assert top.name in seen["readonly"]
    for key in (full, readonly):
        assert key not in server.stderr and key.split("_")[3] not in server.stderr


async def test_one_user_out_of_allowance_does_not_slow_another(sandbox: Any) -> None:
    """Each key has its own limiter: A spends its whole allowance, B's calls still go straight through
    (with one shared bucket, B would wait for a window of an hour, far past the test's timeout)."""
    env = {k: v for k, v in sandbox.env("full").items() if k != "UNIZO_API_KEY"}
    limits = {"UNIZO_RATE_LIMIT": "2", "UNIZO_RATE_WINDOW": "3600"}
    keys = {"a": sandbox.keys["full"], "b": sandbox.keys["readonly"]}
    async with http_server({**env, **limits}, "--auth", "per-request") as server:
        for user in ("a", "b"):
            async with session(server.url, {"Authorization": f"Bearer {keys[user]}"}) as client:
                for _ in range(2):
                    result = await asyncio.wait_for(client.call_tool(f"{SPEC.name}_list_connectors", {}), 20)
                    assert not result.is_error, (user, result.content)
    assert sandbox.count_429s() == 0


# --- stateless, idle sessions, session cap ---------------------------------------------------------------


async def test_stateless_serves_without_a_session(sandbox: Any) -> None:
    token = "stateless-token-" + "y" * 20
    async with http_server({**sandbox.env("full"), "UNIZO_HTTP_TOKEN": token}, "--stateless") as server:
        answer = await _post_initialize(server.url, {"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert "mcp-session-id" not in {k.lower() for k in answer.headers}
        async with session(server.url, {"Authorization": f"Bearer {token}"}) as client:
            assert (await client.list_tools()).tools


async def test_idle_sessions_expire_and_their_number_is_capped(sandbox: Any) -> None:
    token = "session-token-" + "z" * 20
    env = {
        **sandbox.env("full"),
        "UNIZO_HTTP_TOKEN": token,
        "UNIZO_SESSION_IDLE_TIMEOUT": "1",
        "UNIZO_MAX_SESSIONS": "2",
    }
    headers = {"Authorization": f"Bearer {token}"}
    async with http_server(env) as server:
        opened = [await _post_initialize(server.url, headers) for _ in range(2)]
        ids = [r.headers.get("mcp-session-id") for r in opened]
        assert all(r.status_code == 200 for r in opened) and all(ids)
        third = await _post_initialize(server.url, headers)
        assert third.status_code >= 400, "a third session past UNIZO_MAX_SESSIONS=2 is refused"
        await asyncio.sleep(3)  # past the idle timeout: both sessions are closed
        async with httpx2.AsyncClient(timeout=30) as http:
            listed = await http.post(
                server.url,
                json={"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}},
                headers={
                    **headers,
                    "Accept": "application/json, text/event-stream",
                    "mcp-session-id": ids[0] or "",
                    "mcp-protocol-version": "2025-06-18",
                },
            )
        assert listed.status_code == 404, listed.text
        assert (await _post_initialize(server.url, headers)).status_code == 200, "room again after expiry"


def test_the_token_never_appears_in_print_config(capsys: Any, sandbox: Any) -> None:
    from unizo_mcp_core import cli

    token = "print-token-" + "q" * 20
    env = {**sandbox.env("full"), "UNIZO_HTTP_TOKEN": token, "UNIZO_TRANSPORT": "streamable-http"}
    assert cli.main(SPEC, argv=["--print-config"], environ=env) == 0
    captured = capsys.readouterr()
    assert token not in captured.out + captured.err
    assert "UNIZO_TRANSPORT" in json.loads(captured.out)["mcpServers"][f"unizo-{SPEC.name}"]["env"]
