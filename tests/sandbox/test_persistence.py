"""State survives restarts: created records, revoked keys, new keys, webhooks; keys are stored hashed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.records import RecordStore
from unizo_mcp_sandbox.state import StateDirBusy
from unizo_mcp_sandbox.testclient import sandbox_client as client
from unizo_mcp_sandbox.testing import start_sandbox

from .support import KEYS, PROBE, SHARED, WEBHOOKS, hook_body


async def test_restart_keeps_keys_webhooks_and_revocations(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        async with client(handle) as api:
            permissions = {SHARED.name: ["read"]}
            new_key = (await api.post(KEYS, json={"name": "kept", "permissions": permissions})).json
            webhook = (await api.post(WEBHOOKS, json=hook_body())).json
            integration = api.integration(SHARED.name)
        handle.revoke("readonly")
        base_url = handle.base_url

        handle.restart()

        assert handle.base_url == base_url
        async with client(handle) as api:
            revoked = await api.get(PROBE, role="readonly", integration=integration)
            assert revoked.error["errorCode"] == "AP-4010005"
            assert (await api.get(PROBE, key=new_key["key"], integration=integration)).status == 200
            assert (await api.get(f"{WEBHOOKS}/{webhook['id']}")).status == 200


def test_written_records_survive_a_save_and_load_but_not_a_reset() -> None:
    dataset = generate_dataset(1729)
    kind, rows = next((kind, rows) for kind, rows in dataset.tables.items() if len(rows) > 1)
    scope, seeded = next((scope, records) for scope, records in rows.items() if len(records) > 1)
    store = RecordStore(dataset)
    store.insert(kind, scope, {"id": "created-1", "name": "new"})
    store.replace(kind, scope, {**seeded[0], "name": "changed"})
    store.remove(kind, scope, seeded[1]["id"])
    state = json.loads(json.dumps(store.to_state()))  # as state.json holds it
    assert state == [
        {
            "kind": kind,
            "scope": list(scope),
            "created": [{"id": "created-1", "name": "new"}],
            "replaced": [{**seeded[0], "name": "changed"}],
            "removed": [seeded[1]["id"]],
        }
    ]
    loaded = RecordStore(dataset)
    loaded.load_state(state)
    assert [record["id"] for record in loaded.items(kind, scope)] == [
        record["id"] for record in store.items(kind, scope)
    ]
    assert loaded.get(kind, scope, seeded[0]["id"])["name"] == "changed"
    assert loaded.get(kind, scope, seeded[1]["id"]) is None
    loaded.reset()
    assert loaded.items(kind, scope) is seeded  # the seeded list itself, untouched
    assert dataset.tables[kind][scope] is seeded and seeded[0].get("name") != "changed"


async def test_a_new_process_on_the_same_state_dir_serves_the_same_keys_and_webhooks(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as first:
        keys, admin_token = dict(first.keys), first.admin_token
        async with client(first) as api:
            webhook = (await api.post(WEBHOOKS, json=hook_body())).json
    with start_sandbox(state_dir=tmp_path) as second:
        assert (second.keys, second.admin_token) == (keys, admin_token)
        async with client(second) as api:
            assert (await api.get(f"{WEBHOOKS}/{webhook['id']}")).status == 200
            assert (
                await api.get(PROBE, role="readonly", integration=api.integration(SHARED.name))
            ).status == 200


async def test_a_state_dir_saved_with_other_roles_gets_todays_roles(tmp_path: Path) -> None:
    """A service added (or removed) since the state was saved: its single-service key appears (or goes)."""
    with start_sandbox(state_dir=tmp_path) as first:
        keys = dict(first.keys)
    state = json.loads((tmp_path / "state.json").read_text())
    role = f"{SHARED.name}_only"
    saved_ids = {entry["id"] for entry in state["keys"]}
    state["keys"] = [entry for entry in state["keys"] if entry["role"] != role]
    stale = {**state["keys"][0], "id": "0000dead", "role": "retired_only", "name": "demo-retired-only"}
    state["keys"].append(stale)
    (tmp_path / "state.json").write_text(json.dumps(state))
    with start_sandbox(state_dir=tmp_path) as second:
        assert second.keys == keys
        async with client(second) as api:
            assert (await api.get(PROBE, role=role, integration=api.integration(SHARED.name))).status == 200
            listed = (await api.get(KEYS, params={"limit": "100"})).json["data"]
            assert {item["id"] for item in listed} <= saved_ids


async def test_another_seed_keeps_the_keys_but_not_the_data(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path, seed=1) as first:
        keys = dict(first.keys)
        integrations = [item["id"] for item in first.integrations(SHARED.name)]
    with start_sandbox(state_dir=tmp_path, seed=2) as second:
        assert second.keys == keys
        assert [item["id"] for item in second.integrations(SHARED.name)] != integrations
        async with client(second) as api:
            assert (await api.get(PROBE, integration=api.integration(SHARED.name))).status == 200


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
            integration = api.integration(SHARED.name)
            assert (await api.get(PROBE, integration=integration)).status == 200
            refused = await api.get(PROBE, role="wrong_environment", integration=integration)
            assert refused.error["errorCode"] == "AP-4010006"
