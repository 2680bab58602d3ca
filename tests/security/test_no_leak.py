"""No leak: the key, the proxy password and the apikey/Authorization header values appear nowhere.

Every server (one per installed service, and the all-in-one) runs at debug level with UNIZO_LOG_AUTH=true
through a full session, over stdio (a real subprocess, every byte of its stdout and stderr kept) and
in-process (everything written to fds 1 and 2 captured): every tool with real ids (successes), unknown
ids / refused values / schema errors (failures), a retried 503 and 429, a 403 (IP allowlist) and a 401
(revoked key) after rotating the key file, all of it through a CONNECT proxy that requires credentials;
in process, the daily quota running out too (over stdio the process is shared with other tests, and a
spent quota stays spent until the day ends). Then every output is searched for every secret: stdout,
stderr, files the server left in its working and home directories, tool results, error messages and the
text of exceptions.
"""

from __future__ import annotations

import asyncio
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from servicekit import a_service
from unizo_mcp_core.errors import UnizoError
from unizo_mcp_core.spec import ServiceSpec

from .calls import CachedSession, Driver, Recorder, discovery_tool
from .conftest import FAST_RETRIES, UNTHROTTLED, VERBOSE, StdioServer, sandbox_env
from .support import (
    SERVERS,
    assert_no_leaks,
    base_env,
    inprocess_client,
    listable,
    script,
    secret_values,
    server_of,
    specs_of,
    text_of,
    top_list,
)

SANDBOX_LIMITS = {"rate_limit": 100_000, "daily_quota": 10_000_000}
# the first GET answers 503, the next one 429 with Retry-After: both are retried
RETRY_FAULTS = "GET *=503#1; GET *=429:retry_after=0.05#1"


def rotate(key_file: Path, key: str) -> None:
    """Replace the key file's content, as a secret manager would (with a distinct mtime)."""
    before = key_file.stat().st_mtime_ns
    key_file.write_text(key + "\n")
    os.utime(key_file, ns=(before + 2_000_000_000, before + 2_000_000_000))


def all_secrets(sandbox: Any, proxy: Any, *extra_passwords: str) -> dict[str, str]:
    credentials = [(proxy.user, proxy.password), *((proxy.user, p) for p in extra_passwords)]
    return secret_values(sandbox.keys.values(), credentials)


def files_under(*roots: Path) -> dict[str, str]:
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                found[f"file {path}"] = path.read_bytes().decode("utf-8", errors="replace")
    return found


def result_texts(results: list[tuple[str, dict[str, Any], Any]], label: str) -> dict[str, str]:
    return {
        f"{label} result {i} of {name}": result.model_dump_json()
        for i, (name, _args, result) in enumerate(results)
    }


async def full_session(
    client: Recorder, specs: Sequence[ServiceSpec], sandbox: Any, key_file: Path, *, quota: bool
) -> dict[str, str]:
    """Drive one session (every result stays in `client.results`); returns the protocol-level texts seen."""
    texts: dict[str, str] = {}
    listed = await client.list_tools()
    texts["tools/list"] = listed.model_dump_json()
    exposed = [t.name for t in listed.tools]
    session = CachedSession(client, sandbox, key_file)
    driver = Driver(session)
    sandbox.set_limits(**SANDBOX_LIMITS)
    sandbox.set_faults(RETRY_FAULTS)
    try:
        for spec in specs:
            await driver.exercise(spec, exposed)
        statuses = [r.status for r in sandbox.requests()]
        assert 503 in statuses and 429 in statuses, "the injected faults did not fire"
    finally:
        sandbox.set_faults(None)

    first = next(spec for spec in specs if listable(spec))
    probe_tool = top_list(first).name
    probe = {"integration_id": await session.integration(first.name)} if first.discovery else {}
    try:
        # a 403 from the API: the key file now holds a key whose IP allowlist excludes this machine
        rotate(key_file, sandbox.keys["ip_restricted"])
        forbidden = await driver.call(probe_tool, probe)
        assert forbidden.is_error and "403" in text_of(forbidden), text_of(forbidden)
        # a 401: a revoked key
        rotate(key_file, sandbox.keys["revoked"])
        revoked = await driver.call(probe_tool, probe)
        assert revoked.is_error and "401" in text_of(revoked), text_of(revoked)
    finally:
        rotate(key_file, sandbox.keys["full"])
    assert not (await driver.call(probe_tool, probe)).is_error
    if quota:  # the daily quota runs out (403 from the API, then a local refusal)
        sandbox.set_limits(**{**SANDBOX_LIMITS, "daily_quota": 1})
        spent = await driver.call(probe_tool, probe)
        assert spent.is_error and "403" in text_of(spent), text_of(spent)
        local = await driver.call(probe_tool, probe)
        assert local.is_error
    # a tool that does not exist
    texts["unknown tool"] = (await client.call_tool("no_such_tool", {})).model_dump_json()
    return texts


