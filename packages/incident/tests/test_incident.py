"""Incident management: every tool against the sandbox (generated from the declarations and this table), its
snapshot, and what only this service has: nested bodies from flat arguments, updates that keep what they are
not given (nested fields included), the organization picked when only one exists."""

from __future__ import annotations

from typing import Any

from servicekit import Example, Session, ref, service_tests
from unizo_mcp_incident.tools import SERVICE
from unizo_testkit import text_of

TOOLS = {tool.name: tool for tool in SERVICE.tools}
NEW = {
    "name": "Card declines",
    "title": "Card authorisations failing for EU issuers",
    "description": "Authorisation failures rose to 30% for EU-issued cards since 09:00 UTC.",
    "status": "investigating",
    "priority_type": "P1",
    "priority_id": "PRIO001",
    "priority_name": "Critical",
}


def _created(data: Any) -> None:
    assert (data["name"], data["status"], data["urgency"]) == ("Card declines", "investigating", "HIGH")
    assert data["priority"] == {"type": "P1", "id": "PRIO001", "name": "Critical"}
    assert data["targets"] == [{"type": "api", "slug": "payments"}]
    assert data["project"] == {"id": "10042", "name": "PAY"} and data["isMultiResponder"] is True
    assert data["service"]["type"] == "service" and data["type"] == "service"


def _updated(data: Any) -> None:
    assert data["status"] == "monitoring"
    assert (data["priority"]["type"], data["priority"]["name"]) == ("P3", "Medium") and data["priority"]["id"]


EXAMPLES = {
    "incident_list_incidents": Example({"sort": "-changeLog.createdDateTime"}),
    "incident_create_incident": Example(
        {
            **NEW,
            "service_info_id": ref("incident_list_services_for_org"),
            "service_name": ref("incident_list_services_for_org", "name"),
            "incident_type": "service",
            "targets": [{"type": "api", "slug": "payments"}],
            "is_multi_responder": True,
            "project_id": "10042",
            "project_name": "PAY",
        },
        check=_created,
    ),
    "incident_update_incident": Example(
        {"status": "monitoring", "priority_type": "P3", "priority_name": "Medium"}, check=_updated
    ),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)


async def _team_scope(s: Session, connector: str = "pagerduty") -> dict[str, str]:
    (found, *_) = await s.data("incident_list_integrations", {"connector": connector})
    args = {"integration_id": found["id"]}
    args["organization_id"] = (await s.data("incident_list_organizations", args))[0]["id"]
    args["service_id"] = (await s.data("incident_list_services_for_org", args))[0]["id"]
    args["team_id"] = (await s.data("incident_list_teams", args))[0]["id"]
    return args


async def test_flat_arguments_are_sent_nested(open_server: Any, sent: list[dict[str, Any]]) -> None:
    async with open_server("incident") as s:
        scope = await _team_scope(s)
        service = await s.data("incident_get_service", {k: v for k, v in scope.items() if k != "team_id"})
        args = {**scope, **NEW, "service_info_id": service["id"], "service_name": service["name"]}
        created = await s.data("incident_create_incident", {**args, "project_id": "1", "project_name": "SRE"})
        (body,) = [c["json"] for c in sent if c["method"] == "POST" and c["path"].endswith("/incidents")]
        assert body == {
            "name": NEW["name"], "title": NEW["title"], "description": NEW["description"],
            "status": "investigating",
            "priority": {"type": "P1", "id": "PRIO001", "name": "Critical"},
            "service": {"id": service["id"], "name": service["name"]},
            "project": {"id": "1", "name": "SRE"},
        }  # fmt: skip
        assert created["service"] == {"type": "service", "id": service["id"], "name": service["name"]}


async def test_an_update_keeps_what_it_is_not_given(open_server: Any, sent: list[dict[str, Any]]) -> None:
    async with open_server("incident") as s:
        scope = await _team_scope(s)
        (incident, *_) = await s.data("incident_list_incidents", {**scope, "fields": ["*"]})
        path = {**scope, "incident_id": incident["id"]}
        updated = await s.data("incident_update_incident", {**path, "priority_type": "P4"})
        assert updated["priority"] == {**incident["priority"], "type": "P4"}
        assert (updated["title"], updated["status"], updated["service"]) == (
            incident["title"], incident["status"], incident["service"],
        )  # fmt: skip
        (body,) = [c["json"] for c in sent if c["method"] == "PUT"]
        assert body["priority"] == {**incident["priority"], "type": "P4"}
        assert body["description"] == incident["description"] and "team" not in body
        assert [c["method"] for c in sent if c["path"].endswith(incident["id"])] == ["GET", "PUT"]


async def test_the_api_names_what_is_wrong(open_server: Any) -> None:
    async with open_server("incident") as s:
        scope = await _team_scope(s)
        args = {**scope, **NEW, "service_info_id": "nope", "service_name": "Nope", "title": "Too short"}
        result = await s.call("incident_create_incident", args)
        assert result.is_error and "title" in text_of(result) and "HTTP 400" in text_of(result)
        result = await s.call("incident_create_incident", {**args, "title": NEW["title"]})
        assert result.is_error and "service.id" in text_of(result)


async def test_the_only_organization_is_picked_and_several_are_listed(open_server: Any) -> None:
    async with open_server("incident") as s:
        (opsgenie, *_) = await s.data("incident_list_integrations", {"connector": "opsgenie"})
        services = await s.data("incident_list_services_for_org", {"integration_id": opsgenie["id"]})
        assert len(services) == 3
        (pagerduty, *_) = await s.data("incident_list_integrations", {"connector": "pagerduty"})
        accounts = await s.data("incident_list_organizations", {"integration_id": pagerduty["id"]})
        result = await s.call("incident_list_services_for_org", {"integration_id": pagerduty["id"]})
        assert result.is_error and all(account["id"] in text_of(result) for account in accounts)


def test_bodies_follow_the_contract() -> None:
    params = {name: {p.name: p for p in tool.params} for name, tool in TOOLS.items()}
    create, update = params["incident_create_incident"], params["incident_update_incident"]
    wires = {p.wire_name for p in create.values() if p.location == "body"}
    assert wires == {
        "name", "title", "description", "status", "priority.type", "priority.id", "priority.name",
        "service.id", "service.name", "type", "targets", "isMultiResponder", "project.id", "project.name",
    }  # fmt: skip
    assert [n for n, p in create.items() if p.required and p.location == "body"] == [
        "name", "title", "description", "status", "priority_type", "priority_id", "priority_name",
        "service_info_id", "service_name",
    ]  # fmt: skip
    assert not any(p.required for p in update.values() if p.location == "body")
    assert TOOLS["incident_update_incident"].read_before_write
    assert TOOLS["incident_update_incident"].method == "PUT"
