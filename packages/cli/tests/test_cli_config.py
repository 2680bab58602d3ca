"""`unizo config install` and `unizo config check` on real configuration files of every supported client, in a
temporary HOME: the standard locations, the placeholder each client expands, backups, other entries kept, mode
600; and the audit of literal keys, file modes, http:// URLs, environments, placeholders and shared keys."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_testkit import Result
from servicekit import installed
from unizo_cli.clients import CLIENTS
from unizo_mcp_core.cli import command_path
from unizo_mcp_core.registry import server_name
from unizo_mcp_core.spec import ServiceSpec

SPECS = list(installed().values())
SPEC, OTHER = SPECS[0], SPECS[1]
NAME = server_name(SPEC)
PROD_KEY = "uz_prod_0123abcd_" + "P" * 32
DEV_KEY = "uz_dev_4567cdef_" + "D" * 32
CLIENT_NAMES = sorted(CLIENTS)


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}


def config_of(client: str, home: Path, env: dict[str, str]) -> Path:
    return CLIENTS[client].user_config(home, env, sys.platform)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_json(path: Path, data: Any, file_mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))
    path.chmod(file_mode)


def key_file(home: Path, spec: ServiceSpec = SPEC, key: str = PROD_KEY, file_mode: int = 0o600) -> Path:
    path = home / "keys" / f"{spec.name}.key"
    path.parent.mkdir(exist_ok=True)
    path.write_text(key + "\n")
    path.chmod(file_mode)
    return path


# Realistic files each client already has: other servers, other settings.
EXISTING: dict[str, dict[str, Any]] = {
    "claude-desktop": {
        "globalShortcut": "Ctrl+Space",
        "mcpServers": {
            "filesystem": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-filesystem", "/data"],
            },
        },
    },
    "claude-code": {
        "numStartups": 12,
        "projects": {
            "/work/app": {"allowedTools": [], "mcpServers": {"db": {"type": "stdio", "command": "db-mcp"}}}
        },
        "mcpServers": {"github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"}},
    },
    "cursor": {
        "mcpServers": {"github": {"command": "npx", "args": ["-y", "gh-mcp"], "env": {"T": "${env:GH}"}}}
    },
    "vscode": {
        "inputs": [{"type": "promptString", "id": "gh", "description": "token", "password": True}],
        "servers": {"github": {"type": "http", "url": "https://api.githubcopilot.com/mcp/"}},
    },
    "windsurf": {"mcpServers": {"remote": {"serverUrl": "https://example.com/mcp"}}},
}
PLACEHOLDERS = {"claude-code": "${%s}", "cursor": "${env:%s}", "vscode": "${env:%s}", "windsurf": "${env:%s}"}


@pytest.mark.parametrize("client", CLIENT_NAMES)
def test_install_into_a_fresh_home(
    unizo: Callable[..., Result], env: dict[str, str], home: Path, client: str
) -> None:
    result = unizo("config", "install", "--client", client, "--service", SPEC.name, env=env)
    assert result.code == 0, result.err
    path = config_of(client, home, env)
    assert mode(path) == 0o600
    data = json.loads(path.read_text())
    root = "servers" if client == "vscode" else "mcpServers"
    assert list(data) == [root] and list(data[root]) == [NAME]
    entry = data[root][NAME]
    assert entry["command"] == command_path(SPEC.package) and os.path.isabs(entry["command"])
    assert entry["args"] == []
    assert ("type" in entry) == (client in ("claude-code", "vscode"))
    if client == "claude-desktop":  # expands no placeholder: a key file, never the key
        default = home / ".config" / "unizo" / "keys" / f"{NAME}.key"
        assert entry["env"] == {"UNIZO_API_KEY_FILE": str(default)}
        assert "does not exist yet" in result.err and f"--output-file {default}" in result.err
        assert default.parent.is_dir() and mode(default.parent) == 0o700  # ready for that command
    else:
        assert entry["env"] == {"UNIZO_API_KEY": PLACEHOLDERS[client] % SPEC.key_variable}
    assert "added" in result.out and "none (new file)" in result.out
    assert not list(path.parent.glob("*.bak"))


@pytest.mark.parametrize("client", CLIENT_NAMES)
def test_install_merges_into_an_existing_file_and_check_passes(
    unizo: Callable[..., Result], env: dict[str, str], home: Path, client: str
) -> None:
    path = config_of(client, home, env)
    write_json(path, EXISTING[client])
    original = path.read_bytes()
    keys = key_file(home)
    args = ("config", "install", "--client", client, "--service", SPEC.name, "--key-file", str(keys))
    first = unizo(*args, "--json", env=env)
    assert first.code == 0, first.err
    assert first.json["action"] == "added" and first.json["config"] == str(path)
    backup = Path(first.json["backup"])
    assert backup.read_bytes() == original and mode(backup) == 0o600
    data = json.loads(path.read_text())
    root = "servers" if client == "vscode" else "mcpServers"
    entry = data[root].pop(NAME)
    assert data == EXISTING[client]  # nothing else touched
    assert entry["env"] == {"UNIZO_API_KEY_FILE": str(keys)} and mode(path) == 0o600
    second = unizo(*args, "--read-only", "--json", env=env)
    assert second.code == 0 and second.json["action"] == "replaced"
    assert json.loads(path.read_text())[root][NAME]["args"] == ["--read-only"]
    assert len(list(path.parent.glob(path.name + ".*.bak"))) == 2
    check = unizo("config", "check", "--config", str(path), env=env)
    assert check.code == 0, check.out
    assert "No problems found." in check.out and f"1 Unizo entry ({NAME})" in check.out


def test_install_takes_the_servers_settings_but_never_the_shells_key(
    unizo: Callable[..., Result], env: dict[str, str], home: Path, sandbox: Any
) -> None:
    shell = {**env, **sandbox.env("full"), "UNIZO_API_KEY_FILE": str(key_file(home, OTHER))}
    result = unizo("config", "install", "--client", "cursor", "--service", SPEC.name, env=shell)
    assert result.code == 0, result.err
    entry = json.loads(config_of("cursor", home, env).read_text())["mcpServers"][NAME]
    assert entry["env"] == {
        "UNIZO_API_KEY": f"${{env:{SPEC.key_variable}}}",
        "UNIZO_BASE_URL": sandbox.base_url,
        "UNIZO_CA_BUNDLE": str(sandbox.ca_file),
    }
    assert sandbox.keys["full"] not in result.text


def test_install_writes_through_a_symlink(
    unizo: Callable[..., Result], env: dict[str, str], home: Path
) -> None:
    real = home / "dotfiles" / "claude.json"
    write_json(real, {"mcpServers": {}})
    link = config_of("claude-code", home, env)
    link.symlink_to(real)
    assert unizo("config", "install", "--client", "claude-code", "--service", SPEC.name, env=env).code == 0
    assert link.is_symlink() and NAME in json.loads(real.read_text())["mcpServers"]
    assert mode(real) == 0o600


def test_install_refusals_leave_the_file_as_it_was(
    unizo: Callable[..., Result], env: dict[str, str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config_of("cursor", home, env)
    path.parent.mkdir(parents=True)
    cases = {
        '{"mcpServers": {"a": {}},\n  "b" 1}': "is not valid JSON (line 2, column 7",
        "[1, 2]": "holds a JSON list, not an object",
        '{"mcpServers": []}': "mcpServers is a JSON list, not an object of servers",
        '{"mcpServers": {} // a comment\n}': "holds comments (JSONC)",
    }
    for text, says in cases.items():
        path.write_text(text)
        result = unizo("config", "install", "--client", "cursor", "--service", SPEC.name, env=env)
        assert result.code == 2, (text, result.err)
        assert says in result.err, result.err
        assert path.read_text() == text and not list(path.parent.glob("*.bak"))
    unknown = unizo("config", "install", "--client", "cursor", "--service", "nothing_here", env=env)
    assert (
        unknown.code == 2 and "no such service is installed here" in unknown.err and SPEC.name in unknown.err
    )
    path.unlink()
    path.mkdir()  # a directory where the file should be
    assert (
        "Cannot read" in unizo("config", "install", "--client", "cursor", "--service", SPEC.name, env=env).err
    )
    path.rmdir()
    path.write_text("{}")
    original = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    refused = unizo("config", "install", "--client", "cursor", "--service", SPEC.name, env=env)
    assert refused.code == 2 and f"Cannot read {path}: Permission denied" in refused.err
    checked = unizo("config", "check", "--config", str(path), env=env)
    assert checked.code == 2 and "ERROR: Cannot read" in checked.out


def test_vscode_comments_are_read_and_kept_unless_forced(
    unizo: Callable[..., Result], env: dict[str, str], home: Path
) -> None:
    path = config_of("vscode", home, env)
    path.parent.mkdir(parents=True)
    text = '{\n  // my servers\n  "servers": {\n    "x": {"command": "x"},\n  },\n}\n'
    path.write_text(text)
    path.chmod(0o600)
    assert unizo("config", "check", "--config", str(path), env=env).code == 0
    refused = unizo("config", "install", "--client", "vscode", "--service", SPEC.name, env=env)
    assert refused.code == 2 and path.read_text() == text
    forced = unizo(
        "config", "install", "--client", "vscode", "--service", SPEC.name, "--force", "--json", env=env
    )
    assert forced.code == 0
    assert Path(forced.json["backup"]).read_text() == text
    assert set(json.loads(path.read_text())["servers"]) == {"x", NAME}


def test_check_finds_every_problem_and_shows_keys_by_fingerprint_only(
    unizo: Callable[..., Result], env: dict[str, str], home: Path
) -> None:
    from unizo_mcp_core.keys import fingerprint

    path = config_of("claude-desktop", home, env)
    script = command_path(SPEC.package)
    other_script = command_path(OTHER.package)
    write_json(
        path,
        {
            "mcpServers": {
                "literal": {
                    "command": script,
                    "env": {"UNIZO_API_KEY": PROD_KEY, "UNIZO_BASE_URL": "http://api.local"},
                },
                "copied": {"command": other_script, "env": {"UNIZO_API_KEY": PROD_KEY}},
                "placeholder": {"command": script, "env": {"UNIZO_API_KEY": f"${{{SPEC.key_variable}}}"}},
                "dev-in-prod": {
                    "command": script,
                    "env": {"UNIZO_API_KEY": DEV_KEY, "UNIZO_ENVIRONMENT": "production"},
                },
                "someone-else": {"command": "npx", "args": ["other-mcp"], "env": {"TOKEN": "abc"}},
            }
        },
    )
    result = unizo("config", "check", "--json", env=env)
    assert result.code == 2
    assert PROD_KEY not in result.text and DEV_KEY not in result.text
    report = result.json
    [checked] = report["files"]
    assert checked["client"] == "claude-desktop" and checked["mode"] == "0644"
    assert checked["unizoEntries"] == ["literal", "copied", "placeholder", "dev-in-prod"]
    found = {(f["check"], f["entry"]) for f in report["findings"]}
    assert found == {
        ("file-mode", "(file)"),
        ("literal-key", "literal"),
        ("literal-key", "copied"),
        ("literal-key", "dev-in-prod"),
        ("http-url", "literal"),
        ("placeholder", "placeholder"),
        ("environment", "dev-in-prod"),
        ("shared-key", "copied, literal"),
    }
    messages = " ".join(f["message"] + " " + f["fix"] for f in report["findings"])
    assert fingerprint(PROD_KEY) in messages and fingerprint(DEV_KEY) in messages
    assert "a development key in an entry for production" in messages
    assert f"Claude Desktop does not expand ${{{SPEC.key_variable}}}" in messages
    assert f"serves {', '.join(sorted([SPEC.name, OTHER.name]))}" in messages
    table = unizo("config", "check", env=env)
    assert table.code == 2 and "8 problem(s)" in table.out and "--fix" in table.err
    fixed = unizo("config", "check", "--fix", env=env)
    assert fixed.code == 2 and "7 problem(s), 1 fixed" in fixed.out and mode(path) == 0o600


@pytest.mark.parametrize(
    ("client", "value", "expected"),
    [
        ("cursor", "${%s}", "write ${env:%s}"),
        ("windsurf", "$%s", "write ${env:%s}"),
        ("claude-code", "${env:%s}", "write ${%s}"),
        ("vscode", "${%s}", "write ${env:%s}"),
        ("cursor", "${env:%s}", None),
        ("vscode", "${input:unizo-key}", None),
        ("claude-code", "${%s:-}", None),
        ("windsurf", "${file:/run/secrets/unizo}", None),
    ],
)
def test_placeholders_the_client_will_not_expand(
    unizo: Callable[..., Result],
    env: dict[str, str],
    home: Path,
    client: str,
    value: str,
    expected: str | None,
) -> None:
    path = config_of(client, home, env)
    root = CLIENTS[client].root
    text = value % SPEC.key_variable if "%s" in value else value
    write_json(
        path, {root: {NAME: {"command": command_path(SPEC.package), "env": {"UNIZO_API_KEY": text}}}}, 0o600
    )
    result = unizo("config", "check", "--json", env=env)
    findings = [f for f in result.json["findings"] if f["check"] == "placeholder"]
    if expected is None:
        assert (result.code, findings) == (0, [])
    else:
        assert result.code == 2 and [f["fix"] for f in findings] == [expected % SPEC.key_variable]


def test_key_files_are_audited_too(unizo: Callable[..., Result], env: dict[str, str], home: Path) -> None:
    open_key = key_file(home, SPEC, PROD_KEY, 0o644)
    dev_key = key_file(home, OTHER, DEV_KEY)
    path = config_of("windsurf", home, env)
    write_json(
        path,
        {
            "mcpServers": {
                "a": {"command": command_path(SPEC.package), "env": {"UNIZO_API_KEY_FILE": str(open_key)}},
                "b": {"command": command_path(OTHER.package), "env": {"UNIZO_API_KEY_FILE": str(dev_key)}},
                "c": {
                    "command": command_path(OTHER.package),
                    "env": {"UNIZO_API_KEY_FILE": str(home / "gone.key")},
                },
            }
        },
        0o600,
    )
    report = unizo("config", "check", "--json", env=env).json
    found = {(f["check"], f["entry"]) for f in report["findings"]}
    assert found == {("key-file-mode", "a"), ("environment", "b"), ("key-file", "c")}
    fixed = unizo("config", "check", "--fix", "--json", env=env)
    assert mode(open_key) == 0o600 and [
        f["fixed"] for f in fixed.json["findings"] if f["check"] == "key-file-mode"
    ] == [True]


def test_one_key_for_two_services_across_clients(
    unizo: Callable[..., Result], env: dict[str, str], home: Path
) -> None:
    shared = key_file(home)
    write_json(
        config_of("cursor", home, env),
        {
            "mcpServers": {
                "x": {"command": command_path(SPEC.package), "env": {"UNIZO_API_KEY_FILE": str(shared)}}
            }
        },
        0o600,
    )
    write_json(
        config_of("claude-code", home, env),
        {
            "mcpServers": {
                "y": {"command": command_path(OTHER.package), "env": {"UNIZO_API_KEY": "${UNIZO_API_KEY}"}}
            },
            "projects": {
                "/p": {
                    "mcpServers": {
                        "z": {
                            "command": command_path(OTHER.package),
                            "env": {"UNIZO_API_KEY_FILE": str(shared)},
                        }
                    }
                }
            },
        },
        0o600,
    )
    report = unizo("config", "check", "--json", env=env)
    assert report.code == 2
    [finding] = report.json["findings"]
    assert finding["check"] == "shared-key" and finding["entry"] == "projects[/p].mcpServers.z, x"
    assert "unizo api-keys create" in finding["fix"]
    assert len(report.json["files"]) == 2


def test_check_without_files_and_with_a_missing_file(
    unizo: Callable[..., Result], env: dict[str, str], home: Path
) -> None:
    nothing = unizo("config", "check", env=env)
    assert nothing.code == 0 and "No MCP client configuration found" in nothing.out
    missing = unizo("config", "check", "--config", str(home / "nope.json"), env=env)
    assert missing.code == 2 and "does not exist" in missing.err
    broken = home / "broken.json"
    broken.write_text("{nope")
    result = unizo("config", "check", "--config", str(broken), env=env)
    assert result.code == 2 and "ERROR:" in result.out and "is not valid JSON (line 1, column 2" in result.out


def test_an_installed_entry_runs_as_the_client_would_start_it(
    unizo: Callable[..., Result], home: Path, sandbox: Any
) -> None:
    """Claude Desktop passes the entry's env and a minimal PATH and HOME: the server must start from that."""
    import subprocess

    shell = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), **sandbox.env("full")}
    shell["UNIZO_ADMIN_API_KEY"] = shell.pop("UNIZO_API_KEY")
    installed_entry = unizo(
        "config", "install", "--client", "claude-desktop", "--service", SPEC.name, env=shell
    )
    assert installed_entry.code == 0, installed_entry.err
    entry = json.loads(config_of("claude-desktop", home, shell).read_text())["mcpServers"][NAME]
    key_path = Path(entry["env"]["UNIZO_API_KEY_FILE"])
    created = unizo(
        "api-keys", "create", "--name", "MCP", "--permissions", f"{SPEC.name}:read",
        "--output-file", str(key_path), env=shell,
    )  # fmt: skip
    assert created.code == 0, created.err
    started = subprocess.run(
        [entry["command"], *entry["args"], "--verify-connection"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), **entry["env"]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 0, started.stdout + started.stderr
    assert unizo("config", "check", env=shell).code == 0
