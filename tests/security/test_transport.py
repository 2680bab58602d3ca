"""Transport: plain http refused, unknown CAs refused with the TLS hint, loopback-only HTTP serving,
foreign Host/Origin headers refused on streamable HTTP."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
from servicekit import a_service
from unizo_mcp_core import cli
from unizo_testkit import initialize_request

from .calls import discovery_tool
from .support import (
    ALL_IN_ONE,
    SERVERS,
    base_env,
    inprocess_client,
    listable,
    script,
    server_of,
    specs_of,
    text_of,
    top_list,
)

pytestmark = pytest.mark.slow

TLS_HINT = "UNIZO_CA_BUNDLE"
SPEC = a_service(listable)  # the single-service server the checks below run (the core's, in every server)
SERVER = server_of(SPEC)


async def run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float = 90) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=str(cwd),
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- http:// ---------------------------------------------------------------------------------------


def refused_plain_http(code: int, out: str, err: str) -> None:
    assert code == 2, err
    assert "UNIZO_BASE_URL" in err and "https" in err, err
    assert out == ""


def test_plain_http_base_url_refused_by_every_server(sandbox: Any, capfd: pytest.CaptureFixture[str]) -> None:
    """Every server's CLI, in this process (the console scripts run exactly this `main`; the two
    subprocess runs below check one script of each kind end to end)."""
    plain = sandbox.base_url.replace("https://", "http://")
    env = {**sandbox.env("full"), "UNIZO_BASE_URL": plain}
    for server in SERVERS:
        service = None if server == ALL_IN_ONE else specs_of(server)[0]
        for argv, environ in (([], env), (["--base-url", plain], sandbox.env("full"))):
            capfd.readouterr()
            code = cli.main(service, argv=argv, environ=environ)
            refused_plain_http(code, *capfd.readouterr())
    assert sandbox.requests() == [], "a server sent something to the plain-http URL"


async def test_plain_http_base_url_refused_by_the_console_scripts(sandbox: Any, tmp_path: Path) -> None:
    plain = sandbox.base_url.replace("https://", "http://")
    env = base_env(tmp_path, {**sandbox.env("full"), "UNIZO_BASE_URL": plain})
    flag_env = base_env(tmp_path, sandbox.env("full"))
    runs = await asyncio.gather(
        run([script(ALL_IN_ONE)], env, tmp_path),
        run([script(SERVER), "--base-url", plain], flag_env, tmp_path),
    )
    for code, out, err in runs:
        refused_plain_http(code, out, err)
    assert sandbox.requests() == [], "a server sent something to the plain-http URL"


def test_plain_http_refused_in_process(sandbox: Any) -> None:
    from unizo_mcp_core.errors import ConfigError
    from unizo_mcp_core.settings import load_settings

    for url in (
        "http://api.unizo.ai",
        "HTTP://api.unizo.ai",
        "http://127.0.0.1:8443",
        "ftp://x",
        "api.unizo.ai",
    ):
        with pytest.raises(ConfigError) as caught:
            load_settings(SPEC.name, {**sandbox.env("full"), "UNIZO_BASE_URL": url})
        assert "UNIZO_BASE_URL" in str(caught.value)


# --- unknown CA --------------------------------------------------------------------------------------


async def test_unknown_ca_refused_with_hint(sandbox: Any, tmp_path: Path) -> None:
    """The sandbox's certificate without its CA (and with another CA) is refused, with the TLS hint."""
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    without_ca = {k: v for k, v in sandbox.env("full").items() if k != "UNIZO_CA_BUNDLE"}
    # --test-auth without any CA bundle: exit code 5 (network) and the hint
    code, out, err = await run([script(SERVER), "--test-auth"], base_env(tmp_path, without_ca), tmp_path)
    report = out + err
    assert code == 5, f"exit {code}: {report}"
    assert "certificate" in report.lower() and TLS_HINT in report, report
    # serving with another CA's bundle (in process: the serving code is the same in every process): the
    # server starts (the API may be down) but every call reports it
    env = {**without_ca, "UNIZO_CA_BUNDLE": str(other_ca)}
    calls = {discovery_tool(SPEC, "connectors").name: {}, top_list(SPEC).name: {"integration_id": "x"}}
    async with inprocess_client(SERVER, env) as (client, _server):
        for tool, args in calls.items():
            result = await client.call_tool(tool, args)
            text = text_of(result)
            assert result.is_error and "certificate" in text.lower() and TLS_HINT in text, text
    assert sandbox.requests() == [], "a request got through an unverified TLS connection"


async def test_unknown_ca_refused_by_the_client(sandbox: Any) -> None:
    from unizo_mcp_core.client import UnizoClient
    from unizo_mcp_core.errors import TlsError
    from unizo_mcp_core.settings import load_settings

    env = {k: v for k, v in sandbox.env("full").items() if k != "UNIZO_CA_BUNDLE"}
    settings = load_settings(SPEC.name, {**env, "UNIZO_RETRY_ATTEMPTS": "3"})
    async with UnizoClient(settings, user_agent="security-suite") as client:
        with pytest.raises(TlsError) as caught:
            await client.request("GET", top_list(SPEC).path)
    assert TLS_HINT in caught.value.describe()
    assert sandbox.requests() == []


