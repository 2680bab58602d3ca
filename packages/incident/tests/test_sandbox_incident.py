"""The sandbox's incident management emulation: seeded accounts, services, teams and incidents; creating and
updating incidents (validation of the nested body, where they show up, the webhook events), persistence.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox): fixtures `sandbox_client`,
`webhook_receiver`.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.services import incident as emulation
from unizo_mcp_sandbox.testclient import SandboxClient, WebhookReceiver
from unizo_mcp_sandbox.testclient import sandbox_client as open_client
from unizo_mcp_sandbox.testing import start_sandbox

Api = SandboxClient
INCIDENT = "/api/v1/incident"
DATASET = generate_dataset(1729)


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


async def team_scope(api: Api, connector: str = "pagerduty") -> tuple[str, str, dict[str, Any]]:
    """(integration id, incidents path, the service) of the first team of the first service."""
    integration = api.integration("incident", connector)
    organization = await api.first(f"{INCIDENT}/organizations", integration)
    service = await api.first(f"{INCIDENT}/{organization['id']}/services", integration)
    teams = f"{INCIDENT}/{organization['id']}/services/{service['id']}/teams"
    team = await api.first(teams, integration)
    return integration, f"{teams}/{team['id']}/incidents", service


def body(service: dict[str, Any], changes: dict[str, Any] | None = None) -> dict[str, Any]:
    new = {
        "name": "Card declines",
        "title": "Card authorisations failing for EU issuers",
        "description": "Authorisation failures rose to 30% for EU-issued cards since 09:00 UTC.",
        "status": "investigating",
        "priority": {"type": "P2", "id": "PABC123", "name": "High"},
        "service": {"id": service["id"], "name": service["name"]},
        "type": "service",
        "targets": [{"type": "api", "slug": "payments"}],
        "username": "dana.kowalski",
    }
    return {key: value for key, value in {**new, **(changes or {})}.items() if value is not None}


# ---- seeded data ----------------------------------------------------------------------------------------


def test_accounts_services_teams_and_incidents_are_seeded() -> None:
    acme = [item for item in DATASET.integrations if item["type"] == "INCIDENT"][:2]
    assert [item["serviceProfile"]["name"] for item in acme] == ["pagerduty", "opsgenie"]
    for integration, logins in (
        (acme[0], ["acme-security", "acme-security-eu"]),
        (acme[1], ["acme-security"]),
    ):
        organizations = DATASET.tables["incident_organizations"][(integration["id"],)]
        assert [org["login"] for org in organizations] == logins
        for organization in organizations:
            scope = (integration["id"], organization["id"])
            services = DATASET.tables["incident_services"][scope]
            assert [s["name"] for s in services] == ["Checkout API", "Payments Processor", "Corporate VPN"]
            incidents = [
                incident
                for service in services
                for team in DATASET.tables["incident_teams"][(*scope, service["id"])]
                for incident in DATASET.tables["incidents"][(*scope, service["id"], team["id"])]
            ]
            assert len(incidents) >= 30
            assert set(Counter(incident["status"] for incident in incidents)) == set(emulation.STATUSES)
            pattern = r"Q[A-Z0-9]{13}" if integration is acme[0] else r"[0-9a-f-]{36}"
            assert all(re.fullmatch(pattern, incident["id"]) for incident in incidents)


def test_seeded_incidents_pass_the_update_rules() -> None:
    """The core sends a seeded incident's own fields back on update: each must be valid."""
    for scope, incidents in DATASET.tables["incidents"].items():
        for incident in incidents:
            fields = {field.name: incident[field.name] for field in emulation.UPDATE_FIELDS}
            emulation.validate(fields, emulation.UPDATE_FIELDS)
            assert incident["team"]["href"].endswith(f"/services/{scope[2]}/teams/{scope[3]}")


async def test_teams_are_served_under_each_service_they_are_on(api: Api) -> None:
    integration = api.integration("incident")
    organization = await api.first(f"{INCIDENT}/organizations", integration)
    services = (await api.get(f"{INCIDENT}/{organization['id']}/services", integration=integration)).json[
        "data"
    ]
    on = {}
    for service in services:
        path = f"{INCIDENT}/{organization['id']}/services/{service['id']}/teams"
        teams = (await api.get(path, integration=integration)).json["data"]
        assert service["team"]["id"] == teams[0]["id"]
        assert all(team["href"] == f"https://api.unizo.ai{path}/{team['id']}" for team in teams)
        on[service["name"]] = [team["name"] for team in teams]
    assert on["Checkout API"] == ["SRE On-Call", "Payments Engineering"]


# ---- create and update ----------------------------------------------------------------------------------


async def test_a_created_incident_is_listed_and_readable(api: Api) -> None:
    integration, incidents, service = await team_scope(api)
    reply = await api.post(incidents, integration=integration, json=body(service))
    assert reply.status == 201, reply.text
    created = reply.json
    assert (created["urgency"], created["createdBy"], created["service"]["type"]) == (
        "HIGH",
        "dana.kowalski",
        "service",
    )
    assert created["url"].endswith(f".pagerduty.com/incidents/{created['id']}")
    assert created["services"][0]["id"] == service["id"]
    newest = await api.first(incidents, integration, sort="-changeLog.createdDateTime")
    assert newest == created
    assert (await api.get(f"{incidents}/{created['id']}", integration=integration)).json == created


