"""Incident management: organizations, their services, the teams on each service (read); the incidents of a
service and team (read, create, update).

PagerDuty integrations look like PagerDuty accounts (two per integration: a US and an EU service region;
`P…` ids, `Q…` incident ids, per-account priority ids); Opsgenie ones like one Opsgenie account (UUIDs,
priorities P1-P4 as their own ids).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.context import sandbox_of
from unizo_mcp_sandbox.data.common import API, Gen, Record, Tables, change_log, slug
from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.resources import Resource, Route, locate, locate_item
from unizo_mcp_sandbox.routes.common import actor, record_response
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import iso
from unizo_mcp_sandbox.validation import Check, Field, boolean, json_body, object_list, one_of, text, validate

PAGERDUTY, OPSGENIE = "pagerduty", "opsgenie"
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
PRIORITIES = (("P1", "Critical"), ("P2", "High"), ("P3", "Medium"), ("P4", "Low"))
INCIDENT_TYPES = ("service", "infrastructure", "security", "performance")
TARGET_TYPES = ("service", "infrastructure", "database", "api")
TEAMS = (
    ("SRE On-Call", "Site reliability, first responders for production"),
    ("Payments Engineering", "Owns payment flows and processors"),
    ("Security Response", "Security analysts on call"),
    ("IT Operations", "Corporate network and endpoints"),
)
# (name, description, slug, the teams on it)
SERVICES = (
    ("Checkout API", "Public checkout and cart API", "checkout-api", ("SRE On-Call", "Payments Engineering")),
    ("Payments Processor", "Card authorisation", "payments", ("Payments Engineering", "SRE On-Call")),
    ("Corporate VPN", "Remote access for employees", "corp-vpn", ("IT Operations", "Security Response")),
)  # fmt: skip
# (name, title, description, type, target type)
TEMPLATES = (
    ("High 5xx rate", "Elevated 5xx error rate on {service}",
     "More than 5% of requests to {service} fail with 5xx since the last deploy.", "service", "api"),
    ("Latency spike", "p99 latency above 2 s on {service}",
     "p99 latency of {service} tripled; upstream dependencies look healthy so far.", "performance", "api"),
    ("Database failover", "Primary database of {service} failed over",
     "The primary database failed over to its replica; writes paused for 40 seconds.", "infrastructure",
     "database"),
    ("Suspicious admin login", "Admin login to {service} from an unrecognised country",
     "An administrator signed in from a country never seen before; session revoked pending review.",
     "security", "service"),
    ("Certificate expiry", "TLS certificate of {service} expires within 24 hours",
     "The certificate served by {service} expires tomorrow and auto-renewal failed.", "security",
     "infrastructure"),
    ("Queue backlog", "Event queue backlog above 50k messages for {service}",
     "Consumers of {service} fall behind; the backlog grows by 2k messages a minute.", "performance",
     "service"),
    ("Deploy rollback", "Release of {service} rolled back after failed health checks",
     "The canary of the new release failed its health checks; the release was rolled back.", "service",
     "service"),
    ("Traffic flood", "Traffic spike at the edge triggered DDoS mitigation for {service}",
     "Requests to {service} rose 40x from a botnet; mitigation rules are active.", "security", "api"),
    ("Disk pressure", "Disk usage above 90% on hosts of {service}",
     "Log volume filled the disks of two hosts serving {service}; rotation is being fixed.",
     "infrastructure", "infrastructure"),
)  # fmt: skip
RESPONDERS = ("dana.kowalski", "farid.okafor", "grace.ito", "liam.petrov", "uma.rossi", "victor.tanaka")

ORGANIZATION_SORT_FIELDS = frozenset({"id", "name", "login", "changeLog.createdDateTime"})
SERVICE_SORT_FIELDS = frozenset({"id", "name", "status", "changeLog.createdDateTime"})
TEAM_SORT_FIELDS = frozenset({"id", "name", "changeLog.createdDateTime"})
INCIDENT_SORT_FIELDS = frozenset({
    "id", "name", "title", "status", "urgency", "priority.type", "type", "incidentKey",
    "changeLog.createdDateTime", "changeLog.lastUpdatedDateTime",
})  # fmt: skip


# ---- generation -----------------------------------------------------------------------------------------


def _pd_id(gen: Gen | None, prefix: str, length: int = 6) -> str:
    if gen is None:
        return prefix + "".join(secrets.choice(UPPER) for _ in range(length))
    return prefix + "".join(gen.pick(UPPER) for _ in range(length))


def _organizations(gen: Gen, connector: str, owner: Organization) -> list[Record]:
    base = slug(owner.name)
    regions = ((base, ""), (f"{base}-eu", " (EU)")) if connector == PAGERDUTY else ((base, ""),)
    organizations = []
    for login, suffix in regions:
        created = gen.past(1500, 700)
        url = (
            f"https://{login}.pagerduty.com"
            if connector == PAGERDUTY
            else f"https://{login}.app.opsgenie.com"
        )
        organizations.append(
            {
                "id": _pd_id(gen, "P") if connector == PAGERDUTY else gen.uuid(),
                "login": login,
                "name": owner.name + suffix,
                "url": url,
                "changeLog": change_log(created, gen.after(created, 400)),
            }
        )
    return organizations


def _priorities(gen: Gen, connector: str) -> dict[str, Record]:
    """The account's priorities: PagerDuty gives each its own id; Opsgenie's ids are the codes."""
    return {
        code: {"type": code, "id": _pd_id(gen, "P") if connector == PAGERDUTY else code, "name": name}
        for code, name in PRIORITIES
    }


def _team(gen: Gen, connector: str, organization: Record, name: str, description: str) -> Record:
    team_id = _pd_id(gen, "P") if connector == PAGERDUTY else gen.uuid()
    created = gen.past(1200, 300)
    url = (
        f"{organization['url']}/teams/{team_id}"
        if connector == PAGERDUTY
        else f"{organization['url']}/teams/dashboard/{team_id}/main"
    )
    return {
        "href": None,  # set per service: teams are served under each service they are on
        "type": "team",
        "id": team_id,
        "name": name,
        "description": description,
        "url": url,
        "changeLog": change_log(created, gen.after(created, 300)),
    }


def team_reference(team: Record) -> Record:
    return {"id": team["id"], "name": team["name"], "href": team["href"], "type": "team"}


def _service(gen: Gen, connector: str, organization: Record, spec: tuple[Any, ...]) -> Record:
    name, description, _, _ = spec
    service_id = _pd_id(gen, "P") if connector == PAGERDUTY else gen.uuid()
    created = gen.past(1000, 200)
    url = (
        f"{organization['url']}/service-directory/{service_id}"
        if connector == PAGERDUTY
        else f"{organization['url']}/service/{service_id}"
    )
    return {
        "href": f"{API}/incident/{organization['id']}/services/{service_id}",
        "type": "service",
        "id": service_id,
        "name": name,
        "description": description,
        "status": "active",
        "team": None,  # the first team on it, once the teams are placed
        "url": url,
        "organization": {"id": organization["id"], "name": organization["name"]},
        "changeLog": change_log(created, gen.after(created, 300)),
    }


def service_info(service: Record) -> Record:
    return {"type": "service", "id": service["id"], "name": service["name"]}


def _incident_url(connector: str, organization: Record, incident_id: str) -> str:
    if connector == PAGERDUTY:
        return f"{organization['url']}/incidents/{incident_id}"
    return f"{organization['url']}/incident/detail/{incident_id}"


def _incident(
    gen: Gen,
    connector: str,
    organization: Record,
    service: Record,
    team: Record,
    priorities: dict[str, Record],
    service_slug: str,
) -> Record:
    name, title, description, kind, target = gen.pick(TEMPLATES)
    code = gen.weighted([code for code, _ in PRIORITIES], (10, 25, 40, 25))
    created = gen.past(120, 0.05)
    status = gen.weighted(STATUSES, (20, 15, 15, 40, 10))
    days = 0.3 if status in ("investigating", "identified") else 6.0
    responder = gen.pick(RESPONDERS)
    incident_id = _pd_id(gen, "Q", 13) if connector == PAGERDUTY else gen.uuid()
    project = (
        {"type": "jira", "id": gen.digits(5), "name": gen.pick(("SRE", "PAY", "SEC"))}
        if gen.chance(0.35)
        else None
    )
    return {
        "id": incident_id,
        "name": name,
        "title": title.format(service=service["name"]),
        "login": None,
        "status": status,
        "priority": dict(priorities[code]),
        "description": description.format(service=service["name"]),
        "incidentKey": f"{service_slug}-{gen.hex(8)}",
        "createdBy": f"{responder}@{organization['login'].removesuffix('-eu')}.com",
        "url": _incident_url(connector, organization, incident_id),
        "urgency": "HIGH" if code in ("P1", "P2") else "LOW",
        "username": responder,
        "type": kind,
        "targets": [{"type": target, "slug": service_slug}],
        "project": project,
        "service": service_info(service),
        "isMultiResponder": gen.chance(0.3),
        "team": team_reference(team),
        "services": [
            {"id": service["id"], "name": service["name"], "href": service["href"], "type": "service"}
        ],
        "organization": {
            "id": organization["id"],
            "name": organization["name"],
            "login": organization["login"],
        },
        "changeLog": change_log(created, gen.after(created, days)),
    }


def generate(gen: Gen, integration: Record, owner: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    integration_id = integration["id"]
    organizations = _organizations(gen, connector, owner)
    tables["incident_organizations"][(integration_id,)] = organizations
    for organization in organizations:
        org_scope = (integration_id, organization["id"])
        teams = {name: _team(gen, connector, organization, name, text_) for name, text_ in TEAMS}
        priorities = _priorities(gen, connector)
        services = [_service(gen, connector, organization, spec) for spec in SERVICES]
        tables["incident_services"][org_scope] = services
        for service, spec in zip(services, SERVICES, strict=True):
            service_scope = (*org_scope, service["id"])
            on_service = [
                {**teams[name], "href": f"{service['href']}/teams/{teams[name]['id']}"} for name in spec[3]
            ]
            service["team"] = team_reference(on_service[0])
            tables["incident_teams"][service_scope] = on_service
            for team in on_service:
                incidents = [
                    _incident(gen, connector, organization, service, team, priorities, spec[2])
                    for _ in range(gen.number(5, 7))
                ]
                incidents.sort(key=lambda incident: incident["changeLog"]["createdDateTime"], reverse=True)
                tables["incidents"][(*service_scope, team["id"])] = incidents


# ---- endpoints ------------------------------------------------------------------------------------------

INCIDENTS_PATH = "/incident/{organizationId}/services/{serviceId}/teams/{teamId}/incidents"

ORGANIZATIONS = Resource(
    kind="incident_organizations",
    path="/incident/organizations",
    label="organization",
    sortable=ORGANIZATION_SORT_FIELDS,
    item_param="organizationId",
)
SERVICES_RESOURCE = Resource(
    kind="incident_services",
    path="/incident/{organizationId}/services",
    label="service",
    sortable=SERVICE_SORT_FIELDS,
    item_param="serviceId",
    parent=ORGANIZATIONS,
)
TEAMS_RESOURCE = Resource(
    kind="incident_teams",
    path="/incident/{organizationId}/services/{serviceId}/teams",
    label="team",
    sortable=TEAM_SORT_FIELDS,
    item_param="teamId",
    parent=SERVICES_RESOURCE,
)
INCIDENTS = Resource(
    kind="incidents",
    path=INCIDENTS_PATH,
    label="incident",
    sortable=INCIDENT_SORT_FIELDS,
    item_param="incidentId",
    parent=TEAMS_RESOURCE,
)


def nested(fields: tuple[Field, ...]) -> Check:
    """An object field checked field by field; errors name `priority.type`, `targets[0].slug`, ..."""

    def check(value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise invalid(path, f"{path} must be an object")
        return validate(value, fields, prefix=f"{path}.")

    return check


PRIORITY_FIELDS = (
    Field("type", one_of(*(code for code, _ in PRIORITIES)), required=True),
    Field("id", text(1, 64), required=True),
    Field("name", one_of(*(name for _, name in PRIORITIES)), required=True),
)
REFERENCE_FIELDS = (  # project and service
    Field("type", text(1, 64)),
    Field("id", text(1, 64), required=True),
    Field("name", text(1, 255), required=True),
)
TARGET_FIELDS = (
    Field("type", one_of(*TARGET_TYPES), required=True),
    Field("slug", text(1, 255), required=True),
)
INCIDENT_FIELDS = (
    Field("name", text(5, 100), required=True),
    Field("title", text(10, 200), required=True),
    Field("description", text(20, 1000), required=True),
    Field("status", one_of(*STATUSES), required=True),
    Field("username", text(1, 255)),
    Field("type", one_of(*INCIDENT_TYPES)),
    Field("targets", object_list(TARGET_FIELDS, 0, 20)),
    Field("isMultiResponder", boolean()),
    Field("priority", nested(PRIORITY_FIELDS), required=True),
    Field("project", nested(REFERENCE_FIELDS)),
    Field("service", nested(REFERENCE_FIELDS), required=True),
)
UPDATE_FIELDS = tuple(Field(field.name, field.check) for field in INCIDENT_FIELDS)


def _now(request: web.Request) -> str:
    return iso(sandbox_of(request).clock.time())


def _check_service(request: web.Request, scope: tuple[str, ...], fields: dict[str, Any]) -> Record | None:
    """The service the body names must be one of the organization's (400 on `service.id`)."""
    if "service" not in fields:
        return None
    org_scope = scope[:2]
    found = sandbox_of(request).records.get("incident_services", org_scope, fields["service"]["id"])
    if found is None:
        raise invalid("service.id", f"service '{fields['service']['id']}' is not one of this organization's")
    return found


