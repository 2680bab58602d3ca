"""The sandbox's observability emulation: seeded logs at /api/v1/logs (no category segment), across levels
and sources, newest first.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox).
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.services import observability
from unizo_mcp_sandbox.testclient import SandboxClient

LOGS = "/api/v1/logs"
DATASET = generate_dataset(1729)
INTEGRATIONS = [item for item in DATASET.integrations if item["type"] == "OBSERVABILITY"]


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda item: item["name"])
def test_logs_span_levels_and_sources_newest_first(integration: dict) -> None:
    logs = DATASET.tables["logs"][(integration["id"],)]
    assert len(logs) == observability.LOGS_PER_INTEGRATION >= 500
    assert set(Counter(log["level"] for log in logs)) == set(observability.LEVELS)
    assert len({log["source"] for log in logs}) >= 4
    assert all(re.fullmatch(r"log-\d{4}(-\d{2}){5}-[0-9a-f]{6}", log["id"]) for log in logs)
    assert len({log["id"] for log in logs}) == len(logs)
    assert [log["timestamp"] for log in logs] == sorted((log["timestamp"] for log in logs), reverse=True)
    connector = integration["serviceProfile"]["name"]
    assert all(f"vendor:{connector}" in log["tags"] for log in logs)


async def test_limit_100_is_allowed_and_pages_through_hundreds_of_logs(api: SandboxClient) -> None:
    integration = api.integration("observability")
    full = await api.get(LOGS, integration=integration, params={"limit": "100"})
    assert len(full.json["data"]) == 100
    assert full.json["pagination"]["total"] >= 500
    assert full.json["pagination"]["next"] == 100
    last = await api.get(LOGS, integration=integration, params={"limit": "100", "offset": "500"})
    assert len(last.json["data"]) == observability.LOGS_PER_INTEGRATION - 500


async def test_beta_corp_has_no_observability(api: SandboxClient) -> None:
    assert not observability.SERVICE.second_organization
    assert api.sandbox.integrations("observability", role="service_disabled") == []
    reply = await api.get(LOGS, role="service_disabled", integration=api.integration("observability"))
    assert (reply.status, reply.error["errorCode"]) == (403, "AP-4030002")