@pytest.mark.parametrize(
    ("change", "property"),
    [
        ({"name": "Card"}, "name"),
        ({"title": "Too short"}, "title"),
        ({"description": "Cards fail."}, "description"),
        ({"status": "open"}, "status"),
        ({"priority": None}, "priority"),
        ({"priority": "P1"}, "priority"),
        ({"priority": {"type": "P0", "id": "x", "name": "High"}}, "priority.type"),
        ({"priority": {"type": "P1", "name": "Critical"}}, "priority.id"),
        ({"priority": {"type": "P1", "id": "x", "name": "Urgent"}}, "priority.name"),
        ({"service": None}, "service"),
        ({"service": {"id": "nope", "name": "Nope"}}, "service.id"),
        ({"project": {"id": "1"}}, "project.name"),
        ({"targets": [{"type": "host", "slug": "db-1"}]}, "targets[0].type"),
        ({"targets": [{"type": "database"}]}, "targets[0].slug"),
        ({"type": "outage"}, "type"),
        ({"isMultiResponder": "yes"}, "isMultiResponder"),
        ({"severity": "high"}, "severity"),
    ],
)
async def test_incident_validation_names_the_property(
    api: Api, change: dict[str, Any], property: str
) -> None:
    integration, incidents, service = await team_scope(api)
    reply = await api.post(incidents, integration=integration, json=body(service, change))
    assert reply.status == 400, reply.text
    assert (reply.error["errorCode"], reply.error["property"]) == ("AP-4000001", property)


async def test_an_update_changes_what_it_names(api: Api) -> None:
    integration, incidents, _ = await team_scope(api)
    seeded = await api.first(incidents, integration)
    path = f"{incidents}/{seeded['id']}"
    priority = {"type": "P1", "id": seeded["priority"]["id"], "name": "Critical"}
    reply = await api.put(path, integration=integration, json={"status": "resolved", "priority": priority})
    assert reply.status == 200, reply.text
    updated = (await api.get(path, integration=integration)).json
    assert (updated["status"], updated["priority"], updated["urgency"]) == ("resolved", priority, "HIGH")
    assert updated["title"] == seeded["title"] and updated["targets"] == seeded["targets"]
    assert updated["changeLog"]["lastUpdatedDateTime"] >= seeded["changeLog"]["lastUpdatedDateTime"]
    half = await api.put(path, integration=integration, json={"priority": {"type": "P4"}})
    assert (half.status, half.error["property"]) == (400, "priority.id")
    missing = await api.put(f"{incidents}/Q404", integration=integration, json={"status": "resolved"})
    assert (missing.status, missing.error["errorMessage"]) == (404, "incident 'Q404' was not found")


async def test_readonly_keys_cannot_write(api: Api) -> None:
    integration, incidents, service = await team_scope(api, "opsgenie")
    refused = await api.post(incidents, role="readonly", integration=integration, json=body(service))
    assert refused.status == 403 and "incident:write" in refused.error["errorMessage"]
    created = await api.post(incidents, integration=integration, json=body(service))
    assert created.status == 201 and re.fullmatch(r"[0-9a-f-]{36}", created.json["id"])


async def test_creation_and_update_are_delivered(api: Api, webhook_receiver: WebhookReceiver) -> None:
    hook = {
        "name": "t",
        "url": webhook_receiver.url + "/incidents",
        "events": ["incident:*"],
        "secret": "whsec_sandbox_test",
    }
    assert (await api.post("/api/v1/webhooks", json=hook)).status == 201
    integration, incidents, service = await team_scope(api)
    created = (await api.post(incidents, integration=integration, json=body(service))).json
    first = await webhook_receiver.next()
    assert (first.payload["type"], first.payload["data"]["id"]) == ("incident:created", created["id"])
    assert first.payload["integration"]["type"] == "INCIDENT"
    await api.put(f"{incidents}/{created['id']}", integration=integration, json={"status": "identified"})
    second = await webhook_receiver.next()
    assert second.headers["x-unizo-event-type"] == "incident:updated"
    assert second.payload["data"]["status"] == "identified"
    assert emulation.SERVICE.events == ("incident:created", "incident:updated")


async def test_incidents_survive_a_restart(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        async with open_client(handle) as api:
            integration, incidents, service = await team_scope(api)
            created = (await api.post(incidents, integration=integration, json=body(service))).json
            await api.put(
                f"{incidents}/{created['id']}", integration=integration, json={"status": "postmortem"}
            )
        handle.restart()
        async with open_client(handle) as api:
            fetched = await api.get(f"{incidents}/{created['id']}", integration=integration)
            assert (fetched.status, fetched.json["status"]) == (200, "postmortem")
