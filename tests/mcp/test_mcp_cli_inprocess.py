"""CLI pieces in process: service discovery, --services, --print-config details, all-in-one --test-auth."""

from __future__ import annotations

import importlib.metadata
import io
import json
from pathlib import Path
from typing import Any

import pytest
from mcp_helpers import two_services
from mcp_specs import GADGETS, WIDGETS
from unizo_mcp_core import cli, diagnostics, registry
from unizo_mcp_core.errors import ConfigError
from unizo_mcp_core.settings import load_settings

KEY = "uz_prod_0123abcd_" + "K" * 32
GROUP = "unizo_mcp.services"


def fake_entry_points(monkeypatch: pytest.MonkeyPatch, *values: tuple[str, str]) -> None:
    points = importlib.metadata.EntryPoints(importlib.metadata.EntryPoint(n, v, GROUP) for n, v in values)

    def entry_points(**params: Any) -> importlib.metadata.EntryPoints:
        assert params == {"group": GROUP}
        return points

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def test_discovery_and_selection(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    fake_entry_points(
        monkeypatch,
        ("widgets", "mcp_specs:WIDGETS"),
        ("gadgets", "mcp_specs:GADGETS"),
        ("broken", "no_such_module_xyz:SERVICE"),
        ("odd", "mcp_specs:CREATE_GADGET"),
    )
    found = registry.discover_services()
    assert found == {"gadgets": GADGETS, "widgets": WIDGETS}
    warnings = capsys.readouterr().err
    assert "cannot load Unizo service 'broken'" in warnings and "'odd'" in warnings
    assert registry.select_services(found, None) == [GADGETS, WIDGETS]
    assert registry.select_services(found, frozenset({"widgets"})) == [WIDGETS]
    with pytest.raises(ConfigError, match=r"Unknown service.*: sprockets; installed: gadgets, widgets"):
        registry.select_services(found, frozenset({"sprockets", "widgets"}))
    with pytest.raises(ConfigError, match="No Unizo service package is installed"):
        registry.select_services({}, None)


def test_all_in_one_print_config(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    fake_entry_points(monkeypatch, ("widgets", "mcp_specs:WIDGETS"), ("gadgets", "mcp_specs:GADGETS"))
    env = {"UNIZO_API_KEY": KEY, "UNIZO_SERVICES": "widgets", "UNIZO_GADGETS_INTEGRATION_ID": "t-1"}
    code = cli.main(None, argv=["--print-config", "--read-only"], environ=env)
    out = capsys.readouterr().out
    assert code == 0
    entry = json.loads(out)["mcpServers"]["unizo"]
    assert Path(entry.pop("command")).name == "unizo-mcp-server"  # absolute when it is installed
    # no key variable: each service reads its own UNIZO_<SERVICE>_API_KEY (named on stderr)
    assert entry == {
        "args": [],
        "env": {
            "UNIZO_READ_ONLY": "true",
            "UNIZO_SERVICES": "widgets",
            "UNIZO_GADGETS_INTEGRATION_ID": "t-1",
        },
    }
    assert KEY not in out


def test_all_in_one_print_config_checks_service_names_without_loading_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the fast path reads the names only: a module that cannot even be imported is not touched
    fake_entry_points(
        monkeypatch, ("widgets", "no_such_module_xyz:SERVICE"), ("gadgets", "no_such_module_xyz:S")
    )
    code = cli.main(None, argv=["--print-config", "--services", "widgets"], environ={})
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["mcpServers"]["unizo"]["env"]["UNIZO_SERVICES"] == "widgets"
    assert "cannot load" not in err
    assert cli.main(None, argv=["--print-config", "--services", "widgets,nope"], environ={}) == 2
    err = capsys.readouterr().err
    assert "Unknown service(s) in --services/UNIZO_SERVICES: nope; installed: gadgets, widgets" in err


def test_print_config_with_a_key_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    code = cli.main(
        WIDGETS,
        argv=["--print-config", "--api-key-file", str(key_file)],
        environ={"UNIZO_WIDGETS_API_KEY": "x" * 20},
    )
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["mcpServers"]["unizo-widgets"]["env"] == {"UNIZO_API_KEY_FILE": str(key_file)}
    assert KEY not in out


def test_flags_override_env() -> None:
    parser = cli.build_parser(WIDGETS, "x")
    namespace = parser.parse_args(["--timeout", "5", "--read-only", "--integration-id", "flag-id"])
    env, overrides = cli._overrides(
        WIDGETS, namespace, {"UNIZO_TIMEOUT": "9", "UNIZO_WIDGETS_INTEGRATION_ID": "env-id"}
    )
    settings = load_settings("widgets", env, overrides, require_key=False)
    assert settings.timeout == 5.0 and settings.read_only is True and settings.integration_id == "flag-id"
    assert settings.integration_id_for("widgets") == "flag-id"


@pytest.mark.parametrize("service", [WIDGETS, None], ids=["one service", "all-in-one"])
def test_no_arguments_reads_as_the_parser_would(service: Any) -> None:
    """main() skips the parser when there are no arguments; what it uses instead must be what the
    parser gives for none, or a flag added with a default would be lost for servers started bare."""
    parsed = vars(cli.build_parser(service, "x").parse_args([]))
    assert vars(cli.NO_ARGUMENTS).keys() <= parsed.keys()
    assert {dest: getattr(cli.NO_ARGUMENTS, dest, None) for dest in parsed} == parsed


def test_user_agent() -> None:
    assert registry.user_agent([WIDGETS]) == "unizo-mcp-testwidgets/9.9.1 unizo-mcp-core/0.1.0"
    assert (
        registry.user_agent([WIDGETS, GADGETS], "unizo-mcp-server", "1.2.3")
        == "unizo-mcp-server/1.2.3 unizo-mcp-core/0.1.0"
    )


async def test_all_in_one_test_auth_lists_each_service(sandbox: Any, new_key: Any) -> None:
    allowed, other = two_services()
    key = await new_key({allowed.name: ["read", "write", "delete"]})
    out = io.StringIO()
    settings = load_settings(None, {**sandbox.env("full"), "UNIZO_API_KEY": key, "UNIZO_RETRY_ATTEMPTS": "0"})
    code = await diagnostics.test_auth(settings, [allowed, other], out=out)
    lines = out.getvalue().splitlines()
    assert code == 0
    assert f"  permissions   {allowed.name}: read, write, delete" in lines
    assert f"  permissions   {other.name}: none" in lines
    assert lines[-1] == f"Result: OK: the key is valid and can use {allowed.name}."
