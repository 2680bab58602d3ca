"""The fast CLI paths (--version, --help, --print-config, configuration errors): no MCP SDK import."""

from __future__ import annotations

import json

import pytest
from mcp_helpers import run_cli
from unizo_mcp_core.settings import SETTINGS

KEY = "uz_prod_0123abcd_" + "S" * 32


def test_version() -> None:
    result = run_cli(["--version"])
    assert result.code == 0, result
    assert result.stdout == "unizo-mcp-testedr 9.9.1 (unizo-mcp-core 0.1.0)\n"
    assert result.heavy == []


def test_help_lists_every_flag_with_its_env_twin() -> None:
    result = run_cli(["--help"])
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
    assert result.heavy == []


def test_all_in_one_help_has_services() -> None:
    result = run_cli(["--help"], service="None")
    assert result.code == 0 and "--services" in result.stdout
    assert result.stdout.startswith("usage: unizo-mcp-server")
    assert result.heavy == []


def test_print_config_has_placeholder_and_non_default_settings_only() -> None:
    env = {
        "UNIZO_EDR_API_KEY": KEY,
        "UNIZO_READ_ONLY": "true",
        "UNIZO_TIMEOUT": "30",
        "HTTPS_PROXY": "http://u:p@h:1",
    }
    result = run_cli(
        ["--print-config", "--timeout", "12", "--tools", "b,a", "--integration-id", "int-9"], env
    )
    assert result.code == 0, result
    entry = json.loads(result.stdout)
    assert entry == {
        "mcpServers": {
            "unizo-edr": {
                "command": "unizo-mcp-testedr",
                "args": [],
                "env": {
                    "UNIZO_API_KEY": "${UNIZO_EDR_API_KEY}",
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
    assert result.heavy == []


def test_print_config_needs_no_key_and_keeps_a_key_file(tmp_path: object) -> None:
    result = run_cli(["--print-config"], {})
    assert result.code == 0, result
    assert json.loads(result.stdout)["mcpServers"]["unizo-edr"]["env"] == {
        "UNIZO_API_KEY": "${UNIZO_EDR_API_KEY}"
    }


@pytest.mark.parametrize(
    ("env", "args", "expected"),
    [
        (
            {},
            [],
            "No API key: set UNIZO_EDR_API_KEY or UNIZO_EDR_API_KEY_FILE or UNIZO_API_KEY or "
            "UNIZO_API_KEY_FILE",
        ),
        ({"UNIZO_SCM_API_KEY": KEY}, [], "No API key: set UNIZO_EDR_API_KEY"),
        ({"UNIZO_API_KEY": KEY, "UNIZO_BASE_URL": "http://api.unizo.ai"}, [], "plain http is refused"),
        ({"UNIZO_API_KEY": KEY}, ["--base-url", "http://127.0.0.1:1"], "plain http is refused"),
        (
            {"UNIZO_API_KEY": KEY, "UNIZO_TIMEOUT": "abc"},
            [],
            "Invalid UNIZO_TIMEOUT: expected a number of seconds",
        ),
        ({"UNIZO_API_KEY": KEY}, ["--limit", "3"], "unrecognized arguments: --limit 3"),
        ({"UNIZO_API_KEY": KEY}, ["--port", "0"], "Invalid UNIZO_PORT: expected an integer from 1 to 65535"),
        ({"UNIZO_API_KEY": KEY}, ["--transport", "streamable-http", "--host", "0.0.0.0"], "--allow-remote"),
        (
            {"UNIZO_API_KEY": KEY, "UNIZO_TRANSPORT": "sse"},
            [],
            "Invalid UNIZO_TRANSPORT: expected one of stdio",
        ),
    ],
)
def test_configuration_errors_are_one_line_and_exit_2(
    env: dict[str, str], args: list[str], expected: str
) -> None:
    result = run_cli(args, env)
    assert result.code == 2, result
    assert result.stdout == ""
    assert len(result.stderr_lines) == 1, result.stderr
    assert result.stderr_lines[0].startswith("unizo-mcp-testedr: error: ")
    assert expected in result.stderr_lines[0]
    assert result.heavy == []
    assert KEY not in result.stderr


def test_unknown_service_lists_installed_ones() -> None:
    result = run_cli(["--services", "nope"], {"UNIZO_API_KEY": KEY}, service="None")
    assert result.code == 2, result
    assert len(result.stderr_lines) == 1
    line = result.stderr_lines[0]
    assert (
        "Unknown service(s) in --services/UNIZO_SERVICES: nope; installed: " in line
        or "No Unizo service" in line
    )


def test_version_alone_imports_neither_the_parser_nor_the_settings() -> None:
    import subprocess
    import sys

    from mcp_helpers import base_env

    code = (
        "import sys\n"
        "from unizo_mcp_core.cli import main\n"
        "assert main(None, argv=['--version']) == 0\n"
        "slow = ('argparse', 'attrs', 'importlib.metadata', 'unizo_mcp_core.settings', "
        "'unizo_mcp_core.docs')\n"
        "print(sorted(m for m in slow if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=base_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["unizo-mcp-server 0.1.0 (unizo-mcp-core 0.1.0)", "[]"]
