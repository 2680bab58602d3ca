"""`unizo api-keys rotate`: the successor copies the old key, lands in the key file (mode 600), is verified,
and only then is the old key revoked. Every failure point (create, write, verify, revoke) leaves a stated,
recoverable state: the old key is never revoked by a failed rotation, the key file is restored, and the
command says what to run next."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_testkit import Result
from servicekit import a_service
from unizo_mcp_core.errors import ExitCode

SERVICE = a_service().name
KEYS = "/api/v1/apiKeys"


def described(call_api: Callable[..., tuple[int, Any]], key_id: str) -> dict[str, Any]:
    status, body = call_api("GET", f"{KEYS}/{key_id}")
    assert status == 200, body
    return dict(body)


def keys_named(call_api: Callable[..., tuple[int, Any]], prefix: str) -> list[dict[str, Any]]:
    _, body = call_api("GET", KEYS + "?limit=100")
    return [k for k in body["data"] if k["name"].startswith(prefix)]


@pytest.fixture
def old_key(new_key_record: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A server's key: read on one service, an IP allowlist, a 90-day lifetime."""
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 90 * 86_400))
    return new_key_record(
        {SERVICE: ["read"]}, name="MCP-20260101", ipAllowlist=["127.0.0.0/8"], expiresAt=expires
    )


@pytest.fixture
def key_file(home: Path, old_key: dict[str, Any]) -> Path:
    path = home / "keys" / "server.key"
    path.parent.mkdir()
    path.write_text(old_key["key"] + "\n")
    path.chmod(0o640)
    return path


def rotate(
    unizo: Callable[..., Result], env: dict[str, str], key_id: str, key_file: Path, *extra: str
) -> Result:
    return unizo(
        "api-keys", "rotate", "--key-id", key_id, "--key-file", str(key_file), "--grace", "0", *extra, env=env
    )


