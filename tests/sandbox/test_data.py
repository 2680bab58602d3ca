"""The seeded data: deterministic, realistic enough, and as large as the issue asks."""

from __future__ import annotations

import re
import uuid
from collections import Counter

from unizo_mcp_sandbox.accounts import ACME, BETA
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.keys import seeded_keys

DATASET = generate_dataset(1729)


def records(kind: str, integration_id: str) -> list[dict]:
    return [
        record
        for scope, rows in DATASET.tables[kind].items()
        if scope[0] == integration_id
        for record in rows
    ]


def integrations(organization_id: str, category: str) -> list[dict]:
    return [
        item
        for item in DATASET.integrations
        if item["organization"]["id"] == organization_id and item["type"] == category
    ]


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not() -> None:
    again = generate_dataset.__wrapped__(1729)  # bypass the cache
    assert again is not DATASET
    assert (again.integrations, again.tables) == (DATASET.integrations, DATASET.tables)
    other = generate_dataset.__wrapped__(1730)
    assert other.integrations != DATASET.integrations
    assert other.tables["tickets"] != DATASET.tables["tickets"]


def test_each_category_has_the_documented_connectors() -> None:
    connectors = {
        category: sorted(item["serviceProfile"]["name"] for item in integrations(ACME.id, category))
        for category in ("EDR", "SCM", "TICKETING", "OBSERVABILITY")
    }
    assert connectors == {
        "EDR": ["crowdstrike", "sentinelone"],
        "SCM": ["github", "gitlab"],
        "TICKETING": ["github", "jira"],
        "OBSERVABILITY": ["datadog", "splunk"],
    }
    assert sorted(item["type"] for item in DATASET.integrations if item["organization"]["id"] == BETA.id) == [
        "EDR",
        "SCM",
        "TICKETING",
    ]
    assert all(uuid.UUID(item["id"]) for item in DATASET.integrations)


def test_edr_devices_and_alerts() -> None:
    for integration in integrations(ACME.id, "EDR"):
        devices = records("devices", integration["id"])
        assert len(devices) >= 50
        assert len({device["id"] for device in devices}) == len(devices)
        for device in devices:
            alerts = DATASET.tables["alerts"][(integration["id"], device["id"])]
            assert len(alerts) >= 2
            assert {alert["severity"] for alert in alerts} <= {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
        if integration["serviceProfile"]["name"] == "crowdstrike":
            assert all(re.fullmatch(r"[0-9a-f]{32}", device["id"]) for device in devices)


def test_observability_logs_span_levels_and_sources() -> None:
    for integration in integrations(ACME.id, "OBSERVABILITY"):
        logs = records("logs", integration["id"])
        assert len(logs) >= 500
        assert set(Counter(log["level"] for log in logs)) == {
            "INFO",
            "WARNING",
            "ERROR",
            "CRITICAL",
            "DEBUG",
            "TRACE",
        }
        assert len({log["source"] for log in logs}) >= 4
        assert all(re.fullmatch(r"log-\d{4}(-\d{2}){5}-[0-9a-f]{6}", log["id"]) for log in logs)
        assert len({log["id"] for log in logs}) == len(logs)


def test_scm_and_ticketing_have_every_kind_of_record() -> None:
    for kind in ("scm_organizations", "repositories", "branches", "commits", "pull_requests"):
        for integration in integrations(ACME.id, "SCM"):
            assert records(kind, integration["id"]), kind
    for kind in (
        "ticketing_organizations",
        "collections",
        "users",
        "tickets",
        "comments",
        "attachments",
        "labels",
    ):
        for integration in integrations(ACME.id, "TICKETING"):
            assert records(kind, integration["id"]), kind
    jira = integrations(ACME.id, "TICKETING")
    keys = [ticket["key"] for item in jira for ticket in records("tickets", item["id"])]
    assert any(re.fullmatch(r"[A-Z]+-\d+", key) for key in keys)
    assert any(re.fullmatch(r"#\d+", key) for key in keys)


def test_seeded_keys_are_deterministic_and_distinct() -> None:
    first, again = seeded_keys(1729, "production"), seeded_keys(1729, "production")
    assert [item.key for item in first] == [item.key for item in again]
    assert len({item.record.id for item in first}) == len(first)
    assert [item.key for item in seeded_keys(1, "production")] != [item.key for item in first]
    roles = {item.role: item for item in first}
    assert roles["development"].key.startswith("uz_dev_")
    assert roles["ip_restricted"].record.ip_allowlist == ["10.9.9.9/32"]
    assert roles["service_disabled"].record.organization_id == BETA.id
