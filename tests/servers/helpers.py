"""Subprocess helpers: console scripts of this environment, explicit environments, async runs.

Everything that may talk to the sandbox runs asynchronously, so an in-process sandbox keeps serving.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import forkserver

BIN = Path(sys.executable).parent


def script(name: str, bin_dir: Path = BIN, *, cold: bool = False) -> str:
    """The console script `name` installed in `bin_dir` (by default next to `python`, never another
    venv's). A server of this environment comes, unless `cold`, as its stand-in from tests/forkserver.py:
    the same argv, environment, stdio, exit status and signals, without a cold start's imports."""
    path = shutil.which(name, path=str(bin_dir))
    assert path, f"console script {name} is not installed in {bin_dir}"
    if cold or bin_dir != BIN or not name.startswith(forkserver.SERVED):
        return path
    return forkserver.launcher(name, path)


def base_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal explicit environment: no variable of the developer's shell leaks in."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.update(extra or {})
    return env


async def run_cli(argv: Sequence[str], env: Mapping[str, str], timeout: float = 120) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