def _body_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The body's fields as the incident stores them (`service` keeps its type, `service` by default)."""
    stored = dict(fields)
    if "service" in stored:
        stored["service"] = {"type": "service", **stored["service"]}
    return stored


async def create_incident(request: web.Request) -> web.Response:
    location = locate(request, INCIDENTS)
    fields = validate(await json_body(request), INCIDENT_FIELDS)
    service = _check_service(request, location.scope, fields)
    sandbox = sandbox_of(request)
    integration, team = location.integration, location.owner
    connector = integration["serviceProfile"]["name"]
    organization = sandbox.records.get("incident_organizations", (integration["id"],), location.scope[1])
    assert organization is not None and service is not None  # locate and _check_service found them
    incident_id = _pd_id(None, "Q", 13) if connector == PAGERDUTY else str(uuid.uuid4())
    now = _now(request)
    stored = _body_fields(fields)
    incident = {
        "id": incident_id,
        "name": stored["name"],
        "title": stored["title"],
        "login": None,
        "status": stored["status"],
        "priority": stored["priority"],
        "description": stored["description"],
        "incidentKey": f"{slug(service['name'])}-{secrets.token_hex(4)}",
        "createdBy": stored.get("username") or actor(request)["firstName"],
        "url": _incident_url(connector, organization, incident_id),
        "urgency": "HIGH" if stored["priority"]["type"] in ("P1", "P2") else "LOW",
        "username": stored.get("username"),
        "type": stored.get("type"),
        "targets": stored.get("targets", []),
        "project": stored.get("project"),
        "service": stored["service"],
        "isMultiResponder": stored.get("isMultiResponder", False),
        "team": team_reference(team),
        "services": [
            {"id": service["id"], "name": service["name"], "href": service["href"], "type": "service"}
        ],
        "organization": {
            "id": organization["id"],
            "name": organization["name"],
            "login": organization["login"],
        },
        "changeLog": {"createdDateTime": now, "lastUpdatedDateTime": now},
    }
    sandbox.records.insert("incidents", location.scope, incident)
    sandbox.changed()
    sandbox.emit("incident:created", integration, incident)
    return record_response(incident, status=201)


