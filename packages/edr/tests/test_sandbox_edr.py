"""The sandbox's EDR emulation: seeded devices and alerts shaped like CrowdStrike's and SentinelOne's,
served read-only.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox).
"""

from __future__ import annotations

import re

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.services import edr
from unizo_mcp_sandbox.testclient import SandboxClient

DEVICES = "/api/v1/edr/devices"
DATASET = generate_dataset(1729)
INTEGRATIONS = [item for item in DATASET.integrations if item["type"] == "EDR"]


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda item: item["name"])
def test_devices_and_alerts(integration: dict) -> None:
    devices = DATASET.tables["devices"][(integration["id"],)]
    assert len(devices) == edr.DEVICES_PER_INTEGRATION >= 50
    assert len({device["id"] for device in devices}) == len(devices)
    connector = integration["serviceProfile"]["name"]
    pattern = r"[0-9a-f]{32}" if connector == "crowdstrike" else r"\d{19}"
    assert all(re.fullmatch(pattern, device["id"]) for device in devices)
    for device in devices:
        alerts = DATASET.tables["alerts"][(integration["id"], device["id"])]
        assert len(alerts) >= 2
        assert {alert["severity"] for alert in alerts} <= {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
        assert all(alert["device"]["id"] == device["id"] for alert in alerts)
        assert all(
            alert["vendor"]["severity"] == edr.VENDOR_SEVERITY[connector][alert["severity"]]
            for alert in alerts
        )
        assert [alert["createdDateTime"] for alert in alerts] == sorted(
            (alert["createdDateTime"] for alert in alerts), reverse=True
        )


async def test_edr_is_read_only(api: SandboxClient) -> None:
    integration = api.integration("edr")
    device = await api.first(DEVICES, integration)
    for method in ("POST", "PUT", "DELETE"):
        reply = await api.call(method, f"{DEVICES}/{device['id']}", integration=integration, json={})
        assert (reply.status, reply.error["errorCode"]) == (405, "AP-4050001")


async def test_alerts_belong_to_their_device(api: SandboxClient) -> None:
    integration = api.integration("edr", "sentinelone")
    first, second = (await api.get(DEVICES, integration=integration, params={"limit": "2"})).json["data"]
    alert = await api.first(f"{DEVICES}/{first['id']}/alerts", integration)
    assert (
        await api.get(f"{DEVICES}/{first['id']}/alerts/{alert['id']}", integration=integration)
    ).status == 200
    elsewhere = await api.get(f"{DEVICES}/{second['id']}/alerts/{alert['id']}", integration=integration)
    assert elsewhere.error["errorMessage"] == f"alert '{alert['id']}' was not found"
