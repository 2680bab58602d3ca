"""The tests' stand-in for a console script (tests/forkserver.py) ends as the real script does.

Most server processes the tests start are forked from a warm interpreter; these checks hold it to the
cold console script: the same output and exit code, the same end on a signal, and no server left running
when the stand-in itself is killed.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import forkserver
import pytest
from servicekit import a_service

from .helpers import base_env, run_cli, script

pytestmark = pytest.mark.slow

PACKAGE = a_service().package


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["--no-such-flag"], ["--print-config"]])
async def test_the_stand_in_prints_and_exits_as_the_console_script(argv: list[str], tmp_path: Path) -> None:
    env = base_env(tmp_path, {"UNIZO_API_KEY": "uz_prod_0123abcd_" + "S" * 32})
    forked = await run_cli([script(PACKAGE), *argv], env)
    cold = await run_cli([script(PACKAGE, cold=True), *argv], env)
    assert forked == cold


async def _started(command: str, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """`command` as a stdio server, its stderr to cwd/stderr.log, once it has answered `initialize`."""
    with (cwd / "stderr.log").open("wb") as err:
        pipe = asyncio.subprocess.PIPE
        process = await asyncio.create_subprocess_exec(
            command, stdin=pipe, stdout=pipe, stderr=err, env=env, cwd=cwd
        )
    assert process.stdin is not None and process.stdout is not None
    client = {"name": "test_forkserver", "version": "1"}
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}
    request = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    process.stdin.write(json.dumps(request).encode() + b"\n")
    answer = json.loads(await asyncio.wait_for(process.stdout.readline(), 60))
    assert "result" in answer, answer
    return process


async def test_sigterm_ends_the_stand_in_as_it_ends_the_console_script(sandbox: Any, tmp_path: Path) -> None:
    env = base_env(tmp_path, {**sandbox.env("full"), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    codes = []
    for command in (script(PACKAGE), script(PACKAGE, cold=True)):
        work = tmp_path / f"run{len(codes)}"
        work.mkdir()
        process = await _started(command, env, work)
        process.send_signal(signal.SIGTERM)
        codes.append(await asyncio.wait_for(process.wait(), 30))
        assert "SIGTERM" in (work / "stderr.log").read_text()
    assert codes[0] == codes[1]


async def test_a_killed_stand_in_leaves_no_server_running(sandbox: Any, tmp_path: Path) -> None:
    env = base_env(tmp_path, {**sandbox.env("full"), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    process = await _started(script(PACKAGE), env, tmp_path)
    child = forkserver.served_child(tmp_path)
    assert child is not None and child != process.pid
    process.kill()  # the stand-in, not the server it stands for
    assert await asyncio.wait_for(process.wait(), 30) == -signal.SIGKILL
    deadline = time.monotonic() + 30
    while _exists(child):
        assert time.monotonic() < deadline, f"the forked server {child} runs 30 s after its stand-in died"
        await asyncio.sleep(0.05)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
