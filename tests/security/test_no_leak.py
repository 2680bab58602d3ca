"""No leak: the key, the proxy password and the apikey/Authorization header values appear nowhere.

Every server runs at debug level with UNIZO_LOG_AUTH=true through a full session, over stdio (a real
subprocess, every byte of its stdout and stderr kept) and in-process (everything written to fds 1 and 2
captured): every tool with real ids (successes), unknown ids / refused values / schema errors (failures),
a retried 503 and 429, a 403 (IP allowlist) and a 401 (revoked key) after rotating the key file, the
daily quota running out, all of it through a CONNECT proxy that requires credentials. Then every output
is searched for every secret: stdout, stderr, files the server left in its working and home directories,
tool results, error messages and the text of exceptions.
"""

from __future__ import annotations

import asyncio
import os
import traceback
from pathlib import Path
from typing import Any

import pytest
from unizo_mcp_core.errors import UnizoError

from .support import (
    SERVERS,
    Exerciser,
    assert_no_leaks,
    base_env,
    inprocess_client,
    script,
    secret_values,
    specs_of,
    stdio_client,
    text_of,
)

FAST_RETRIES = {"UNIZO_RETRY_ATTEMPTS": "3", "UNIZO_RETRY_DELAY": "10", "UNIZO_MAX_RETRY_DELAY": "2000"}
# a session makes a few hundred calls: lift the per-minute limit on both sides
UNTHROTTLED = {"UNIZO_RATE_LIMIT": "100000", "UNIZO_DAILY_QUOTA": "10000000"}
SANDBOX_LIMITS = {"rate_limit": 100_000, "daily_quota": 10_000_000}
VERBOSE = {"UNIZO_LOG_LEVEL": "debug", "UNIZO_LOG_AUTH": "true"}
# the first GET answers 503, the next one 429 with Retry-After: both are retried
RETRY_FAULTS = "GET *=503#1; GET *=429:retry_after=0.2#1"


def sandbox_env(sandbox: Any, role: str = "full") -> dict[str, str]:
    env = dict(sandbox.env(role))
    env.pop("UNIZO_API_KEY", None)
    return env


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


def result_texts(exerciser_results: list[tuple[str, dict[str, Any], Any]], label: str) -> dict[str, str]:
    return {
        f"{label} result {i} of {name}": result.model_dump_json()
        for i, (name, _args, result) in enumerate(exerciser_results)
    }


async def full_session(
    client: Any, server: str, sandbox: Any, key_file: Path
) -> tuple[Exerciser, dict[str, str]]:
    """Drive one session; returns the exerciser (every result) and the protocol-level texts seen."""
    texts: dict[str, str] = {}
    listed = await client.list_tools()
    texts["tools/list"] = listed.model_dump_json()
    exposed = [t.name for t in listed.tools]

    async def call(name: str, args: dict[str, Any]) -> Any:
        return await client.call_tool(name, args, read_timeout_seconds=60)

    exerciser = Exerciser(call, specs_of(server), exposed)
    sandbox.set_limits(**SANDBOX_LIMITS)
    sandbox.set_faults(RETRY_FAULTS)
    for service in exerciser.services:
        await exerciser.exercise(service)
    statuses = [r.status for r in sandbox.requests()]
    assert 503 in statuses and 429 in statuses, "the injected faults did not fire"
    sandbox.set_faults(None)

    first = exerciser.services[0]
    probe_tool = next(t for t in first.tools if not t.path_params())
    probe = {"integration_id": exerciser.integrations[first.name]}

    # a 403 from the API: the key file now holds a key whose IP allowlist excludes this machine
    rotate(key_file, sandbox.keys["ip_restricted"])
    forbidden = await exerciser.call(probe_tool.name, probe)
    assert forbidden.is_error and "403" in text_of(forbidden), text_of(forbidden)
    # a 401: a revoked key
    rotate(key_file, sandbox.keys["revoked"])
    revoked = await exerciser.call(probe_tool.name, probe)
    assert revoked.is_error and "401" in text_of(revoked), text_of(revoked)
    # back to the valid key, then the daily quota runs out (403 from the API, then a local refusal)
    rotate(key_file, sandbox.keys["full"])
    assert not (await exerciser.call(probe_tool.name, probe)).is_error
    sandbox.set_limits(**{**SANDBOX_LIMITS, "daily_quota": 1})
    quota = await exerciser.call(probe_tool.name, probe)
    assert quota.is_error and "403" in text_of(quota), text_of(quota)
    local = await exerciser.call(probe_tool.name, probe)
    assert local.is_error
    # a tool that does not exist
    texts["unknown tool"] = (await client.call_tool("no_such_tool", {})).model_dump_json()
    return exerciser, texts


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


