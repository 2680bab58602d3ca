"""The fast CLI paths (--version, --help, --print-config, configuration errors), in process, plus one real
interpreter that checks what each path imports: none loads the MCP SDK, aiohttp or pydantic."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import base_env, run_main, sandbox_env
from mcp_specs import WIDGETS
from servicekit import a_service
from unizo_mcp_core import __version__ as core_version
from unizo_mcp_core.settings import SETTINGS

KEY = "uz_prod_0123abcd_" + "S" * 32


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main(capsys, WIDGETS, ["--version"])
    assert result.code == 0, result
    assert result.stdout == f"unizo-mcp-testwidgets 9.9.1 (unizo-mcp-core {core_version})\n"


def test_help_lists_every_flag_with_its_env_twin(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main(capsys, WIDGETS, ["--help"])
    assert result.code == 0, result
    text = " ".join(result.stdout.split())
    for setting in SETTINGS:
        if setting.flag and setting.env != "UNIZO_SERVICES":
            assert setting.flag in text
            assert f"env {setting.env}" in text
    assert "--services" not in text  # only the all-in-one server has it
    for flag in ("--test-auth", "--verify-connection", "--print-config", "--version"):
        assert flag in text
    assert "exit codes:" in result.stdout and "--exclude-tools > --read-only" in text


def test_all_in_one_help_has_services(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main(capsys, None, ["--help"])
    assert result.code == 0 and "--services" in result.stdout
    assert result.stdout.startswith("usage: unizo-mcp-server")


def test_print_config_has_placeholder_and_non_default_settings_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        "UNIZO_WIDGETS_API_KEY": KEY,
        "UNIZO_READ_ONLY": "true",
        "UNIZO_TIMEOUT": "30",
        "HTTPS_PROXY": "http://u:p@h:1",
    }
    args = ["--print-config", "--timeout", "12", "--tools", "b,a", "--integration-id", "int-9"]
    result = run_main(capsys, WIDGETS, args, env)
    assert result.code == 0, result
    entry = json.loads(result.stdout)
    assert entry == {
        "mcpServers": {
            "unizo-widgets": {
                "command": "unizo-mcp-testwidgets",
                "args": [],
                "env": {
                    "UNIZO_API_KEY": "${UNIZO_WIDGETS_API_KEY}",
                    "UNIZO_INTEGRATION_ID": "int-9",
                    "UNIZO_READ_ONLY": "true",
                    "UNIZO_TIMEOUT": "12",
                    "UNIZO_TOOLS": "a,b",
                },
            }
        }
    }
    assert KEY not in result.stdout and KEY not in result.stderr
    assert "chmod 600" in result.stderr


def test_print_config_needs_no_key_and_keeps_a_key_file(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main(capsys, WIDGETS, ["--print-config"], {})
    assert result.code == 0, result
    assert json.loads(result.stdout)["mcpServers"]["unizo-widgets"]["env"] == {
        "UNIZO_API_KEY": "${UNIZO_WIDGETS_API_KEY}"
    }


CONFIG_ERRORS = [
    (
        {},
        [],
        "No API key: set UNIZO_WIDGETS_API_KEY or UNIZO_WIDGETS_API_KEY_FILE or UNIZO_API_KEY or "
        "UNIZO_API_KEY_FILE",
    ),
    ({"UNIZO_GADGETS_API_KEY": KEY}, [], "No API key: set UNIZO_WIDGETS_API_KEY"),
    ({"UNIZO_API_KEY": KEY, "UNIZO_BASE_URL": "http://api.unizo.ai"}, [], "plain http is refused"),
    ({"UNIZO_API_KEY": KEY}, ["--base-url", "http://127.0.0.1:1"], "plain http is refused"),
    (
        {"UNIZO_API_KEY": KEY, "UNIZO_TIMEOUT": "abc"},
        [],
        "Invalid UNIZO_TIMEOUT: expected a number of seconds",
    ),
    ({"UNIZO_API_KEY": KEY}, ["--limit", "3"], "unrecognized arguments: --limit (and 1 value(s), not shown)"),
    # a key typed on the command line: argparse alone would take --api-key for --api-key-file, then name
    # the key in "cannot read the key file"
    ({}, ["--api-key", KEY], "unrecognized arguments: --api-key; a key is never taken on the command line"),
    ({}, [f"--api-key={KEY}"], "unrecognized arguments: --api-key; a key is never taken on the command line"),
    ({}, ["--token", KEY, "--test-auth"], "or pass --api-key-file PATH"),
    # no abbreviations: --read is not --read-only
    ({"UNIZO_API_KEY": KEY}, ["--read", "yes"], "unrecognized arguments: --read (and 1 value(s), not shown)"),
    ({"UNIZO_API_KEY": KEY}, ["--transport", KEY], "Invalid UNIZO_TRANSPORT"),
    # the key where its file's path goes: not shown, and where the file was looked for is
    ({"UNIZO_API_KEY_FILE": KEY}, [], "The name has no directory, so it was looked for in the working"),
    ({}, ["--api-key-file", KEY], "If the value is the key itself, set UNIZO_API_KEY instead"),
    ({"UNIZO_API_KEY_FILE": "${HOME}/key"}, [], "holds the placeholder ${HOME}, which the MCP client passed"),
    ({"UNIZO_API_KEY": KEY}, ["--port", "70000"], "Invalid UNIZO_PORT: expected an integer from 0 to 65535"),
    ({"UNIZO_API_KEY": KEY}, ["--transport", "streamable-http", "--host", "0.0.0.0"], "--allow-remote"),
    (
        {"UNIZO_API_KEY": KEY, "UNIZO_TRANSPORT": "sse"},
        [],
        "Invalid UNIZO_TRANSPORT: expected one of stdio",
    ),
]


@pytest.mark.parametrize(("env", "args", "expected"), CONFIG_ERRORS)
def test_configuration_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], env: dict[str, str], args: list[str], expected: str
) -> None:
    result = run_main(capsys, WIDGETS, args, env)
    assert result.code == 2, result
    assert result.stdout == ""
    assert len(result.stderr_lines) == 1, result.stderr
    assert result.stderr_lines[0].startswith("unizo-mcp-testwidgets: error: ")
    assert expected in result.stderr_lines[0]
    assert KEY not in result.stderr


def test_unknown_service_lists_installed_ones(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_main(capsys, None, ["--services", "nope"], {"UNIZO_API_KEY": KEY})
    assert result.code == 2, result
    assert len(result.stderr_lines) == 1
    line = result.stderr_lines[0]
    assert (
        "Unknown service(s) in --services/UNIZO_SERVICES: nope; installed: " in line
        or "No Unizo service" in line
    )


# --- what each path imports: one fresh interpreter, the paths one after the other ---------------------

# Runs each step of argv[1] (JSON) through the CLI and reports, after each, its exit code, its stdout
# and which watched modules are loaded by then. The steps go from the lightest path to the heaviest.
IMPORTS_SCRIPT = """
import contextlib, io, json, sys
from unizo_mcp_core.cli import main
WATCHED = ("argparse", "attrs", "importlib.metadata", "unizo_mcp_core.settings", "unizo_mcp_core.docs",
           "mcp", "aiohttp", "pydantic")
