"""README tables and the mcpServers entry, generated from the declarations."""

from __future__ import annotations

from mcp_specs import GADGETS, WIDGETS
from unizo_mcp_core.docs import config_entry, exit_codes_table, settings_table, tools_table
from unizo_mcp_core.errors import ExitCode
from unizo_mcp_core.settings import SETTINGS


def test_tools_table_lists_every_tool_with_permission_and_behaviour() -> None:
    table = tools_table(GADGETS)
    lines = table.strip().splitlines()
    assert lines[0] == "| tool | permission | behaviour | description |"
    assert len(lines) == 2 + len(GADGETS.all_tools())
    assert "| `gadgets_create_gadget` | `gadgets:write` | writes | Create a gadget. |" in lines
    assert "| `gadgets_list_gadgets` | `gadgets:read` | read-only | List gadgets of a shelf. |" in lines
    assert tools_table(GADGETS) == table


def test_config_entry_uses_a_placeholder_never_a_key() -> None:
    entry = config_entry(
        WIDGETS,
        env={"UNIZO_API_KEY": "uz_prod_secret", "UNIZO_WIDGETS_API_KEY": "x", "UNIZO_READ_ONLY": "true"},
    )
    assert entry == {
        "mcpServers": {
            "unizo-widgets": {
                "command": "unizo-mcp-testwidgets",
                "args": [],
                "env": {"UNIZO_API_KEY": "${UNIZO_WIDGETS_API_KEY}", "UNIZO_READ_ONLY": "true"},
            }
        }
    }
    all_in_one = config_entry(None, args=["--services", "widgets"])["mcpServers"]["unizo"]
    assert all_in_one == {
        "command": "unizo-mcp-server",
        "args": ["--services", "widgets"],
        "env": {},  # each service reads its own UNIZO_<SERVICE>_API_KEY; no shared key is suggested
    }


def test_key_file_replaces_the_placeholder() -> None:
    entry = config_entry(WIDGETS, command="/opt/bin/x", env={"UNIZO_API_KEY_FILE": "/run/key"})["mcpServers"][
        "unizo-widgets"
    ]
    assert entry["env"] == {"UNIZO_API_KEY_FILE": "/run/key"}
    assert entry["command"] == "/opt/bin/x"


def test_settings_table_has_every_setting() -> None:
    table = settings_table()
    for setting in SETTINGS:
        assert setting.env.split(",")[0] in table
        if setting.flag:
            assert f"`{setting.flag}`" in table
    assert "| `UNIZO_TIMEOUT` | `--timeout` | `30` | seconds per request |" in table


def test_exit_codes_table() -> None:
    table = exit_codes_table()
    for code in ExitCode:
        assert f"| {int(code)} | `{code.name}` |" in table
