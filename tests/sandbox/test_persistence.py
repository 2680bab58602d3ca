"""State survives restarts: created records, revoked keys, new keys, webhooks; keys are stored hashed."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from unizo_mcp_sandbox.state import StateDirBusy
from unizo_mcp_sandbox.testing import SandboxHandle, start_sandbox

from .support import NEW_TICKET_BODY, Api


@asynccontextmanager
async def client(handle: SandboxHandle) -> AsyncIterator[Api]:
    connector = aiohttp.TCPConnector(ssl=handle.ssl_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield Api(handle, session)


async def test_restart_keeps_records_keys_and_webhooks(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        async with client(handle) as api:
            integration, tickets = await api.ticket_scope()
            ticket = (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).json
            await api.put(f"{tickets}/{ticket['id']}", integration=integration, json={"status": "closed"})
            new_key = (
                await api.post("/api/v1/apiKeys", json={"name": "kept", "permissions": {"edr": ["read"]}})
            ).json
            hook = {"url": "http://127.0.0.1:9/h", "events": ["*"], "secret": "0123456789"}
            webhook = (await api.post("/api/v1/webhooks", json=hook)).json
        handle.revoke("readonly")
        base_url = handle.base_url

        handle.restart()

        assert handle.base_url == base_url
        async with client(handle) as api:
            fetched = await api.get(f"{tickets}/{ticket['id']}", integration=integration)
            assert (fetched.status, fetched.json["status"]) == (200, "closed")
            revoked = await api.get(tickets, role="readonly", integration=integration)
            assert revoked.error["errorCode"] == "AP-4010005"
            assert (
                await api.get("/api/v1/edr/devices", key=new_key["key"], integration=api.integration("edr"))
            ).status == 200
            assert (await api.get(f"/api/v1/webhooks/{webhook['id']}")).status == 200


async def test_a_new_process_on_the_same_state_dir_serves_the_same_keys_and_records(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as first:
        keys, admin_token = dict(first.keys), first.admin_token
        async with client(first) as api:
            integration, tickets = await api.ticket_scope()
            ticket = (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).json
    with start_sandbox(state_dir=tmp_path) as second:
        assert (second.keys, second.admin_token) == (keys, admin_token)
        async with client(second) as api:
            assert (await api.get(f"{tickets}/{ticket['id']}", integration=integration)).status == 200


async def test_another_seed_keeps_the_keys_but_not_the_data(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path, seed=1) as first:
        keys = dict(first.keys)
        integrations = [item["id"] for item in first.integrations("edr")]
    with start_sandbox(state_dir=tmp_path, seed=2) as second:
        assert second.keys == keys
        assert [item["id"] for item in second.integrations("edr")] != integrations
        async with client(second) as api:
            assert (await api.get("/api/v1/edr/devices", integration=api.integration("edr"))).status == 200


def test_state_file_holds_hashes_never_keys(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        keys = dict(handle.keys)
    text = (tmp_path / "state.json").read_text()
    state = json.loads(text)
    assert len(state["keys"]) == len(keys)
    for key in keys.values():
        secret = key.rsplit("_", 1)[1]
        assert key not in text and secret not in text
    assert all(len(entry["secret_sha256"]) == 64 for entry in state["keys"])
    assert oct((tmp_path / "state.json").stat().st_mode & 0o777) == "0o600"


def test_two_sandboxes_cannot_share_a_state_dir(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path), pytest.raises(StateDirBusy):
        start_sandbox(state_dir=tmp_path)


async def test_a_development_sandbox_issues_development_keys(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path, environment="development") as handle:
        assert handle.keys["full"].startswith("uz_dev_")
        assert handle.env("readonly") == {
            "UNIZO_BASE_URL": handle.base_url,
            "UNIZO_CA_BUNDLE": str(tmp_path.resolve() / "ca.pem"),
            "UNIZO_ENVIRONMENT": "development",
            "UNIZO_API_KEY": handle.keys["readonly"],
        }
        async with client(handle) as api:
            assert (await api.get("/health", role=None)).json["environment"] == "development"
            integration = api.integration("edr")
            assert (await api.get("/api/v1/edr/devices", integration=integration)).status == 200
            refused = await api.get("/api/v1/edr/devices", role="wrong_environment", integration=integration)
            assert refused.error["errorCode"] == "AP-4010006"