async def update_incident(request: web.Request) -> web.Response:
    location, incident = locate_item(request, INCIDENTS)
    fields = validate(await json_body(request), UPDATE_FIELDS)
    service = _check_service(request, location.scope, fields)
    sandbox = sandbox_of(request)
    updated = {**incident, **_body_fields(fields)}
    if "priority" in fields:
        updated["urgency"] = "HIGH" if fields["priority"]["type"] in ("P1", "P2") else "LOW"
    if service is not None:
        reference = {"id": service["id"], "name": service["name"], "href": service["href"], "type": "service"}
        updated["services"] = [reference, *(s for s in incident["services"] if s["id"] != service["id"])]
    updated["changeLog"] = {**incident["changeLog"], "lastUpdatedDateTime": _now(request)}
    sandbox.records.replace("incidents", location.scope, updated)
    sandbox.changed()
    sandbox.emit("incident:updated", location.integration, updated)
    return record_response(updated)


SERVICE = SandboxService(
    name="incident",
    category="INCIDENT",
    connectors=((PAGERDUTY, "PagerDuty"), (OPSGENIE, "Opsgenie")),
    path_prefixes=("incident",),
    generate=generate,
    probe="/incident/organizations",
    # Fixed segments first: /incident/organizations/{id} would otherwise match /incident/{organizationId}/...
    resources=(ORGANIZATIONS, SERVICES_RESOURCE, TEAMS_RESOURCE, INCIDENTS),
    routes=(
        Route("POST", INCIDENTS_PATH, create_incident),
        Route("PUT", INCIDENTS_PATH + "/{incidentId}", update_incident),
    ),
    events=("incident:created", "incident:updated"),
)
