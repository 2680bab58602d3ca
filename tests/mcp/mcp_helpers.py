"""Helpers for the MCP-half tests: the CLI in process, the few real processes, and what the sandbox holds."""

from __future__ import annotations

import functools
import os
import socket
import ssl
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from unizo_mcp_core import cli
from unizo_mcp_core.registry import module_name
from unizo_mcp_core.spec import ServiceSpec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


class CliResult:
    """What one CLI run printed, and its exit code."""

    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code = code
        self.stdout = stdout
        self.stderr = stderr.strip("\n")

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, stdout={self.stdout!r}, stderr={self.stderr!r})"


def run_main(
    capsys: pytest.CaptureFixture[str],
    service: ServiceSpec | None,
    args: Sequence[str],
    env: Mapping[str, str] | None = None,
) -> CliResult:
    """`unizo_mcp_core.cli.main` in this process with `args` and exactly the environment `env`.

    argparse ends usage errors and --help with SystemExit; that is the exit code too.
    """
    capsys.readouterr()  # start from nothing
    try:
        code = cli.main(service, argv=list(args), environ=dict(env or {}))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return CliResult(code, out, err)


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for a child process: no UNIZO_* or proxy variables from the developer's shell."""
    # XDG_CACHE_HOME: the test's private store of shared rate limits (conftest.py), not the user's
    kept = ("PATH", "HOME", "XDG_CACHE_HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in kept}
    env["PYTHONPATH"] = str(HERE)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra or {})
    return env


def server_command(spec: ServiceSpec) -> list[str]:
    """argv of the real server of `spec` (`python -m unizo_mcp_<service>`, what its console script runs)."""
    return [sys.executable, "-m", module_name(spec.name)]


def sandbox_env(sandbox: Any, role: str = "full", **extra: str) -> dict[str, str]:
    """The sandbox's variables for `role`, without retries (failures answer at once), plus `extra`.

    A value of "" removes the variable.
    """
    env = {**sandbox.env(role), "UNIZO_RETRY_ATTEMPTS": "0"}
    env.update(extra)
    return {k: v for k, v in env.items() if v != ""}


def closed_port() -> int:
    """A loopback port with nothing listening (bound then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- what the sandbox and the service folders hold ----------------------------------------------------


@functools.cache
def service_examples(spec: ServiceSpec) -> Mapping[str, Any]:
    """The servicekit `Example` table of `spec` (EXAMPLES in its folder's test module, packages/*/tests)."""
    from servicekit import examples_of

    return examples_of(spec)


def two_services() -> tuple[ServiceSpec, ServiceSpec]:
    """The first two installed services (name order), for tests of a key limited to one of them."""
    from servicekit import is_category, services_where

    found = services_where(is_category)
    assert len(found) >= 2, "this test needs two installed services"
    return found[0], found[1]


def other_service(spec: ServiceSpec) -> ServiceSpec:
    """An installed service other than `spec`."""
    first, second = two_services()
    return second if first.name == spec.name else first


def enabled_services(sandbox: Any, role: str) -> frozenset[str]:
    """The services the organization of `role`'s key has enabled, as the sandbox's /v1/auth/verify says."""
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{sandbox.base_url}/v1/auth/verify", headers={"Authorization": f"Bearer {sandbox.keys[role]}"}
    )
    context = ssl.create_default_context(cafile=str(sandbox.ca_file))
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    with opener.open(request, timeout=30) as response:
        return frozenset(json.load(response)["enabledServices"])
