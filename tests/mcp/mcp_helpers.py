"""Helpers for the MCP-half tests: subprocess runs of the CLI with the test-only service specs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEAVY = ("mcp", "aiohttp", "pydantic")

# Runs the CLI of a test service (or the all-in-one server) and reports, at exit, which heavy
# packages were imported. sys.argv[1:] are the CLI arguments.
CLI_CODE = """
import atexit, sys
def _report():
    heavy = sorted(m for m in {heavy!r} if m in sys.modules)
    sys.stderr.write("\\n__HEAVY__=" + ",".join(heavy) + "\\n")
atexit.register(_report)
import mcp_specs
from unizo_mcp_core.cli import run
run({service})
"""


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A clean environment: no UNIZO_* or proxy variables from the developer's shell."""
    env = {
        k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    }
    env["PYTHONPATH"] = str(HERE)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


class CliResult:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.stdout = proc.stdout
        stderr, _, heavy = proc.stderr.rpartition("\n__HEAVY__=")
        if not _:
            stderr, heavy = proc.stderr, "?"
        self.stderr = stderr.strip("\n")
        self.heavy = [m for m in heavy.strip().split(",") if m]

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


def run_cli(
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    service: str = "mcp_specs.EDR",
    timeout: float = 60,
    stdin: str | None = None,
) -> CliResult:
    code = CLI_CODE.format(heavy=HEAVY, service=service)
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=base_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin if stdin is not None else "",
        encoding="utf-8",
    )
    return CliResult(proc)


def sandbox_env(sandbox: object, role: str = "full", **extra: str) -> dict[str, str]:
    """The sandbox's variables for `role`, without retries (failures answer at once), plus `extra`.

    A value of "" removes the variable.
    """
    env = {**sandbox.env(role), "UNIZO_RETRY_ATTEMPTS": "0", "PYTHONIOENCODING": "utf-8"}  # type: ignore[attr-defined]
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


def closed_port() -> int:
    """A loopback port with nothing listening (bound then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CLI_ARGS = ["-c", "import mcp_specs; from unizo_mcp_core.cli import run; run(mcp_specs.{service})"]


def cli_command(service: str = "EDR") -> list[str]:
    """argv (after the interpreter) that runs the CLI of a test service."""
    return [CLI_ARGS[0], CLI_ARGS[1].format(service=service)]
