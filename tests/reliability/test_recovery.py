"""Recovery without restarting the MCP server: the API restarts, the key is revoked then replaced."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from security.calls import marker_param
from security.support import listable, top_list
from servicekit import a_service, has_writes, installed, is_get, is_write, tools_where

from .conftest import api, server_session, text_of


def create_tool() -> tuple[Any, Any]:
    """A service with writes and its first create (a POST write with a free-text field to recognise)."""
    spec = a_service(has_writes)
    creates = tools_where(spec, lambda t: is_write(t) and t.method == "POST" and marker_param(t) is not None)
    assert creates, f"{spec.name} has no create tool with a free-text field"
    return spec, creates[0]


async def test_sandbox_restart_mid_session(sandbox: Any) -> None:
    """Expected: the calls right after the API restarted succeed (reads and a write), same MCP server."""
    services = [spec for spec in installed().values() if listable(spec)]
    writer, create = create_tool()
    async with server_session(sandbox) as session:
        reads = [(top_list(spec).name, session.scope(spec)) for spec in services]
        for tool, args in reads:
            assert not (await session.call(tool, args)).is_error
        write_args = await session.args(writer, create)  # real ids, found before the restart
        # keep-alive connections to the old process are now dead
        sandbox.restart()
        first = await session.call(*reads[0])
        assert not first.is_error, f"the first read after the restart failed: {text_of(first)}"
        sandbox.restart()
        marker = marker_param(create)
        assert marker is not None
        name = f"after restart {uuid.uuid4().hex[:8]}"
        created = await session.call(create.name, {**write_args, marker.name: name})
        assert not created.is_error, f"the first write after the restart failed: {text_of(created)}"
        assert name in json.dumps(created.structured_content["data"])
        for tool, args in reads:
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
    spec = a_service(lambda s: listable(s) and bool(tools_where(s, is_get)))
    listing = top_list(spec).name
    created = await api(
        sandbox, "POST", "/apiKeys", {"name": "rotation-test", "permissions": {spec.name: ["read"]}}
    )
    new_key, new_key_id = created["key"], created["id"]
    key_file = tmp_path / "unizo.key"
    replace_key_file(key_file, sandbox.keys["readonly"])
    env = {"UNIZO_API_KEY_FILE": str(key_file)}
    async with server_session(sandbox, [spec], env=env, role="readonly") as session:
        args = session.scope(spec)
        assert not (await session.call(listing, args)).is_error
        sandbox.revoke("readonly")
        for _ in range(2):
            revoked = await session.call(listing, args)
            text = text_of(revoked)
            assert revoked.is_error and "revoked" in text.lower() and "401" in text, text
            assert "UNIZO_API_KEY_FILE" in text, f"the error does not say how to recover: {text}"
        replace_key_file(key_file, new_key)
        recovered = await session.call(listing, args)
        assert not recovered.is_error, f"the replaced key file was not picked up: {text_of(recovered)}"
        assert sandbox.requests()[-1].key_id == new_key_id
        get = tools_where(spec, is_get)[0]
        assert not (await session.call(get.name, await session.args(spec, get))).is_error


# --- an API blip while the server starts -----------------------------------------------------------------

STARTUP_BLIPS = {
    "503": "*/v1/auth/verify=503; POST */integrations/search=503",
    "502": "*/v1/auth/verify=502; POST */integrations/search=502",
    "429": "*/v1/auth/verify=429:retry_after=0.2; POST */integrations/search=429:retry_after=0.2",
    "non-JSON page": "*/v1/auth/verify=nonjson; POST */integrations/search=nonjson",
}


@pytest.mark.parametrize("blip", STARTUP_BLIPS.values(), ids=STARTUP_BLIPS.keys())
def test_a_blip_at_startup_starts_the_server_and_checks_the_key_later(
    blip: str, sandbox: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hardening II, 8: an answer that is not a definite refusal of the key is treated like an unreachable
    API: the server starts (a desktop client starting during an outage keeps it), says why on stderr,
    and its first call once the API is back works."""
    from unizo_mcp_core import cli, transport

    spec = a_service(listable)
    served: list[str] = []

    async def session_instead_of_stdio(server: Any) -> None:
        from mcp import Client

        sandbox.set_faults(None)  # the API is back
        async with Client(server.mcp) as client:
            args = {"integration_id": sandbox.integrations(spec.name)[0]["id"]} if spec.discovery else {}
            result = await client.call_tool(top_list(spec).name, args)
            served.append("error" if result.is_error else "ok")

    monkeypatch.setattr(transport, "serve_stdio", session_instead_of_stdio)
    sandbox.set_faults(blip)
    env = {**sandbox.env("full"), "UNIZO_RETRY_ATTEMPTS": "0"}
    code = cli.main(spec, argv=[], environ=env)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Starting anyway" in err, err
    assert served == ["ok"], err
