"""The identity tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import (
    Fields,
    Param,
    ServiceSpec,
    get_tool,
    list_tool,
    path_param,
    query_param,
)

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
USER = Fields(
    summary=("id", "fullName", "email", "status", "type", "mfaStatus", "lastLogin"),
    more=(
        "username", "uidAlt", "account", "firstName", "lastName", "domain", "credentialUid", "mfaStatusId",
        "hasMfa", "mfaMethods", "ldapPerson", "groups", "privileges", "org", "userStatus", "userStatusId",
        "location", "devices", "manager", "idp", "labels", "typeId", "createdAt", "updatedAt",
    ),
)  # fmt: skip
GROUP = Fields(
    summary=("id", "name", "type", "status", "memberCount"),
    more=(
        "uid", "displayName", "description", "domain", "org", "parentGroups", "childGroups", "owners",
        "privileges", "createdAt", "updatedAt",
    ),
)  # fmt: skip
MEMBER = Fields(
    summary=(
        "id", "type", "status", "email=user.email", "group=group.name", "app=servicePrincipal.name",
        "membershipType",
    ),
    more=("joinedAt", "expiresAt", "addedBy", "inheritedFrom", "privileges"),
)  # fmt: skip
SESSION = Fields(
    summary=("id", "status", "createdTimeDt", "application", "isMfa", "country=location.country"),
    more=(
        "uid", "uuid", "userId", "mfaMethod", "authenticationMethod", "isRemote", "isVpn", "createdTime",
        "expirationTime", "expirationTimeDt", "lastActivityTime", "expirationReason", "issuer",
        "credentialUid", "count", "device", "protocol", "sessionFlags",
    ),
)  # fmt: skip
AUDIT_LOG = Fields(
    summary=("id", "eventPublished", "eventType", "userEmail", "result=outcome.result"),
    more=("userId", "userType", "eventName", "severity", "client", "target"),
)

USER_ID = path_param("user_id")
GROUP_ID = path_param("group_id")

# Filters are declared before the paging params: tests/servers wants every list to end with them.
USER_FILTERS: tuple[Param, ...] = (
    query_param("status", "string", "", enum=("ACTIVE", "INACTIVE", "PENDING", "SUSPENDED", "TERMINATED")),
    query_param("mfa_status", "string", "", enum=("Enabled", "Disabled", "Pending", "Required")),
    query_param("user_type", "string", "", enum=("User", "Admin", "Service", "System", "Guest")),
    query_param("search", "string", "", min_length=3),
    query_param("domain", "string", ""),
    query_param("has_devices", "boolean", ""),
    query_param("last_login_days", "integer", "Signed in within N days.", minimum=1, maximum=36500),
)
GROUP_FILTERS: tuple[Param, ...] = (
    query_param(
        "group_type",
        "string",
        "",
        enum=("Security", "Distribution", "Universal", "Mail_Enabled", "Role_Based"),
    ),
    query_param("status", "string", "", enum=("ACTIVE", "INACTIVE", "PENDING", "ARCHIVED")),
    query_param("search", "string", "", min_length=3),
    query_param("has_members", "boolean", ""),
    query_param("parent_group_id", "string", ""),
)
MEMBER_FILTERS: tuple[Param, ...] = (
    query_param("member_type", "string", "", enum=("user", "group", "servicePrincipal")),
    query_param("status", "string", "", enum=("active", "pending", "suspended", "expired")),
    query_param("search", "string", ""),
)
SESSION_FILTERS: tuple[Param, ...] = (
    query_param("status", "string", "", enum=("active", "expired", "revoked", "all"), default="active"),
    query_param("from_date", "string", "ISO 8601.", wire="from"),
    query_param("to_date", "string", "ISO 8601.", wire="to"),
)
AUDIT_LOG_FILTERS: tuple[Param, ...] = (
    query_param("since", "string", "ISO 8601."),
    query_param("log_type", "string", "An eventType.", wire="type"),
)


def _expand(choices: str) -> Param:
    return query_param("expand", "array", f"Any of {choices}, all.", items="string")


SERVICE = ServiceSpec(
    name="identity",
    title="Identity",
    description=(
        "Directory data through Unizo: users (status, MFA, devices, last sign-in), groups and their members, "
        "users' sign-in sessions and the directory's audit log."
    ),
    package="unizo-mcp-identity",
    version=__version__,
    connectors=("okta", "azure_ad"),
    tools=(
        list_tool(
            "identity_list_users",
            "List directory users.",
            "/identity/users",
            *USER_FILTERS,
            fields=USER,
        ),
        get_tool(
            "identity_get_user_details",
            "Get one user; expand gives related records in full.",
            "/identity/users/{user_id}",
            USER_ID,
            _expand("groups, devices, manager, sessions"),
        ),
        list_tool(
            "identity_list_groups",
            "List groups (type, status, member count).",
            "/identity/groups",
            *GROUP_FILTERS,
            fields=GROUP,
        ),
        get_tool(
            "identity_get_group_details",
            "Get one group; expand gives related records in full.",
            "/identity/groups/{group_id}",
            GROUP_ID,
            _expand("members, owners, parentGroups, childGroups"),
        ),
        list_tool(
            "identity_list_group_members",
            "List a group's members (users, groups, apps).",
            "/identity/groups/{group_id}/members",
            GROUP_ID,
            *MEMBER_FILTERS,
            fields=MEMBER,
        ),
        get_tool(
            "identity_get_group_member_details",
            "Get one member of a group.",
            "/identity/groups/{group_id}/members/{member_id}",
            GROUP_ID,
            path_param("member_id"),
        ),
        list_tool(
            "identity_list_user_sessions",
            "List a user's sign-in sessions, newest first.",
            "/identity/users/{user_id}/sessions",
            USER_ID,
            *SESSION_FILTERS,
            fields=SESSION,
        ),
        get_tool(
            "identity_get_session_details",
            "Get one session: authentication, device, location.",
            "/identity/users/{user_id}/sessions/{session_id}",
            USER_ID,
            path_param("session_id"),
        ),
        list_tool(
            "identity_list_audit_logs",
            "List the directory's audit log events, newest first.",
            "/identity/logs",
            *AUDIT_LOG_FILTERS,
            fields=AUDIT_LOG,
        ),
        get_tool(
            "identity_get_audit_log_details",
            "Get one audit log event: outcome, client, target.",
            "/identity/logs/{audit_log_id}",
            path_param("audit_log_id"),
        ),
    ),
)
