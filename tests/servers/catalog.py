"""What the servers must expose, written from docs/api-contract.md and the reference (not from the code).

ROUTES maps every tool to the method and path the sandbox implements (contract spelling, camelCase
placeholders). Discovery tools are the core's; they search integrations.
"""

from __future__ import annotations

SERVICES = ("edr", "scm", "ticketing", "observability")
PACKAGES = {name: f"unizo-mcp-{name}" for name in SERVICES}
MODULES = {name: f"unizo_mcp_{name}" for name in SERVICES}

R = "/scm/organizations/{organizationId}/repositories/{repositoryId}"
T = "/ticketing/{organizationId}/collections/{collectionId}/tickets"
SEARCH = ("POST", "/integrations/search")

ROUTES: dict[str, tuple[str, str]] = {
    # EDR
    "edr_list_connectors": SEARCH,
    "edr_list_integrations": SEARCH,
    "edr_list_devices": ("GET", "/edr/devices"),
    "edr_get_device_details": ("GET", "/edr/devices/{deviceId}"),
    "edr_list_device_alerts": ("GET", "/edr/devices/{deviceId}/alerts"),
    "edr_get_device_alert_details": ("GET", "/edr/devices/{deviceId}/alerts/{alertId}"),
    # SCM
    "scm_list_connectors": SEARCH,
    "scm_list_integrations": SEARCH,
    "scm_list_organizations": ("GET", "/scm/organizations"),
    "scm_get_organization": ("GET", "/scm/organizations/{organizationId}"),
    "scm_list_repositories": ("GET", "/scm/organizations/{organizationId}/repositories"),
    "scm_get_repository": ("GET", R),
    "scm_list_branches": ("GET", R + "/branches"),
    "scm_get_branch": ("GET", R + "/branches/{branchId}"),
    "scm_list_commits": ("GET", R + "/commits"),
    "scm_get_commit": ("GET", R + "/commits/{commitId}"),
    "scm_list_pull_requests": ("GET", R + "/pullRequests"),
    "scm_get_pull_request": ("GET", R + "/pullRequests/{pullRequestId}"),
    "scm_create_pull_request": ("POST", R + "/pullRequests"),
    "scm_update_pull_request": ("PUT", R + "/pullRequests/{pullRequestId}"),
    # Ticketing
    "ticketing_list_connectors": SEARCH,
    "ticketing_list_integrations": SEARCH,
    "ticketing_list_organizations": ("GET", "/ticketing/organizations"),
    "ticketing_get_organization": ("GET", "/ticketing/organizations/{organizationId}"),
    "ticketing_list_collections": ("GET", "/ticketing/{organizationId}/collections"),
    "ticketing_get_collection": ("GET", "/ticketing/{organizationId}/collections/{collectionId}"),
    "ticketing_list_users": ("GET", "/ticketing/users"),
    "ticketing_get_user": ("GET", "/ticketing/users/{userId}"),
    "ticketing_list_tickets": ("GET", T),
    "ticketing_get_ticket": ("GET", T + "/{ticketId}"),
    "ticketing_create_ticket": ("POST", T),
    "ticketing_create_bulk_tickets": ("POST", T + "/bulk"),
    "ticketing_update_ticket": ("PUT", T + "/{ticketId}"),
    "ticketing_link_tickets": ("POST", T + "/link"),
    "ticketing_list_comments": ("GET", T + "/{ticketId}/comments"),
    "ticketing_get_comment": ("GET", T + "/{ticketId}/comments/{commentId}"),
    "ticketing_create_comment": ("POST", T + "/{ticketId}/comments"),
    "ticketing_list_attachments": ("GET", T + "/{ticketId}/attachments"),
    "ticketing_get_attachment": ("GET", T + "/{ticketId}/attachments/{attachmentId}"),
    "ticketing_create_attachment": ("POST", T + "/{ticketId}/attachments"),
    "ticketing_list_labels": ("GET", T + "/{ticketId}/labels"),
    "ticketing_create_label": ("POST", T + "/{ticketId}/labels"),
    # Observability
    "observability_list_connectors": SEARCH,
    "observability_list_integrations": SEARCH,
    "observability_list_logs": ("GET", "/logs"),
    "observability_get_log_details": ("GET", "/logs/{logId}"),
}

TOOL_COUNTS = {"edr": 6, "scm": 14, "ticketing": 22, "observability": 4}


def tools_of(service: str) -> list[str]:
    return [name for name in ROUTES if name.startswith(service + "_")]


def load_service(name: str):
    import importlib

    return importlib.import_module(f"{MODULES[name]}.tools").SERVICE


def all_services() -> dict:
    return {name: load_service(name) for name in SERVICES}