report = []
for service_name, argv, env in json.loads(sys.argv[1]):
    if service_name is None:
        service = None
    elif service_name == "test:widgets":
        from mcp_specs import WIDGETS as service
    else:
        from unizo_mcp_core.registry import discover_services
        service = discover_services()[service_name]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            code = main(service, argv=argv, environ=env)
        except SystemExit as exc:
            code = exc.code
    report.append([code, out.getvalue(), sorted(m for m in WATCHED if m in sys.modules)])
sys.__stdout__.write(json.dumps(report))
"""
SLOW = ["argparse", "attrs", "importlib.metadata", "unizo_mcp_core.docs", "unizo_mcp_core.settings"]
HEAVY = {"mcp", "aiohttp", "pydantic"}


@pytest.mark.slow
def test_each_path_imports_only_what_it_needs(sandbox: Any) -> None:
    """--version alone imports neither the parser nor the settings; --help, --print-config and
    configuration errors none of the MCP SDK, aiohttp and pydantic; --test-auth and --verify-connection
    never the MCP SDK (they need aiohttp for the API)."""
    served = a_service().name
    env = sandbox_env(sandbox)
    steps = [  # (service, argv, environment, exit code)
        (None, ["--version"], {}, 0),
        ("test:widgets", ["--version"], {}, 0),
        ("test:widgets", ["--help"], {}, 0),
        (None, ["--help"], {}, 0),
        ("test:widgets", ["--print-config", "--read-only"], {"UNIZO_API_KEY": KEY}, 0),
        (None, ["--print-config", "--services", served], {}, 0),
        *(("test:widgets", args, env, 2) for env, args, _ in CONFIG_ERRORS),
        (served, ["--test-auth"], env, 0),
        (served, ["--verify-connection"], env, 0),
    ]
    proc = subprocess.run(
        [sys.executable, "-c", IMPORTS_SCRIPT, json.dumps([step[:3] for step in steps])],
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [code for code, _, _ in report] == [step[3] for step in steps], report
    (_, out, loaded), *fast, test_auth, verify = report
    assert out == f"unizo-mcp-server {core_version} (unizo-mcp-core {core_version})\n"
    assert not set(loaded) & set(SLOW), loaded
    for step, (_, _, loaded) in zip(steps[1:-2], fast, strict=True):
        assert not set(loaded) & HEAVY, (step[:2], loaded)
    assert "mcp" not in test_auth[2] and "mcp" not in verify[2], (test_auth[2], verify[2])


SERVE_BARE_SCRIPT = """
import json, sys, threading
from unizo_mcp_core import tls
from unizo_mcp_core.cli import main
from unizo_mcp_core.registry import discover_services
builds, build = [], tls._build
def counted(*args):
    builds.append(threading.current_thread().name)
    return build(*args)
