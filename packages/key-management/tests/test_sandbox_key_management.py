"""The sandbox's key management emulation: seeded vault configurations per vendor, the create body (Unizo's
server sends `{integrationId, name}`), its validation and persistence across a restart."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.testclient import SandboxClient
from unizo_mcp_sandbox.testclient import sandbox_client as open_client
from unizo_mcp_sandbox.testing import start_sandbox

Api = SandboxClient
CONFIGS = "/api/v1/vaultConfigs"


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


def test_vendors_get_their_own_kind_of_value() -> None:
    dataset = generate_dataset(1729)
    mine = [item for item in dataset.integrations if item["type"] == "KEY_MANAGEMENT"]
    by_vendor = {item["serviceProfile"]["name"]: item for item in mine}
    assert set(by_vendor) == {"hashicorp", "aws"}
    vault = dataset.tables["vault_configs"][(by_vendor["hashicorp"]["id"],)]
    aws = dataset.tables["vault_configs"][(by_vendor["aws"]["id"],)]
    assert len(vault) == len(aws) >= 10
    assert all(item["value"].startswith("kv-v2/data/") for item in vault)
    assert all(
        re.fullmatch(r"arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+", item["value"]) for item in aws
    )
    assert all(set(item) == {"id", "name", "value", "changeLog"} for item in vault + aws)


async def test_create_takes_unizos_body_and_shows_in_lists(api: Api) -> None:
    integration = api.integration("key_management", "aws")
    body = {"integrationId": integration, "name": "partner-api-v2"}
    created = await api.post(CONFIGS, integration=integration, json=body)
    assert created.status == 201, created.text
    config = created.json
    assert config["value"].startswith("arn:aws:secretsmanager:") and config["value"].endswith(
        "/partner-api-v2"
    )
    assert (await api.get(f"{CONFIGS}/{config['id']}", integration=integration)).json == config
    listed = await api.get(CONFIGS, integration=integration, params={"sort": "-changeLog.createdDateTime"})
    assert listed.json["data"][0]["id"] == config["id"]


@pytest.mark.parametrize(
    ("body", "property"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "-leading-dash"}, "name"),
        ({"name": "payments-prod"}, "name"),  # seeded already
        ({"name": "x", "integrationId": "another"}, "integrationId"),
        ({"name": "x", "value": "kv/secret"}, "value"),
    ],
)
async def test_create_is_validated(api: Api, body: dict[str, Any], property: str) -> None:
    reply = await api.post(CONFIGS, integration=api.integration("key_management"), json=body)
    assert (reply.status, reply.error["property"]) == (400, property), reply.text


async def test_readonly_cannot_create(api: Api) -> None:
    reply = await api.post(
        CONFIGS, role="readonly", integration=api.integration("key_management"), json={"name": "x"}
    )
    assert reply.status == 403 and "key_management:write" in reply.error["errorMessage"]


async def test_created_configurations_survive_a_restart(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        async with open_client(handle) as api:
            integration = api.integration("key_management")
            created = (await api.post(CONFIGS, integration=integration, json={"name": "kept"})).json
        handle.restart()
        async with open_client(handle) as api:
            assert (await api.get(f"{CONFIGS}/{created['id']}", integration=integration)).status == 200