@pytest.mark.slow
@pytest.mark.parametrize("server", list(SERVERS))
async def test_no_leak_over_stdio(server: str, sandbox: Any, proxy: Any, tmp_path: Path) -> None:
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    key_file = tmp_path / "key"
    env = session_env(sandbox, proxy, key_file, home)
    proxy_lines_before = proxy.log().count("CONNECT")

    async with stdio_client(server, env, work) as client:
        exerciser, texts = await full_session(client, server, sandbox, key_file)

    outputs = {**texts, **result_texts(exerciser.results, "stdio"), **files_under(work, home)}
    stderr = outputs[f"file {work / 'stderr.log'}"]
    assert outputs[f"file {work / 'stdout.log'}"], "the server's stdout was not captured"
    # the session really ran verbose, authenticated, through the proxy, with retries
    assert " DEBUG " in stderr and "unizo_mcp.auth" in stderr, stderr[-3000:]
    assert "retry" in stderr.lower(), stderr[-3000:]
    assert proxy.log().count("CONNECT") > proxy_lines_before, "the requests did not go through the proxy"
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

    async with inprocess_client(server, env) as (client, _server):
        exerciser, texts = await full_session(client, server, sandbox, key_file)

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
        **result_texts(exerciser.results, "in-process"),
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

    wrong = "wrong-" + proxy.password[::-1]
    monkeypatch.setenv("HTTPS_PROXY", proxy.url(password=wrong))
    configure_logging("debug", log_auth=True)
    env = {**sandbox.env("full"), **VERBOSE, **FAST_RETRIES}
    async with inprocess_client("edr", env) as (client, _server):
        result = await client.call_tool("edr_list_connectors", {}, read_timeout_seconds=60)
    assert result.is_error
    message = text_of(result)
    assert "proxy" in message.lower() and "407" in message, message
    async with UnizoClient(load_settings("edr", env), user_agent="security-suite") as direct:
        with pytest.raises(UnizoError) as caught:
            await direct.request("GET", "/edr/devices")
    captured = capfd.readouterr()
    outputs = {
        "result": result.model_dump_json(),
        **_exception_texts(caught.value, "client exception"),
        "captured stdout": captured.out,
        "captured stderr": captured.err,
    }
    assert "407" in captured.err, "the proxy refusal was not logged"
    assert_no_leaks(outputs, all_secrets(sandbox, proxy, wrong))


# a refusal per server, 401s and 403s: (role of the key, exit code, HTTP status in the message)
REFUSALS = {
    "edr": ("revoked", 3, "401"),
    "scm": ("ip_restricted", 4, "403"),
    "ticketing": ("expired", 3, "401"),
    "observability": ("revoked", 3, "401"),
    "server": ("ip_restricted", 4, "403"),
}


@pytest.mark.slow
async def test_startup_refusals_do_not_leak(sandbox: Any, proxy: Any, tmp_path: Path) -> None:
    """Every server refusing to start (401, 403) prints one clean paragraph and the exit code."""

    async def start(server: str) -> tuple[str, int, str, str]:
        env = base_env(
            tmp_path,
            {
                **sandbox_env(sandbox),
                **VERBOSE,
                **FAST_RETRIES,
                "UNIZO_API_KEY": sandbox.keys[REFUSALS[server][0]],
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
        return server, process.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    runs = await asyncio.gather(*(start(server) for server in SERVERS))
    outputs: dict[str, str] = {}
    for server, code, out, err in runs:
        _role, expected_code, status = REFUSALS[server]
        assert code == expected_code, f"{server}: exit {code}\n{err[-2000:]}"
        assert status in err, err[-2000:]
        outputs[f"{server} stdout"] = out
        outputs[f"{server} stderr"] = err
    outputs.update(files_under(tmp_path))
    assert_no_leaks(outputs, all_secrets(sandbox, proxy))
