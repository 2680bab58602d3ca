"""Recovery without restarting the MCP server: the API restarts, the key is revoked then replaced."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from .conftest import api, server_session, text_of


async def test_sandbox_restart_mid_session(sandbox: Any) -> None:
    """Expected: the calls right after the API restarted succeed (reads and a write), same MCP server."""
    async with server_session(sandbox) as session:
        edr = {"integration_id": session.integration("edr")}
        tick = {"integration_id": session.integration("ticketing")}
        assert not (await session.call("edr_list_devices", edr)).is_error
        org = (await session.data("ticketing_list_organizations", tick))[0]["id"]
        coll = (await session.data("ticketing_list_collections", {**tick, "organization_id": org}))[0]["id"]
        # keep-alive connections to the old process are now dead
        sandbox.restart()
        first = await session.call("edr_list_devices", edr)
        assert not first.is_error, f"the first read after the restart failed: {text_of(first)}"
        sandbox.restart()
        name = f"after restart {uuid.uuid4().hex[:8]}"
        ticket = {**tick, "organization_id": org, "collection_id": coll, "name": name}
        created = await session.call(
            "ticketing_create_ticket", {**ticket, "description": "d", "type": "task"}
        )
        assert not created.is_error, f"the first write after the restart failed: {text_of(created)}"
        assert created.structured_content["data"]["name"] == name
        for tool, args in (("edr_list_devices", edr), ("ticketing_list_users", tick)):
            assert not (await session.call(tool, args)).is_error


def replace_key_file(path: Path, key: str) -> None:
    """How a secret manager rotates a file: write a new one beside it, rename it over the old one."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_text(key + "\n")
    fresh.chmod(0o600)
    os.replace(fresh, path)


async def test_revoked_key_then_replaced_key_file_recovers(sandbox: Any, tmp_path: Path) -> None:
    """Expected: after revocation every call says the key was revoked; once the key file holds a new key,
    calls succeed again with the new key, without restarting the server."""
    created = await api(
        sandbox, "POST", "/apiKeys", {"name": "rotation-test", "permissions": {"edr": ["read"]}}
    )
    new_key, new_key_id = created["key"], created["id"]
    key_file = tmp_path / "unizo.key"
    replace_key_file(key_file, sandbox.keys["readonly"])
    env = {"UNIZO_API_KEY_FILE": str(key_file)}
    async with server_session(sandbox, ("edr",), env=env, role="readonly") as session:
        args = {"integration_id": session.integration("edr")}
        assert not (await session.call("edr_list_devices", args)).is_error
        sandbox.revoke("readonly")
        for _ in range(2):
            revoked = await session.call("edr_list_devices", args)
            text = text_of(revoked)
            assert revoked.is_error and "revoked" in text.lower() and "401" in text, text
            assert "UNIZO_API_KEY_FILE" in text, f"the error does not say how to recover: {text}"
        replace_key_file(key_file, new_key)
        recovered = await session.call("edr_list_devices", args)
        assert not recovered.is_error, f"the replaced key file was not picked up: {text_of(recovered)}"
        assert sandbox.requests()[-1].key_id == new_key_id
        assert not (
            await session.call("edr_get_device_details", {**args, "device_id": _first(recovered)})
        ).is_error


def _first(result: Any) -> str:
    return str(result.structured_content["data"][0]["id"])
