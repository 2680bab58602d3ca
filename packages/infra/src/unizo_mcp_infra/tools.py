"""The public cloud infrastructure tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import Fields, ServiceSpec, get_tool, list_tool, path_param, query_param

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
ACCOUNT = Fields(
    summary=("id", "name", "type"), more=("login", "url", "avatarUrl", "description", "changeLog")
)
COLLECTION = Fields(
    summary=("id", "name", "type", "account.name"),
    more=("login", "url", "avatarUrl", "description", "account", "changeLog"),
)
USER = Fields(
    summary=("id", "name", "type", "status", "mfaEnabled"),
    more=("displayName", "email", "lastLogin", "roles", "nativeId", "collection", "changeLog"),
)
RESOURCE = Fields(
    summary=("id", "name", "type", "computeType", "state", "parent=parentResource.id"),
    more=(
        "region", "nativeType", "nativeId", "parentResource", "computeMetadata", "tags", "collection",
        "changeLog",
    ),
)  # fmt: skip
POLICY = Fields(
    summary=("id", "name", "type", "attachmentCount"),
    more=("description", "statements", "nativeId", "collection", "changeLog"),
)
ROLE = Fields(
    summary=("id", "name", "type", "lastUsed"),
    more=("description", "policies", "trustedEntities", "nativeId", "collection", "changeLog"),
)

COLLECTION_PATH = "/infra/collections/{collection_id}"

# Ids need no description: each comes from the list tool of the same name (infra_list_users...).
# The collection may be left out when the integration has only one.
COLLECTION_ID = path_param("collection_id", resolvable=True)
PARENT_RESOURCE_ID = query_param("parent_resource_id", "string", "")

SERVICE = ServiceSpec(
    name="infra",
    title="Public cloud infrastructure",
    description=(
        "Public cloud infrastructure through Unizo: the accounts and collections (AWS accounts, Azure "
        "subscriptions, GCP projects) of a cloud provider, and in each collection its IAM users, policies "
        "and roles and its resources (networks, clusters, compute) with their state."
    ),
    package="unizo-mcp-infra",
    version=__version__,
    connectors=("aws", "azure", "gcp"),
    tools=(
        list_tool(
            "infra_list_accounts",
            "List the cloud accounts (organizations, tenants, billing accounts).",
            "/infra/accounts",
            fields=ACCOUNT,
        ),
        get_tool(
            "infra_get_account_details",
            "Get one account.",
            "/infra/accounts/{account_id}",
            path_param("account_id"),
        ),
        list_tool(
            "infra_list_collections",
            "List the collections (AWS accounts, Azure subscriptions, GCP projects).",
            "/infra/collections",
            fields=COLLECTION,
        ),
        get_tool("infra_get_collection_details", "Get one collection.", COLLECTION_PATH, COLLECTION_ID),
        list_tool(
            "infra_list_users",
            "List a collection's IAM users and service accounts (status, MFA).",
            COLLECTION_PATH + "/users",
            COLLECTION_ID,
            fields=USER,
        ),
        get_tool(
            "infra_get_user_details",
            "Get one user: email, last login, roles.",
            COLLECTION_PATH + "/users/{user_id}",
            COLLECTION_ID,
            path_param("user_id"),
        ),
        list_tool(
            "infra_list_resources",
            "List a collection's resources (networks, clusters, compute) and their state.",
            COLLECTION_PATH + "/resources",
            COLLECTION_ID,
            # before the paging parameters: a list tool's parameters end with offset, limit, sort
            query_param("parent_resource_id", "string", "Only the children of this resource."),
            fields=RESOURCE,
        ),
        get_tool(
            "infra_get_resource_details",
            "Get one resource: region, parent, compute metadata, tags.",
            COLLECTION_PATH + "/resources/{resource_id}",
            COLLECTION_ID,
            path_param("resource_id"),
            PARENT_RESOURCE_ID,
        ),
        list_tool(
            "infra_list_policies",
            "List a collection's policies (managed or custom, attachments).",
            COLLECTION_PATH + "/policies",
            COLLECTION_ID,
            fields=POLICY,
        ),
        get_tool(
            "infra_get_policy_details",
            "Get one policy with its statements.",
            COLLECTION_PATH + "/policies/{policy_id}",
            COLLECTION_ID,
            path_param("policy_id"),
        ),
        list_tool(
            "infra_list_roles",
            "List a collection's roles (built-in or custom, last used).",
            COLLECTION_PATH + "/roles",
            COLLECTION_ID,
            fields=ROLE,
        ),
        get_tool(
            "infra_get_role_details",
            "Get one role: policies and trusted entities.",
            COLLECTION_PATH + "/roles/{role_id}",
            COLLECTION_ID,
            path_param("role_id"),
        ),
    ),
)