def test_a_rotation_replaces_the_key_under_the_same_file(
    unizo: Callable[..., Result],
    admin_env: dict[str, str],
    call_api: Any,
    old_key: dict[str, Any],
    key_file: Path,
) -> None:
    result = rotate(unizo, admin_env, old_key["id"], key_file, "--json")
    assert result.code == 0, result.err
    report = result.json
    assert report["status"] == "rotated" and report["keyFile"] == {"path": str(key_file), "state": "new"}
    new_id = report["newKey"]["id"]
    new_key = key_file.read_text().strip()
    assert new_key != old_key["key"] and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert new_key not in result.text and old_key["key"] not in result.text
    assert described(call_api, old_key["id"])["revoked"] is True
    successor = described(call_api, new_id)
    assert successor["name"] == "MCP-" + time.strftime("%Y%m%d", time.gmtime())
    for field in ("permissions", "environment", "ipAllowlist"):
        assert successor[field] == old_key[field], field
    lifetime = time.mktime(time.strptime(successor["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")) - time.time()
    assert 89 * 86_400 < lifetime <= 90 * 86_400 + 60  # the old key's lifetime, from now
    assert call_api("POST", "/api/v1/integrations/search", key=new_key, body={})[0] == 200
    assert call_api("POST", "/api/v1/integrations/search", key=old_key["key"], body={})[0] == 401
    steps = [line for line in result.err.splitlines() if line.startswith("rotate [")]
    assert [line.split("]")[0] for line in steps] == [
        "rotate [1/6",
        "rotate [2/6",
        "rotate [3/6",
        "rotate [4/6",
        "rotate [5/6",
        "rotate [6/6",
    ]
    assert f"holds {old_key['id']}" in result.err


def test_a_missing_key_file_is_created_and_the_table_says_what_happened(
    unizo: Callable[..., Result],
    admin_env: dict[str, str],
    call_api: Any,
    old_key: dict[str, Any],
    home: Path,
) -> None:
    target = home / "fresh.key"
    result = rotate(unizo, admin_env, old_key["id"], target)
    assert result.code == 0, result.err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and "does not exist yet" in result.err
    assert f"rotated   {old_key['id']} (MCP-20260101) -> " in result.out and "(mode 600)" in result.out


def assert_nothing_changed(call_api: Any, old_key: dict[str, Any], key_file: Path) -> None:
    assert key_file.read_text() == old_key["key"] + "\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o640
    assert described(call_api, old_key["id"])["revoked"] is False


def test_create_fails(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, call_api: Any,
    old_key: dict[str, Any], key_file: Path,
) -> None:  # fmt: skip
    sandbox.set_faults("POST /api/v1/apiKeys=503")
    result = rotate(unizo, admin_env, old_key["id"], key_file, "--json")
    sandbox.set_faults(None)
    assert result.code == ExitCode.API
    assert "rotation failed at step 3 of 6 (create the successor)" in result.err and "HTTP 503" in result.err
    assert_nothing_changed(call_api, old_key, key_file)
    assert [k["id"] for k in keys_named(call_api, "MCP-2")] == [old_key["id"]]  # none was created
    state = result.json
    assert (state["status"], state["step"], state["oldKey"]["state"], state["keyFile"]["state"]) == (
        "failed", "create the successor", "active", "unchanged",
    )  # fmt: skip
    assert state["newKey"]["state"] == "maybe" and "may exist" in result.err  # a 503 cannot tell
    assert "run the same command again" in result.err


def test_write_fails(
    unizo: Callable[..., Result], admin_env: dict[str, str], call_api: Any, old_key: dict[str, Any],
    key_file: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from unizo_cli import files

    def read_only_file_system(*_: Any, **__: Any) -> Path:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(files, "write_private", read_only_file_system)
    result = rotate(unizo, admin_env, old_key["id"], key_file, "--json")
    assert result.code == ExitCode.CONFIG
    assert "step 4 of 6 (write the key file)" in result.err and "Read-only file system" in result.err
    assert_nothing_changed(call_api, old_key, key_file)
    new_id = result.json["newKey"]["id"]
    assert described(call_api, new_id)["revoked"] is True  # its secret went nowhere: revoked again
    assert result.json["newKey"]["state"] == "revoked" and result.json["keyFile"]["state"] == "unchanged"
    assert "revoked again (its secret was stored nowhere)" in result.err


@pytest.mark.parametrize("cause", ["API unavailable", "successor refused"])
def test_verify_fails(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, call_api: Any,
    new_key_record: Callable[..., dict[str, Any]], home: Path, cause: str,
) -> None:  # fmt: skip
    if cause == "API unavailable":
        old_key = new_key_record({SERVICE: ["read"]})
        sandbox.set_faults("GET /v1/auth/verify=503; POST /api/v1/integrations/search=503")
        exit_code = ExitCode.API
    else:  # the copied allowlist excludes this machine: the API refuses the successor
        old_key = new_key_record({SERVICE: ["read"]}, ipAllowlist=["192.0.2.1"])
        exit_code = ExitCode.FORBIDDEN
    key_file = home / "server.key"
    key_file.write_text(old_key["key"] + "\n")
    key_file.chmod(0o640)
    result = rotate(unizo, admin_env, old_key["id"], key_file, "--json")
    sandbox.set_faults(None)
    assert result.code == exit_code, result.err
    assert "step 5 of 6 (verify the new key)" in result.err
    assert_nothing_changed(call_api, old_key, key_file)  # restored, mode included
    assert result.json["keyFile"]["state"] == "restored" and "restored: the old key, as before" in result.err
    assert described(call_api, result.json["newKey"]["id"])["revoked"] is True


def test_revoke_fails_and_the_next_command_finishes_the_rotation(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, call_api: Any,
    old_key: dict[str, Any], key_file: Path,
) -> None:  # fmt: skip
    sandbox.set_faults("POST /api/v1/apiKeys/*/revoke=500")
    result = rotate(unizo, admin_env, old_key["id"], key_file, "--json")
    sandbox.set_faults(None)
    assert result.code == ExitCode.API
    assert "step 6 of 6 (revoke the old key)" in result.err
    new_key = key_file.read_text().strip()
    assert new_key != old_key["key"] and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert call_api("POST", "/api/v1/integrations/search", key=new_key, body={})[0] == 200  # in place, works
    assert described(call_api, old_key["id"])["revoked"] is False
    state = result.json
    assert (state["oldKey"]["state"], state["newKey"]["state"], state["keyFile"]["state"]) == (
        "active",
        "active",
        "new",
    )
    finish = f"unizo api-keys revoke --key-id {old_key['id']} --yes"
    assert finish in result.err
    done = unizo(*finish.split()[1:], env=admin_env)
    assert done.code == 0 and described(call_api, old_key["id"])["revoked"] is True


def test_a_revoke_whose_answer_was_lost_is_retried(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, call_api: Any,
    old_key: dict[str, Any], key_file: Path,
) -> None:  # fmt: skip
    sandbox.set_faults("POST /api/v1/apiKeys/*/revoke=drop_after#1")
    result = rotate(unizo, admin_env, old_key["id"], key_file)
    sandbox.set_faults(None)
    assert result.code == 0, result.err
    assert described(call_api, old_key["id"])["revoked"] is True


def test_refusals_before_anything_changes(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, call_api: Any,
    old_key: dict[str, Any], key_file: Path, new_key_record: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    other = new_key_record({SERVICE: ["read"]}, name="other")
    wrong = rotate(unizo, admin_env, other["id"], key_file)
    assert wrong.code == ExitCode.CONFIG
    assert f"holds key {old_key['id']}, not {other['id']}" in wrong.err
    unknown = rotate(unizo, admin_env, "0badc0de", key_file)
    assert unknown.code == ExitCode.API and "was not found" in unknown.err and "step 1 of 6" in unknown.err
    call_api("POST", f"{KEYS}/{other['id']}/revoke")
    revoked = rotate(unizo, admin_env, other["id"], key_file)
    assert revoked.code == ExitCode.CONFIG and "revoked already" in revoked.err
    assert rotate(unizo, admin_env, old_key["id"], key_file.parent).code == ExitCode.CONFIG  # a directory
    bad_grace = unizo(
        "api-keys",
        "rotate",
        "--key-id",
        old_key["id"],
        "--key-file",
        str(key_file),
        "--grace",
        "soon",
        env=admin_env,
    )
    assert bad_grace.code == ExitCode.CONFIG and "--grace" in bad_grace.err
    assert_nothing_changed(call_api, old_key, key_file)
    assert [k["id"] for k in keys_named(call_api, "MCP-2")] == [old_key["id"]]  # no successor was created


def test_a_second_rotation_in_the_same_folder_waits_its_turn(
    unizo: Callable[..., Result],
    admin_env: dict[str, str],
    call_api: Any,
    old_key: dict[str, Any],
    key_file: Path,
) -> None:
    from unizo_cli import files

    with files.locked(key_file.parent):
        busy = rotate(unizo, admin_env, old_key["id"], key_file)
    assert busy.code == ExitCode.CONFIG and "Another unizo command is rotating" in busy.err
    assert_nothing_changed(call_api, old_key, key_file)


def test_the_grace_period_is_waited(
    unizo: Callable[..., Result],
    admin_env: dict[str, str],
    call_api: Any,
    old_key: dict[str, Any],
    key_file: Path,
) -> None:
    started = time.monotonic()
    result = unizo(
        "api-keys",
        "rotate",
        "--key-id",
        old_key["id"],
        "--key-file",
        str(key_file),
        "--grace",
        "1s",
        env=admin_env,
    )
    assert result.code == 0, result.err
    assert time.monotonic() - started >= 1.0 and "waiting 1s before revoking" in result.err
    assert described(call_api, old_key["id"])["revoked"] is True


def test_another_key_in_the_file_is_refused_even_when_the_api_cannot_tell(
    unizo: Callable[..., Result], admin_env: dict[str, str], sandbox: Any, call_api: Any,
    old_key: dict[str, Any], home: Path, new_key_record: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    other = new_key_record({SERVICE: ["read"]}, name="other")
    key_file = home / "other.key"
    key_file.write_text(other["key"] + "\n")
    sandbox.set_faults("GET /v1/auth/verify=503; POST /api/v1/integrations/search=503")
    result = rotate(unizo, admin_env, old_key["id"], key_file)
    sandbox.set_faults(None)
    assert result.code == ExitCode.CONFIG and f"holds key {other['id']}, not {old_key['id']}" in result.err
    assert key_file.read_text() == other["key"] + "\n"
    assert [k["id"] for k in keys_named(call_api, "MCP-2")] == [old_key["id"]]