@pytest.mark.slow
@pytest.mark.parametrize("server", list(SERVERS))
def test_no_leak_over_stdio(server: str, sandbox: Any, proxy: Any, stdio_servers: Any) -> None:
    stdio: StdioServer = stdio_servers[server]
    client = Recorder(stdio.client)
    texts = stdio.run(lambda: full_session(client, specs_of(server), sandbox, stdio.key_file, quota=False))

    outputs = {**texts, **result_texts(client.results, "stdio"), **files_under(stdio.work, stdio.home)}
    stderr = stdio.stderr()
    assert stdio.stdout(), "the server's stdout was not captured"
    # the session really ran verbose, authenticated, through the proxy, with retries
    assert " DEBUG " in stderr and "unizo_mcp.auth" in stderr, stderr[-3000:]
    assert "retry" in stderr.lower(), stderr[-3000:]
    if sys.platform.startswith("linux"):  # the server's connections: to the proxy, none to the API
        peers = stdio.peer_ports()
        assert proxy.port in peers, f"no connection to the proxy: {peers}"
        assert urlsplit(sandbox.base_url).port not in peers, "the server talks to the API directly"
    assert_no_leaks(outputs, all_secrets(sandbox, proxy))


def _exception_texts(exc: BaseException, label: str) -> dict[str, str]:
    """The text of an exception as anything that shows or logs it would: its traceback and, for each
    exception of the displayed chain (causes, and contexts unless suppressed), str, repr, args."""
    chain, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    texts = {f"{label}: traceback": "".join(traceback.format_exception(exc))}
    for i, item in enumerate(chain):
        texts[f"{label}: str #{i}"] = str(item)
        texts[f"{label}: repr #{i}"] = repr(item)
        texts[f"{label}: args #{i}"] = repr(item.args)
        if isinstance(item, UnizoError):
            texts[f"{label}: describe #{i}"] = item.describe()
    return texts


def session_env(sandbox: Any, proxy: Any, key_file: Path, home: Path) -> dict[str, str]:
    key_file.write_text(sandbox.keys["full"] + "\n")
    key_file.chmod(0o600)
    return base_env(
        home,
        {
            **sandbox_env(sandbox),
            **VERBOSE,
            **FAST_RETRIES,
            **UNTHROTTLED,
            "UNIZO_API_KEY_FILE": str(key_file),
            "HTTPS_PROXY": proxy.url(),
        },
    )


