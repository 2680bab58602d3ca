"""Claude Code's offline health check (`claude mcp add-json`, `list`, `get`) on the entries the servers print.

Every server (each installed service's and the all-in-one) prints its entry with `--print-config` in a
clean environment; Claude Code stores it as printed and reports it connected when the `claude` process has
the sandbox's settings and one service-only key per service in its environment, as users set them. With
the keys revoked, or unset, the same entries must fail: a "connected" is the key accepted by the sandbox.
Claude Code exits 0 whatever the servers do, so the tests read what it prints. Each server's stderr, as
Claude Code recorded it, is under `claude-code/home/.cache/claude-cli-nodejs/*/mcp-logs-<name>/`.
"""

from __future__ import annotations

import pytest
from claude_code import MISSING_VARIABLES, ClaudeReport, get_status, is_connected, list_status
from mcp_clients import ToolRun
from targets import ALL_IN_ONE, TARGETS


def _ok(run: ToolRun) -> None:
    assert not run.leaked, f"{run.label}: an API key appeared in Claude Code's output (redacted in artifacts)"
    assert run.returncode == 0, run.describe()


def _where(report: ClaudeReport) -> str:
    return f"(server stderr as Claude Code logged it: {report.logs}/claude-cli-nodejs/*/mcp-logs-*/)"


@pytest.mark.parametrize("target", list(TARGETS))
def test_add_json_stores_the_printed_entry(claude_code_report: ClaudeReport, target: str) -> None:
    name = claude_code_report.names[target]
    printed = claude_code_report.printed[name]
    run = claude_code_report.added[name]
    _ok(run)
    assert f"Added stdio MCP server {name}" in run.stdout, run.describe()
    assert printed["command"].startswith("/"), f"--print-config printed a relative command: {printed}"
    # What users are told to paste: the key as a placeholder in a service's entry, none in the all-in-one's.
    if target == ALL_IN_ONE:
        assert not any("API_KEY" in k for k in printed["env"]), printed
    else:
        variable = claude_code_report.key_variables[target]
        assert printed["env"].get("UNIZO_API_KEY") == "${" + variable + "}", printed
    stored = {k: v for k, v in claude_code_report.stored.get(name, {}).items() if k != "type"}
    assert stored == printed, f"Claude Code stored {stored}, --print-config printed {printed}"


@pytest.mark.parametrize("target", list(TARGETS))
def test_list_reports_connected(claude_code_report: ClaudeReport, target: str) -> None:
    run = claude_code_report.listed
    _ok(run)
    name = claude_code_report.names[target]
    status = list_status(run, name)
    assert is_connected(status), f"{name}: {status!r} {_where(claude_code_report)}\n{run.describe()}"


def test_list_expands_every_placeholder(claude_code_report: ClaudeReport) -> None:
    run = claude_code_report.listed
    _ok(run)
    assert MISSING_VARIABLES not in run.stdout + run.stderr, run.describe()
    assert sorted(claude_code_report.stored) == sorted(claude_code_report.printed), run.describe()


@pytest.mark.parametrize("target", list(TARGETS))
def test_get_reports_connected_and_the_entry(claude_code_report: ClaudeReport, target: str) -> None:
    name = claude_code_report.names[target]
    run = claude_code_report.got[name]
    _ok(run)
    status = get_status(run)
    assert is_connected(status), f"{name}: {status!r} {_where(claude_code_report)}\n{run.describe()}"
    printed = claude_code_report.printed[name]
    assert f"Command: {printed['command']}" in run.stdout, run.describe()
    for key, value in printed["env"].items():  # shown as stored: the placeholder, never the key
        assert f"{key}={value}" in run.stdout, run.describe()


@pytest.mark.parametrize("target", list(TARGETS))
def test_revoked_key_fails(claude_code_report: ClaudeReport, target: str) -> None:
    run = claude_code_report.revoked
    _ok(run)
    name = claude_code_report.names[target]
    status = list_status(run, name)
    assert status is not None and not is_connected(status), (
        f"{name} connected with a revoked key: {status!r}\n{run.describe()}"
    )


@pytest.mark.parametrize("target", list(TARGETS))
def test_unset_key_variable_fails(claude_code_report: ClaudeReport, target: str) -> None:
    run = claude_code_report.missing
    _ok(run)
    name = claude_code_report.names[target]
    status = list_status(run, name)
    assert status is not None and not is_connected(status), (
        f"{name} connected without a key: {status!r}\n{run.describe()}"
    )
    if target != ALL_IN_ONE:  # Claude Code names the variable the entry's placeholder needs
        variable = claude_code_report.key_variables[target]
        warned = [
            line
            for line in run.stdout.splitlines()
            if MISSING_VARIABLES in line and f"mcpServers.{name}:" in line
        ]
        assert warned and variable in warned[0], run.describe()
