"""The incident management tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import (
    Fields,
    Param,
    Permission,
    ServiceSpec,
    ToolSpec,
    body_param,
    get_tool,
    list_tool,
    path_param,
)

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
ORGANIZATION = Fields(summary=("id", "name", "login"), more=("url", "changeLog"))
SERVICE_FIELDS = Fields(
    summary=("id", "name", "status", "team=team.name"),
    more=("description", "type", "href", "url", "team", "organization", "changeLog"),
)
TEAM = Fields(summary=("id", "name"), more=("description", "type", "href", "url", "changeLog"))
INCIDENT = Fields(
    summary=(
        "id", "title", "status", "priority=priority.type", "urgency", "created=changeLog.createdDateTime",
    ),
    more=(
        "name", "description", "priority", "type", "incidentKey", "createdBy", "username", "url", "targets",
        "project", "service", "services", "isMultiResponder", "team", "organization", "login", "changeLog",
    ),
)  # fmt: skip

SERVICES = "/incident/{organization_id}/services"
TEAMS = SERVICES + "/{service_id}/teams"
INCIDENTS = TEAMS + "/{team_id}/incidents"

# Ids need no description: each comes from the list tool of the same name (incident_list_teams...).
# The organization may be left out when the integration has only one (an Opsgenie account).
ORG_ID = path_param("organization_id", resolvable=True)
SERVICE_ID = path_param("service_id")
TEAM_ID = path_param("team_id")
IDS = (ORG_ID, SERVICE_ID, TEAM_ID)

STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")


def _incident_fields(*, create: bool) -> tuple[Param, ...]:
    """The incident body, flat for the model and nested on the wire (`priority.type`, `project.id`), under
    the names of Unizo's tool parameters, required on create as there. Left out to keep the definitions
    within their budget: `username` (the key's identity opens the incident), `service_type` and
    `project_type` (optional in Unizo's model), and the enumerations of `incident_type` and a target's
    `type` (the API's 400 lists them). On update everything is optional: the core reads the incident
    first, so what is not given keeps its value, inside `priority`, `service` and `project` too."""
    need = {"required": True} if create else {}
    return (
        body_param("name", "string", "", **need),
        body_param("title", "string", "", **need),
        body_param("description", "string", "", **need),
        body_param("status", "string", "", enum=STATUSES, **need),
        body_param(
            "priority_type", "string", "", enum=("P1", "P2", "P3", "P4"), wire="priority.type", **need
        ),
        body_param("priority_id", "string", "", wire="priority.id", **need),
        body_param(
            "priority_name",
            "string",
            "",
            enum=("Critical", "High", "Medium", "Low"),
            wire="priority.name",
            **need,
        ),
        body_param("service_info_id", "string", "", wire="service.id", **need),
        body_param("service_name", "string", "", wire="service.name", **need),
        body_param("incident_type", "string", "", wire="type"),
        body_param(
            "targets",
            "array",
            "",
            items="object",
            item_params=(
                body_param("type", "string", "", required=True),
                body_param("slug", "string", "", required=True),
            ),
        ),
        body_param("is_multi_responder", "boolean", ""),
        body_param("project_id", "string", "", wire="project.id"),
        body_param("project_name", "string", "", wire="project.name"),
    )


SERVICE = ServiceSpec(
    name="incident",
    title="Incident management",
    description=(
        "Incident response through Unizo: organizations (accounts), their services and the teams on each, "
        "and the incidents of a service's team, which can be created and updated."
    ),
    package="unizo-mcp-incident",
    version=__version__,
    connectors=("pagerduty", "opsgenie"),
    tools=(
        list_tool(
            "incident_list_organizations",
            "List organizations (accounts).",
            "/incident/organizations",
            fields=ORGANIZATION,
        ),
        get_tool(
            "incident_get_organization",
            "Get one organization.",
            "/incident/organizations/{organization_id}",
            ORG_ID,
        ),
        list_tool(
            "incident_list_services_for_org",
            "List an organization's services.",
            SERVICES,
            ORG_ID,
            fields=SERVICE_FIELDS,
        ),
        get_tool("incident_get_service", "Get one service.", SERVICES + "/{service_id}", ORG_ID, SERVICE_ID),
        list_tool("incident_list_teams", "List a service's teams.", TEAMS, ORG_ID, SERVICE_ID, fields=TEAM),
        get_tool("incident_get_team", "Get one team.", TEAMS + "/{team_id}", *IDS),
        list_tool(
            "incident_list_incidents",
            "List a team's incidents, newest first.",
            INCIDENTS,
            *IDS,
            fields=INCIDENT,
        ),
        get_tool(
            "incident_get_incident",
            "Get one incident.",
            INCIDENTS + "/{incident_id}",
            *IDS,
            path_param("incident_id"),
        ),
        ToolSpec(
            "incident_create_incident",
            "Open an incident (name 5-100, title 10-200, description 20-1000 chars).",
            "POST",
            INCIDENTS,
            Permission.WRITE,
            (*IDS, *_incident_fields(create=True)),
        ),
        ToolSpec(
            "incident_update_incident",
            "Update an incident; omitted fields keep their values.",
            "PUT",
            INCIDENTS + "/{incident_id}",
            Permission.WRITE,
            (*IDS, path_param("incident_id"), *_incident_fields(create=False)),
            read_before_write=True,
        ),
    ),
)
