"""`unizo-sandbox serve` prints export lines and serves until SIGTERM; `unizo-sandbox env` repeats them."""

from __future__ import annotations

import asyncio
import json
import shlex
import signal
import ssl
import sys
from pathlib import Path

import aiohttp
import pytest
from unizo_mcp_sandbox.accounts import PLATFORM
from unizo_mcp_sandbox.testing import sandbox_services, service_role

pytestmark = pytest.mark.slow
STARTUP_TIMEOUT = 60.0


def parse_exports(lines: list[str]) -> dict[str, str]:
    exports = {}
    for line in lines:
        if line.startswith("#"):
            continue
        command, assignment = shlex.split(line)
        assert command == "export"
        name, _, value = assignment.partition("=")
        exports[name] = value
    return exports


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "unizo_mcp_sandbox",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), STARTUP_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_serve_prints_exports_serves_https_and_stops_on_sigterm(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "unizo_mcp_sandbox",
        "serve",
        "--port",
        "0",
        "--state-dir",
        str(tmp_path),
        "--rate-limit",
        "42",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    lines: list[str] = []
    try:
        while not lines or not lines[-1].startswith("# unizo-sandbox"):
            line = await asyncio.wait_for(process.stdout.readline(), STARTUP_TIMEOUT)
            assert line, (await process.stderr.read()).decode()
            lines.append(line.decode().rstrip("\n"))
        exports = parse_exports(lines)
        assert exports["UNIZO_BASE_URL"].startswith("https://127.0.0.1:")
        assert exports["UNIZO_CA_BUNDLE"] == str(tmp_path.resolve() / "ca.pem")
        assert exports["UNIZO_ENVIRONMENT"] == "production"
        assert exports["UNIZO_API_KEY"] == exports["UNIZO_SANDBOX_KEY_FULL"]
        roles = {
            name.removeprefix("UNIZO_SANDBOX_KEY_").lower()
            for name in exports
            if name.startswith("UNIZO_SANDBOX_KEY_")
        }
        assert roles == {
            "full", "readonly", "expired", "revoked", "development", "wrong_environment", "ip_restricted",
            "service_disabled", service_role(PLATFORM),
            *(service_role(service.name) for service in sandbox_services()),
        }  # fmt: skip
        assert exports["UNIZO_SANDBOX_ADMIN_TOKEN"]

        context = ssl.create_default_context(cafile=exports["UNIZO_CA_BUNDLE"])
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
            async with session.get(exports["UNIZO_BASE_URL"] + "/health") as health:
                assert health.status == 200
                assert (await health.json())["status"] == "ok"
            headers = {"Authorization": "Bearer " + exports["UNIZO_API_KEY"]}
            async with session.get(exports["UNIZO_BASE_URL"] + "/v1/auth/verify", headers=headers) as verify:
                assert (await verify.json())["rateLimits"]["perMinute"] == 42
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        stderr = await asyncio.wait_for(process.stderr.read(), STARTUP_TIMEOUT)
        returncode = await asyncio.wait_for(process.wait(), STARTUP_TIMEOUT)
    assert returncode == 0, stderr.decode()
    assert b"stopping" in stderr
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["baseUrl"] == exports["UNIZO_BASE_URL"]

    code, stdout, _ = await run_cli("env", "--state-dir", str(tmp_path))
    assert code == 0
    assert stdout.splitlines() == [line for line in lines if not line.startswith("#")]


async def test_serve_refuses_a_bad_fault_spec(tmp_path: Path) -> None:
    code, stdout, stderr = await run_cli("serve", "--state-dir", str(tmp_path), "--faults", "*=teapot")
    assert code == 2
    assert stdout == ""
    assert "unknown fault kind" in stderr


async def test_env_without_a_previous_run_fails(tmp_path: Path) -> None:
    code, stdout, stderr = await run_cli("env", "--state-dir", str(tmp_path))
    assert (code, stdout) == (1, "")
    assert "no sandbox has run" in stderr
