"""`unizo doctor`: every installed server's --verify-connection, with the key that server would use, in one
table; the exit code is the first failure's."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_testkit import Result
from servicekit import installed
from unizo_mcp_core.errors import ExitCode

SERVICES = sorted(installed())


@pytest.fixture
def env(sandbox: Any, home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), **sandbox.env("full")}


def rows(result: Result) -> dict[str, str]:
    return {
        line.split()[0]: line
        for line in result.out.splitlines()[2:]
        if line.split() and line.split()[0] in SERVICES
    }


def test_every_installed_server_is_checked(
    unizo: Callable[..., Result], env: dict[str, str], sandbox: Any
) -> None:
    result = unizo("doctor", env=env)
    assert result.code == 0, result.out + result.err
    table = rows(result)
    assert sorted(table) == SERVICES
    for service, row in table.items():
        assert " ok" in row and "UNIZO_API_KEY" in row and "sha256:" in row, row
        assert f"unizo-mcp-{service.replace('_', '-')}" in row  # its console script, by absolute path
    report = unizo("doctor", "--json", env=env).json
    assert [s["service"] for s in report["services"]] == SERVICES and report["exitCode"] == 0
    labels = {c["check"] for c in report["services"][0]["checks"]}
    assert {"settings", "DNS", "TCP connect", "TLS handshake", "key", "permission", "read"} <= labels
    assert sandbox.keys["full"] not in result.text


def test_each_server_uses_its_own_key_and_the_first_failure_decides(
    unizo: Callable[..., Result], env: dict[str, str], sandbox: Any
) -> None:
    broken, *others = SERVICES
    spec = installed()[broken]
    env[spec.key_variable] = sandbox.keys["revoked"]
    result = unizo("doctor", env=env)
    assert result.code == ExitCode.AUTH
    table = rows(result)
    assert (
        "FAILED (exit 3)" in table[broken] and "key:" in table[broken] and spec.key_variable in table[broken]
    )
    assert all(" ok" in table[name] for name in others)
    assert (
        f"{broken}: " in result.out and "generate a new" in result.out.lower()
    )  # the remedy, under the table
    verbose = unizo("doctor", "--verbose", "--service", broken, env=env)
    assert verbose.code == ExitCode.AUTH and "Remedy:" in verbose.out and "✗ key:" in verbose.out
    assert unizo("doctor", *(a for name in others for a in ("--service", name)), env=env).code == 0
    unknown = unizo("doctor", "--service", "nothing_here", env=env)
    assert unknown.code == ExitCode.CONFIG and "not installed here" in unknown.err
    assert sandbox.keys["revoked"] not in result.text + verbose.text