# --- binding -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "how",
    [
        ["--host", "0.0.0.0"],
        ["--host", "::"],
        ["--host", "192.0.2.10"],
        ["env:UNIZO_HOST=0.0.0.0"],
        ["--host", "0.0.0.0", "--allow-remote", "false"],
    ],
    ids=["flag-any", "flag-any-v6", "flag-lan", "env-any", "allow-remote-false"],
)
async def test_non_loopback_bind_refused_without_allow_remote(
    how: list[str], sandbox: Any, tmp_path: Path
) -> None:
    extra = dict(item[4:].split("=", 1) for item in how if item.startswith("env:"))
    args = [item for item in how if not item.startswith("env:")]
    env = base_env(tmp_path, {**sandbox.env("full"), **extra})
    argv = [script(SERVER), "--transport", "streamable-http", "--port", str(free_port()), *args]
    code, _out, err = await run(argv, env, tmp_path)
    assert code == 2, err
    assert "--allow-remote" in err and "loopback" in err, err
    assert sandbox.requests() == [], "the server went on to talk to the API"


class PortTaken(Exception):
    """Another process bound the port between free_port() and the server's own bind."""


@asynccontextmanager
async def serving(env: dict[str, str], cwd: Path, host: str, port: int, *extra: str) -> AsyncIterator[None]:
    """SERVER with `--transport streamable-http` until it listens; stopped afterwards."""
    argv = [script(SERVER), "--transport", "streamable-http", "--host", host, "--port", str(port), *extra]
    log_path = cwd / f"http-{port}.log"
    log = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        *argv, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=str(cwd)
    )
    try:
        target = "127.0.0.1" if host in ("0.0.0.0", "127.0.0.1") else host
        for _ in range(600):
            if process.returncode is not None:
                text = log_path.read_text(errors="replace")
                if "address already in use" in text.lower():
                    raise PortTaken(text)
                raise AssertionError(f"server exited {process.returncode}: {text}")
            try:
                _reader, writer = await asyncio.open_connection(target, port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            break
        else:
            raise AssertionError("the HTTP server did not start listening")
        yield
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


@asynccontextmanager
async def http_server(env: dict[str, str], cwd: Path, host: str, *extra: str) -> AsyncIterator[int]:
    """`serving` on a free port (another one if that port is taken meanwhile); yields the port."""
    for attempt in range(5):
        port = free_port()
        try:
            async with serving(env, cwd, host, port, *extra):
                yield port
                return
        except PortTaken:
            if attempt == 4:
                raise


HTTP_TOKEN = "security-suite-token-" + "t" * 24  # streamable HTTP needs a token (the server's own)
BEARER = {"Authorization": f"Bearer {HTTP_TOKEN}"}


async def test_allow_remote_lets_a_non_loopback_bind_start(sandbox: Any, tmp_path: Path) -> None:
    """The refusal above is about --allow-remote, not about binding at all (with a token chosen)."""
    env = base_env(tmp_path, {**sandbox.env("full"), "UNIZO_HTTP_TOKEN": HTTP_TOKEN})
    async with http_server(env, tmp_path, "0.0.0.0", "--allow-remote"):
        pass


# --- Host / Origin -----------------------------------------------------------------------------------

INITIALIZE = json.dumps(initialize_request("security-suite"))


def post_initialize(port: int, headers: dict[str, str]) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("POST", "/mcp", skip_host=True, skip_accept_encoding=True)
        base = {
            "Host": f"127.0.0.1:{port}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "Content-Length": str(len(INITIALIZE)),
            **BEARER,  # the right token: what refuses these requests is the Host/Origin check
        }
        for name, value in {**base, **headers}.items():
            connection.putheader(name, value)
        connection.endheaders(INITIALIZE.encode())
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


async def test_foreign_host_and_origin_refused(sandbox: Any, tmp_path: Path) -> None:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    env = base_env(tmp_path, {**sandbox.env("full"), "UNIZO_HTTP_TOKEN": HTTP_TOKEN})
    async with http_server(env, tmp_path, "127.0.0.1") as port:
        status = await asyncio.to_thread(post_initialize, port, {})
        assert status == 200, "the control request (own Host, no Origin) was refused"
        own_origin = await asyncio.to_thread(post_initialize, port, {"Origin": f"http://127.0.0.1:{port}"})
        assert own_origin == 200
        for headers in (
            {"Host": f"evil.example:{port}"},
            {"Host": "evil.example"},
            {"Host": f"127.0.0.1.evil.example:{port}"},
            {"Host": f"localhost.evil.example:{port}"},
            {"Origin": "http://evil.example"},
            {"Origin": f"http://evil.example:{port}"},
            {"Origin": f"https://127.0.0.1.evil.example:{port}"},
            {"Origin": "null"},
        ):
            status = await asyncio.to_thread(post_initialize, port, headers)
            assert 400 <= status < 500, f"{headers}: HTTP {status}"
        # a real MCP client on the right address still works
        async with (
            httpx2.AsyncClient(headers=BEARER, timeout=30) as http_client,
            Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http_client)) as client,
        ):
            names = [t.name for t in (await client.list_tools()).tools]
        assert top_list(SPEC).name in names
