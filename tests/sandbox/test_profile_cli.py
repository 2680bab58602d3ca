"""`unizo-sandbox serve --profile documented`: the export lines name the profile, the server answers as the
documented profile does, and `unizo-sandbox env` repeats the lines."""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
import sys
from pathlib import Path

import aiohttp
import pytest
from unizo_mcp_sandbox.state import FORMAT_VERSION

from .test_cli import STARTUP_TIMEOUT, parse_exports, run_cli

pytestmark = pytest.mark.slow


async def test_serve_the_documented_profile(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "unizo_mcp_sandbox",
        "serve",
        "--port",
        "0",
        "--state-dir",
        str(tmp_path),
        "--profile",
        "documented",
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
        assert "(documented profile," in lines[-1]
        exports = parse_exports(lines)
        assert exports["UNIZO_SANDBOX_PROFILE"] == "documented"
        base = exports["UNIZO_BASE_URL"]
        context = ssl.create_default_context(cafile=exports["UNIZO_CA_BUNDLE"])
        headers = {"Authorization": "Bearer " + exports["UNIZO_API_KEY"]}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
            async with session.get(base + "/v1/health", headers=headers) as health:
                assert (health.status, await health.json()) == (200, {"status": "ok"})
            async with session.get(base + "/v1/auth/verify", headers=headers) as verify:
                assert verify.status == 404
                assert await verify.json() == {"message": "no Route matched with those values"}
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        stderr = await asyncio.wait_for(process.stderr.read(), STARTUP_TIMEOUT)
        returncode = await asyncio.wait_for(process.wait(), STARTUP_TIMEOUT)
    assert returncode == 0, stderr.decode()
    code, stdout, _ = await run_cli("env", "--state-dir", str(tmp_path))
    assert code == 0
    assert stdout.splitlines() == [line for line in lines if not line.startswith("#")]


async def test_the_full_profile_is_the_default_and_an_unknown_one_is_refused(tmp_path: Path) -> None:
    code, stdout, stderr = await run_cli("serve", "--state-dir", str(tmp_path), "--profile", "partial")
    assert (code, stdout) == (2, "")
    assert "invalid choice: 'partial'" in stderr
    # a state saved before profiles existed: its sandbox served the full profile
    saved = {"formatVersion": FORMAT_VERSION, "baseUrl": "https://127.0.0.1:1", "keysSeed": 1729}
    (tmp_path / "state.json").write_text(json.dumps(saved | {"environment": "production"}))
    code, stdout, _ = await run_cli("env", "--state-dir", str(tmp_path))
    assert code == 0
    assert "export UNIZO_SANDBOX_PROFILE=full" in stdout.splitlines()