@pytest.mark.parametrize("server", list(SERVERS))
async def test_no_leak_in_process(
    server: str, sandbox: Any, proxy: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: Any
) -> None:
    from unizo_mcp_core.redaction import configure_logging

    (tmp_path / "secrets").mkdir()
    (tmp_path / "home").mkdir()
    key_file = tmp_path / "secrets" / "key"
    env = session_env(sandbox, proxy, key_file, tmp_path / "home")
    monkeypatch.setenv("HTTPS_PROXY", proxy.url())  # aiohttp reads proxies from os.environ
    configure_logging("debug", log_auth=True)

    async with inprocess_client(server, env) as (mcp_client, _server):
        client = Recorder(mcp_client)
        texts = await full_session(client, specs_of(server), sandbox, key_file, quota=True)

    # startup refusals raise: their text (str, repr, args, traceback, causes) must be clean too
    refusals: dict[str, str] = {}
    for role in ("revoked", "expired", "ip_restricted", "wrong_environment"):
        refused_env = {**sandbox_env(sandbox), **VERBOSE, **FAST_RETRIES, "UNIZO_API_KEY": sandbox.keys[role]}
        with pytest.raises(UnizoError) as caught:
            async with inprocess_client(server, refused_env):
                pass
        refusals.update(_exception_texts(caught.value, f"startup with the {role} key"))
    captured = capfd.readouterr()
    outputs = {
        **texts,
        **result_texts(client.results, "in-process"),
        **refusals,
        "captured stdout": captured.out,
        "captured stderr": captured.err,
        **files_under(tmp_path / "home"),
    }
    assert " DEBUG " in captured.err and "unizo_mcp.auth" in captured.err, captured.err[-3000:]
    assert_no_leaks(outputs, all_secrets(sandbox, proxy))


async def test_wrong_proxy_password_does_not_leak(
    sandbox: Any, proxy: Any, monkeypatch: pytest.MonkeyPatch, capfd: Any
) -> None:
    """The proxy refuses the credentials (407): the error names the proxy, never the password."""
    from unizo_mcp_core.client import UnizoClient
    from unizo_mcp_core.redaction import configure_logging
    from unizo_mcp_core.settings import load_settings

    spec = a_service(listable)
    wrong = "wrong-" + proxy.password[::-1]
    monkeypatch.setenv("HTTPS_PROXY", proxy.url(password=wrong))
    configure_logging("debug", log_auth=True)
    env = {**sandbox.env("full"), **VERBOSE, **FAST_RETRIES}
    async with inprocess_client(server_of(spec), env) as (client, _server):
        result = await client.call_tool(discovery_tool(spec, "connectors").name, {}, read_timeout_seconds=60)
    assert result.is_error
    message = text_of(result)
    assert "proxy" in message.lower() and "407" in message, message
    async with UnizoClient(load_settings(spec.name, env), user_agent="security-suite") as direct:
        with pytest.raises(UnizoError) as caught:
            await direct.request("GET", top_list(spec).path)
    captured = capfd.readouterr()
    outputs = {
        "result": result.model_dump_json(),
        **_exception_texts(caught.value, "client exception"),
        "captured stdout": captured.out,
        "captured stderr": captured.err,
    }
    assert "407" in captured.err, "the proxy refusal was not logged"
    assert_no_leaks(outputs, all_secrets(sandbox, proxy, wrong))


# the refusals, taken in turn by the servers (401s and 403s): (role of the key, exit code, HTTP status)
REFUSALS = (("revoked", 3, "401"), ("ip_restricted", 4, "403"), ("expired", 3, "401"))


@pytest.mark.slow
async def test_startup_refusals_do_not_leak(sandbox: Any, proxy: Any, tmp_path: Path) -> None:
    """Every server refusing to start (401, 403) prints one clean paragraph and the exit code."""

    async def start(server: str, role: str) -> tuple[int, str, str]:
        env = base_env(
            tmp_path,
            {
                **sandbox_env(sandbox),
                **VERBOSE,
                **FAST_RETRIES,
                "UNIZO_API_KEY": sandbox.keys[role],
                "HTTPS_PROXY": proxy.url(),
            },
        )
        process = await asyncio.create_subprocess_exec(
            script(server),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=str(tmp_path),
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode is not None
        return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    plan = {server: REFUSALS[i % len(REFUSALS)] for i, server in enumerate(SERVERS)}
    runs = await asyncio.gather(*(start(server, role) for server, (role, _, _) in plan.items()))
    outputs: dict[str, str] = {}
    for (server, (role, expected_code, status)), (code, out, err) in zip(plan.items(), runs, strict=True):
        assert code == expected_code, f"{server} ({role} key): exit {code}\n{err[-2000:]}"
        assert status in err, err[-2000:]
        outputs[f"{server} stdout"] = out
        outputs[f"{server} stderr"] = err
    outputs.update(files_under(tmp_path))
    assert_no_leaks(outputs, all_secrets(sandbox, proxy))
