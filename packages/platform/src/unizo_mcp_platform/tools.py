"""The platform administration tools: declarations only; the core does the rest.

An account-level service: no integrations of its own (no discovery tools) and no `integration_id` argument
(`integration=False`); the integration and watch tools name an integration in their path instead. Paths,
methods and bodies follow Unizo's own MCP server (its platform tools, against the integration manager).
"""

from __future__ import annotations

from unizo_mcp_core.spec import (
    PAGING,
    Fields,
    Method,
    Param,
    Permission,
    ServiceSpec,
    ToolSpec,
    body_param,
    get_tool,
    list_tool,
    path_param,
    query_param,
)

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
CONNECTOR = Fields(
    summary=("id", "name", "type", "displayName"),
    more=(
        "state", "versions", "accessPointsSummary", "serviceProfile", "organization", "attributes", "tags",
        "integrationCount", "changeLog",
    ),
)  # fmt: skip
WATCH = Fields(
    summary=("id", "name", "type", "resource.type", "state"),
    more=("description", "resource", "integration", "changeLog"),
)
WEBHOOK = Fields(
    summary=("id", "name", "active", "events"), more=("url", "description", "organization", "createdAt")
)

WATCHES = "/integrations/{integration}/watches"
WATCH_PATH = WATCHES + "/{watch_id}"
WEBHOOKS = "/webhooks"
WEBHOOK_PATH = WEBHOOKS + "/{webhook_id}"

# Ids need no description: each comes from the list tool of the same name. The integration's is called
# `integration`, not `integration_id`: the core takes an argument named integration_id for the
# integrationId header of category tools, whatever its declared location, so a path id of that name would
# never reach the path.
INTEGRATION = path_param("integration", "An integration id, from platform_search_integrations.")
WATCH_ID = path_param("watch_id")
WEBHOOK_ID = path_param("webhook_id")

WATCH_TYPES = ("HOOK", "WEBHOOK", "EVENT")
RESOURCE_TYPES = (
    "REPOSITORY", "PROJECT", "ORGANIZATION", "USER", "TEAM", "ISSUE", "PULL_REQUEST", "BRANCH", "TAG",
    "COMMIT", "RELEASE",
)  # fmt: skip
ACTIONS = ("test", "ping", "redeliver")

# A JSON-Patch list (RFC 6902) is the whole PATCH body.
OPERATIONS = Param(
    "operations",
    "array",
    'JSON-Patch, e.g. [{"op": "replace", "path": "/name", "value": "x"}].',
    location="body",
    required=True,
    items="object",
    min_items=1,
    as_body=True,
)


def _write(name: str, description: str, method: Method, path: str, *params: Param) -> ToolSpec:
    permission = Permission.DELETE if method == "DELETE" else Permission.WRITE
    return ToolSpec(name, description, method, path, permission, params, integration=False)


SERVICE = ServiceSpec(
    name="platform",
    title="Platform administration",
    description=(
        "Unizo account administration: the connectors set up across categories, the integrations (found by "
        "category and connector), each integration's watches (event subscriptions) and the account's "
        "webhooks, which can be created, changed with JSON-Patch, tested and deleted. No integration_id: "
        "these tools act on the whole account."
    ),
    package="unizo-mcp-platform",
    version=__version__,
    connectors=("github", "jira", "crowdstrike", "google_drive"),
    discovery=False,
    tools=(
        list_tool(
            "platform_list_services",
            "List the connectors set up in the account, across categories.",
            "/services",
            fields=CONNECTOR,
            integration=False,
        ),
        ToolSpec(
            "platform_search_integrations",
            "Find integrations of any category, by category and connector.",
            "POST",
            "/integrations/search",
            Permission.READ,
            (
                Param("category", "string", "A connector's type, as platform_list_services shows it."),
                Param("connector", "string", "As platform_list_services names it."),
                *PAGING[:2],  # offset and limit: the search pages but does not sort
            ),
            handler="search",
        ),
        get_tool(
            "platform_get_integration",
            "Get one integration.",
            "/integrations/{integration}",
            INTEGRATION,
            integration=False,
        ),
        list_tool(
            "platform_list_watches",
            "List an integration's watches (event subscriptions).",
            WATCHES,
            INTEGRATION,
            fields=WATCH,
            integration=False,
        ),
        get_tool(
            "platform_get_watch",
            "Get one watch of an integration.",
            WATCH_PATH,
            INTEGRATION,
            WATCH_ID,
            integration=False,
        ),
        _write(
            "platform_create_watch",
            "Subscribe a URL to an integration's events on one resource.",
            "POST",
            WATCHES,
            INTEGRATION,
            body_param("name", "string", "", required=True),
            body_param("type", "string", "", required=True, enum=WATCH_TYPES),
            body_param(
                "resource_type", "string", "", required=True, enum=RESOURCE_TYPES, wire="resource.type"
            ),
            body_param("repository_id", "string", "", wire="resource.repository.id"),
            body_param("organization_id", "string", "", wire="resource.organization.id"),
            body_param("url", "string", "Receiver URL.", wire="resource.config.url"),
            body_param(
                "secret",
                "string",
                "Signing secret; never shown again.",
                wire="resource.config.secret",
                secret=True,
            ),
            body_param("description", "string", ""),
        ),
        _write(
            "platform_update_watch",
            "Change a watch with JSON-Patch operations; paths not named keep their values.",
            "PATCH",
            WATCH_PATH,
            INTEGRATION,
            WATCH_ID,
            OPERATIONS,
        ),
        _write("platform_delete_watch", "Delete a watch.", "DELETE", WATCH_PATH, INTEGRATION, WATCH_ID),
        list_tool(
            "platform_list_webhooks",
            "List the account's webhooks.",
            WEBHOOKS,
            query_param("event_type", "string", "Only those receiving this event.", wire="webhookEventType"),
            fields=WEBHOOK,
            integration=False,
        ),
        get_tool("platform_get_webhook", "Get one webhook.", WEBHOOK_PATH, WEBHOOK_ID, integration=False),
        _write(
            "platform_create_webhook",
            "Register a webhook for events of every integration.",
            "POST",
            WEBHOOKS,
            body_param("name", "string", "", required=True),
            body_param("url", "string", "", required=True),
            body_param("events", "array", "e.g. ticket:created, ticket:*, *.", required=True, items="string"),
            body_param("secret", "string", "Signing secret; never shown again.", required=True, secret=True),
            body_param("active", "boolean", "", default=True),
            body_param("description", "string", ""),
        ),
        _write(
            "platform_update_webhook",
            "Change a webhook with JSON-Patch operations; paths not named keep their values.",
            "PATCH",
            WEBHOOK_PATH,
            WEBHOOK_ID,
            OPERATIONS,
        ),
        _write("platform_delete_webhook", "Delete a webhook.", "DELETE", WEBHOOK_PATH, WEBHOOK_ID),
        _write(
            "platform_create_webhook_action",
            "Ping or test a webhook, or redeliver one of its deliveries.",
            "POST",
            WEBHOOK_PATH + "/actions",
            WEBHOOK_ID,
            body_param("action", "string", "", required=True, enum=ACTIONS),
            body_param("delivery_id", "string", "To redeliver.", wire="delivery_id"),
        ),
    ),
)
