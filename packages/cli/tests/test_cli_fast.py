"""`unizo --version` and `--help` are fast: neither imports aiohttp or the MCP SDK; the console script and
`python -m unizo_cli` agree; usage errors are one line, exit code 2, and never echo a value."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from unizo_cli import __version__

HEAVY = ("aiohttp", "mcp", "yarl", "multidict")
# Runs the CLI and reports, at exit, which heavy packages were imported. sys.argv[1:] are its arguments.
CODE = """
import atexit, sys
def _report():
    sys.stderr.write("\\n__HEAVY__=" + ",".join(sorted(m for m in {heavy!r} if m in sys.modules)) + "\\n")
atexit.register(_report)
from unizo_cli.__main__ import main
main()
"""


def run(*args: str, home: Path) -> tuple[int, str, str, list[str]]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-c", CODE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        encoding="utf-8",
    )
    err, _, heavy = proc.stderr.rpartition("\n__HEAVY__=")
    return proc.returncode, proc.stdout, err, [m for m in heavy.strip().split(",") if m]


def test_version_imports_nothing_heavy(tmp_path: Path) -> None:
    code, out, _, heavy = run("--version", home=tmp_path)
    assert (code, out, heavy) == (0, f"unizo-cli {__version__} (unizo-mcp-core 0.1.0)\n", [])


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["api-keys", "create"],
        ["api-keys", "rotate"],
        ["logs", "api-usage"],
        ["alerts", "create"],
        ["config", "install"],
        ["config", "check"],
        ["doctor"],
    ],
    ids=lambda c: " ".join(c) or "unizo",
)
def test_help_imports_nothing_heavy(command: list[str], tmp_path: Path) -> None:
    code, out, err, heavy = run(*command, "--help", home=tmp_path)
    assert code == 0, err
    assert out.startswith("usage: unizo")
    assert heavy == []


def test_help_names_the_key_variables_exit_codes_and_examples(tmp_path: Path) -> None:
    _, out, _, _ = run("--help", home=tmp_path)
    text = " ".join(out.split())
    for word in (
        "UNIZO_ADMIN_API_KEY",
        "UNIZO_API_KEY_FILE",
        "--base-url",
        "--ca-bundle",
        "exit codes",
        "130",
    ):
        assert word in text
    _, out, _, _ = run("alerts", "create", "--help", home=tmp_path)
    assert "api_requests > 1000/hour" in out and "error_rate" in out
    _, out, _, _ = run("api-keys", "rotate", "--help", home=tmp_path)
    assert "--grace" in out and "UNIZO_API_KEY_FILE" in out


def test_console_script_and_python_m_agree(tmp_path: Path) -> None:
    script = shutil.which("unizo", path=str(Path(sys.executable).parent))
    assert script, "the unizo console script is not installed next to this Python"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    via_script = subprocess.run([script, "--version"], capture_output=True, text=True, env=env, timeout=60)
    via_module = subprocess.run(
        [sys.executable, "-m", "unizo_cli", "--version"], capture_output=True, text=True, env=env, timeout=60
    )
    assert via_script.returncode == via_module.returncode == 0
    assert via_script.stdout == via_module.stdout


def test_usage_errors_are_one_line_exit_2_and_echo_no_value(tmp_path: Path) -> None:
    secret = "uz_prod_0123abcd_" + "S" * 32
    code, out, err, _ = run("api-keys", "list", secret, "--bogus", home=tmp_path)
    assert code == 2 and out == ""
    assert "unrecognized arguments: --bogus (and 1 value(s), not shown)" in err
    assert secret not in err and len(err.strip().splitlines()) == 1
    code, _, err, _ = run("api-keys", "revoke", home=tmp_path)
    assert code == 2 and "--key-id" in err
    code, _, err, _ = run("config", "install", "--client", "emacs", "--service", "x", home=tmp_path)
    assert code == 2 and "invalid choice" in err
    # a key typed as an option: refused before argparse could take it for the command's name and quote it
    code, out, err, _ = run("--api-key", secret, "api-keys", "list", home=tmp_path)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "unrecognized arguments: --api-key;" in err and "--api-key-file PATH" in err
    assert secret not in err
    code, _, err, _ = run("config", "install", "--client", secret, home=tmp_path)
    assert code == 2 and "invalid choice (not shown) (choose from" in err and secret not in err


@pytest.mark.parametrize("argv", [["--help"], ["api-keys", "--help"]], ids=" ".join)
def test_output_into_a_pipe_whose_reader_left_ends_quietly(argv: list[str], tmp_path: Path) -> None:
    """`unizo ... | head`, the reader gone: exit code 141 and no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "unizo_cli", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (141, "")
