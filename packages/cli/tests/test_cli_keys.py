"""`unizo api-keys create | list | describe | revoke` against the sandbox: the key is shown once or written to
a file of mode 600, bad input is refused before anything is sent, the API's refusals keep their exit codes,
and no key ever shows in what the command prints otherwise."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_testkit import Result, Terminal
from servicekit import a_service
from unizo_mcp_core.errors import ExitCode

SERVICE = a_service().name
KEYS = "/api/v1/apiKeys"


def key_count(call_api: Callable[..., tuple[int, Any]]) -> int:
    status, body = call_api("GET", KEYS + "?limit=100")
    assert status == 200
    return int(body["pagination"]["total"])


def sent(sandbox: Any, method: str, prefix: str) -> list[Any]:
    return [r for r in sandbox.requests() if r.method == method and r.path.startswith(prefix)]


def test_a_new_key_is_shown_once_and_works(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, call_api: Any
) -> None:
    result = unizo(
        "api-keys", "create", "--name", "MCP-20261130", "--permissions", f"{SERVICE}:read",
        "--expires", "90d", env=admin_env,
    )  # fmt: skip
    assert result.code == 0, result.err
    lines = dict(line.split(None, 1) for line in result.out.splitlines() if line.strip())
    key = lines["key"].strip()
    assert result.out.count(key) == 1 and key not in result.err
    assert "shown this once" in result.err
    assert lines["permissions"].strip() == f"{SERVICE}:read"
    _, body = call_api("GET", f"{KEYS}/{lines['id'].strip()}")
    assert body["name"] == "MCP-20261130" and body["expiresAt"] and not body["revoked"]
    assert call_api("POST", "/api/v1/integrations/search", key=key, body={})[0] == 200  # it works
    assert sandbox.keys["full"] not in result.text


def test_json_has_the_key_for_scripts(unizo: Callable[..., Result], admin_env: dict[str, str]) -> None:
    result = unizo(
        "--json", "api-keys", "create", "--name", "ci", "--permissions", f"{SERVICE}:read,write",
        "--ip-allow", "127.0.0.1,10.0.0.0/8", "192.0.2.0/24", "--environment", "production", env=admin_env,
    )  # fmt: skip
    assert result.code == 0, result.err
    created = result.json
    assert created["key"].startswith(f"uz_prod_{created['id']}_")
    assert created["permissions"] == {SERVICE: ["read", "write"]}
    assert created["ipAllowlist"] == ["127.0.0.1/32", "10.0.0.0/8", "192.0.2.0/24"]


def test_output_file_is_mode_600_and_never_overwritten_without_force(
    unizo: Callable[..., Result], admin_env: dict[str, str], home: Path, call_api: Any
) -> None:
    target = home / "keys" / "mcp.key"
    target.parent.mkdir()
    args = (
        "api-keys",
        "create",
        "--name",
        "MCP",
        "--permissions",
        f"{SERVICE}:read",
        "--output-file",
        str(target),
    )
    first = unizo(*args, env=admin_env)
    assert first.code == 0, first.err
    key = target.read_text().strip()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert key not in first.text and str(target) in first.out
    before = key_count(call_api)
    refused = unizo(*args, env=admin_env)
    assert refused.code == ExitCode.CONFIG
    assert "exists: refusing to overwrite it (pass --force" in refused.err
    assert target.read_text().strip() == key and key_count(call_api) == before  # nothing was created
    forced = unizo(*args, "--force", "--json", env=admin_env)
    assert forced.code == 0 and forced.json["keyFile"] == str(target) and "key" not in forced.json
    assert target.read_text().strip() != key and stat.S_IMODE(target.stat().st_mode) == 0o600
    missing_folder = unizo(*args[:-1], str(home / "nowhere" / "k"), env=admin_env)
    assert missing_folder.code == ExitCode.CONFIG and "does not exist" in missing_folder.err


def test_a_failed_write_revokes_the_key_nobody_has(
    unizo: Callable[..., Result],
    admin_env: dict[str, str],
    home: Path,
    call_api: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from unizo_cli import files

    def full_disk(*_: Any, **__: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_private", full_disk)
    result = unizo(
        "--json", "api-keys", "create", "--name", "lost", "--permissions", f"{SERVICE}:read",
        "--output-file", str(home / "k"), env=admin_env,
    )  # fmt: skip
    assert result.code == ExitCode.CONFIG
    assert "No space left on device" in result.err and "was revoked again" in result.err
    _, listed = call_api("GET", KEYS + "?limit=100")
    [lost] = [k for k in listed["data"] if k["name"] == "lost"]
    assert lost["revoked"] is True
    assert result.json["error"]["exitCode"] == 2


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--permissions", "nothing"], "name the service before its actions"),
        (["--permissions", "x:admin"], "unknown action 'admin'"),
        (["--permissions", "x:read", "--expires", "2020-01-01"], "in the past"),
        (["--permissions", "x:read", "--expires", "90"], "has no unit"),
        (["--permissions", "x:read", "--ip-allow", "10.0.0.300"], "not an IP address"),
        (["--permissions", "x:read", "--name", " "], "--name is empty"),
    ],
)
def test_bad_input_is_refused_before_anything_is_sent(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, args: list[str], says: str
) -> None:
    result = unizo("api-keys", "create", "--name", "n", *args, env=admin_env)
    assert result.code == ExitCode.CONFIG, result.err
    assert says in result.err and result.out == ""
    assert sent(sandbox, "POST", KEYS) == []


def test_the_apis_refusals_keep_their_exit_codes(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any
) -> None:
    unknown_scope = unizo("api-keys", "create", "--name", "n", "--permissions", "crm:read", env=admin_env)
    assert unknown_scope.code == ExitCode.API
    assert "unknown service 'crm'" in unknown_scope.err and "permissions.crm" in unknown_scope.err
    readonly = {**admin_env, "UNIZO_ADMIN_API_KEY": sandbox.keys["readonly"]}
    forbidden = unizo("api-keys", "create", "--name", "n", "--permissions", f"{SERVICE}:read", env=readonly)
    assert forbidden.code == ExitCode.FORBIDDEN and "platform:write" in forbidden.err
    revoked = {**admin_env, "UNIZO_ADMIN_API_KEY": sandbox.keys["revoked"]}
    assert unizo("api-keys", "list", env=revoked).code == ExitCode.AUTH
    missing = unizo("api-keys", "describe", "--key-id", "0badc0de", env=admin_env)
    assert (
        missing.code == ExitCode.API
        and "'0badc0de' was not found" in missing.err
        and "HTTP 404" in missing.err
    )
    assert sandbox.keys["readonly"] not in forbidden.text


def test_ids_are_checked_before_they_are_sent(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any
) -> None:
    for bad in ("../apiKeys", "a/b", "x?y", "-rf", "%2e%2e"):
        result = unizo("api-keys", "describe", f"--key-id={bad}", env=admin_env)
        assert result.code == ExitCode.CONFIG, (bad, result.err)
    assert sent(sandbox, "GET", KEYS) == []


def test_list_and_describe(unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any) -> None:
    table = unizo("api-keys", "list", env=admin_env)
    assert table.code == 0
    header, rule, *rows = table.out.splitlines()
    assert header.split()[:4] == ["id", "name", "environment", "status"] and set(rule) <= {"-", " "}
    assert any(" revoked " in row for row in rows) and any(" expired " in row for row in rows)
    listed = unizo("api-keys", "list", "--json", env=admin_env).json
    assert {item["id"] for item in listed} >= {sandbox.key_id("full"), sandbox.key_id("readonly")}
    described = unizo("api-keys", "describe", "--key-id", sandbox.key_id("ip_restricted"), env=admin_env)
    assert "10.9.9.9/32" in described.out and "status        active" in described.out
    assert sandbox.keys["full"] not in table.text + described.text


def test_revoke_asks_first(
    unizo: Callable[..., Result], admin_env: dict[str, str], call_api: Any, new_key_record: Any
) -> None:
    key = new_key_record({SERVICE: ["read"]})
    args = ("api-keys", "revoke", "--key-id", key["id"])
    piped = unizo(*args, env=admin_env)
    assert piped.code == ExitCode.CONFIG and "pass --yes" in piped.err
    declined = unizo(*args, env=admin_env, stdin=Terminal("n\n"))
    assert declined.code == ExitCode.CONFIG and "nothing was changed" in declined.err
    assert f"Revoke key {key['id']} (MCP-20260101, {SERVICE}:read)?" in declined.err
    assert call_api("GET", f"{KEYS}/{key['id']}")[1]["revoked"] is False
    accepted = unizo(*args, env=admin_env, stdin=Terminal("y\n"))
    assert accepted.code == 0 and call_api("GET", f"{KEYS}/{key['id']}")[1]["revoked"] is True
    again = unizo(*args, "--yes", "--json", env=admin_env)
    assert again.code == 0 and "already revoked" in again.err and again.json["revoked"] is True
    other = new_key_record({SERVICE: ["read"]})
    assert unizo("api-keys", "revoke", "--key-id", other["id"], "--yes", env=admin_env).code == 0


def test_the_admin_key_comes_from_the_servers_variables(
    unizo: Callable[..., Result], admin_env: dict[str, str], home: Path, sandbox: Any
) -> None:
    key = admin_env.pop("UNIZO_ADMIN_API_KEY")
    missing = unizo("api-keys", "list", env=admin_env)
    assert missing.code == ExitCode.CONFIG
    assert (
        "UNIZO_ADMIN_API_KEY or UNIZO_ADMIN_API_KEY_FILE or UNIZO_API_KEY or UNIZO_API_KEY_FILE"
        in missing.err
    )
    assert unizo("api-keys", "list", env={**admin_env, "UNIZO_API_KEY": key}).code == 0
    key_file = home / "admin.key"
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    env = {**admin_env, "UNIZO_ADMIN_API_KEY_FILE": str(key_file), "UNIZO_API_KEY": sandbox.keys["revoked"]}
    assert unizo("api-keys", "list", env=env).code == 0  # the admin variable wins
    flag = unizo(
        "--api-key-file", str(key_file), "api-keys", "list", env={**admin_env, "UNIZO_ADMIN_API_KEY": "x"}
    )
    assert flag.code == 0  # the flag wins over every variable
    placeholder = unizo("api-keys", "list", env={**admin_env, "UNIZO_ADMIN_API_KEY": "${UNIZO_KEY}"})
    assert placeholder.code == ExitCode.CONFIG and "placeholder" in placeholder.err


def test_settings_are_the_servers(unizo: Callable[..., Result], admin_env: dict[str, str]) -> None:
    plain = unizo("--base-url", "http://127.0.0.1:1", "api-keys", "list", env=admin_env)
    assert plain.code == ExitCode.CONFIG and "plain http is refused" in plain.err
    no_ca = {k: v for k, v in admin_env.items() if k != "UNIZO_CA_BUNDLE"}
    untrusted = unizo("api-keys", "list", env=no_ca)
    assert untrusted.code == ExitCode.NETWORK and "UNIZO_CA_BUNDLE" in untrusted.err


def test_nothing_prints_a_key_even_at_debug_level(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, home: Path
) -> None:
    env = {**admin_env, "UNIZO_LOG_LEVEL": "debug", "UNIZO_LOG_AUTH": "true"}
    outputs = [
        unizo("api-keys", "list", env=env),
        unizo("api-keys", "describe", "--key-id", sandbox.key_id("full"), env=env),
        unizo(
            "api-keys",
            "create",
            "--name",
            "n",
            "--permissions",
            f"{SERVICE}:read",
            "--output-file",
            str(home / "k"),
            env=env,
        ),
        unizo("logs", "api-usage", "--key-id", sandbox.key_id("full"), env=env),
        unizo("api-keys", "list", env={**env, "UNIZO_ADMIN_API_KEY": sandbox.keys["revoked"]}),
    ]
    written = (home / "k").read_text().strip()
    for result in outputs:
        for secret in (sandbox.keys["full"], sandbox.keys["revoked"], written):
            assert secret not in result.text
    assert "using API key" in outputs[0].err  # the fingerprint is logged, not the key