tls._build = counted
code = main(discover_services()[sys.argv[1]], argv=[], environ=json.loads(sys.argv[2]))
loaded = [name in sys.modules for name in ("mcp", "argparse", "sqlite3")]
sys.stderr.write(json.dumps([code, *loaded, builds]) + "\\n")
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "process"])
def test_serving_with_no_arguments_loads_only_what_it_uses(sandbox: Any, backend: str) -> None:
    """How MCP clients start a server: no arguments. It serves (here until stdin ends) without importing
    the parser, and SQLite only for the local rate-limit store (the default), not when limits stay in
    the process. The trust store is loaded once, on the thread the CLI starts for it (while the HTTP
    stack imports), and the client's key check takes that context."""
    env = {**sandbox_env(sandbox), "UNIZO_RATE_LIMIT_BACKEND": backend}
    proc = subprocess.run(
        [sys.executable, "-c", SERVE_BARE_SCRIPT, a_service().name, json.dumps(env)],
        env=base_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # no request came, so no protocol message either
    code, mcp, argparse, sqlite, builds = json.loads(proc.stderr.splitlines()[-1])
    assert (code, mcp, argparse) == (0, True, False), proc.stderr
    assert sqlite is (backend == "local"), proc.stderr
    assert builds == ["unizo-tls"], proc.stderr


@pytest.mark.parametrize(
    "argv", [["--help"], ["--print-config"], ["--verify-connection"], ["--test-auth"]], ids=" ".join
)
def test_output_into_a_pipe_whose_reader_left_ends_quietly(argv: list[str]) -> None:
    """`... | head`: the reader is gone (here before the first line). Exit code 141, as shells report a
    command whose reader left, and nothing on stderr: no traceback, and no network step that took the
    broken pipe for its own failure (it once reported DNS failing)."""
    command = shutil.which(a_service().package, path=str(Path(sys.executable).parent))
    assert command is not None
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        env = base_env({"UNIZO_API_KEY": KEY, "UNIZO_BASE_URL": "https://127.0.0.1:1", "UNIZO_TIMEOUT": "2"})
        proc = subprocess.run(
            [command, *argv], stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, timeout=120
        )
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, "")
