"""The ticketing tools: declarations only; the core does the rest."""

from __future__ import annotations

from typing import Literal

from unizo_mcp_core.spec import (
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
)

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
ORGANIZATION = Fields(summary=("id", "name"), more=("description", "url", "changeLog"))
COLLECTION_FIELDS = Fields(
    summary=("id", "name", "key", "type", "status"),
    more=(
        "description", "owner", "accessLevel", "targetUrl", "members", "startDate", "endDate", "metadata",
        "statistics", "changeLog",
    ),
)  # fmt: skip
USER = Fields(
    summary=("id", "username", "firstName", "lastName", "status", "role"),
    more=("email", "lastLogin", "createdAt", "updatedAt", "avatar"),
)
TICKET_FIELDS = Fields(
    summary=(
        "id", "key", "name", "status", "priority", "assignees.username",
        "updated=changeLog.lastUpdatedDateTime",
    ),
    more=(
        "type", "description", "assignees", "reporter", "labels", "dueDate", "metadata", "targetUrl", "links",
        "changeLog",
    ),
)  # fmt: skip
COMMENT = Fields(
    summary=("id", "content", "author.username", "isInternal", "created=changeLog.createdDateTime"),
    more=("author", "mentions", "attachments", "ticket", "changeLog"),
)
ATTACHMENT = Fields(
    summary=("id", "fileName", "fileSize", "mimeType"),
    more=("description", "downloadUrl", "uploadedBy", "isPublic", "ticket", "changeLog"),
)
LABEL = Fields(summary=("id", "name", "color"), more=("description", "category", "ticket", "changeLog"))


COLLECTIONS = "/ticketing/{organization_id}/collections"
COLLECTION = COLLECTIONS + "/{collection_id}"
TICKETS = COLLECTION + "/tickets"
TICKET = TICKETS + "/{ticket_id}"

# Ids need no description: each comes from the list tool of the same name (ticketing_list_tickets...).
# The organization and collection may be left out when the integration has only one.
ORG_ID = path_param("organization_id", resolvable=True)
COLLECTION_ID = path_param("collection_id", resolvable=True)
TICKET_ID = path_param("ticket_id")
IDS = (ORG_ID, COLLECTION_ID)
TICKET_IDS = (ORG_ID, COLLECTION_ID, TICKET_ID)

TICKET_TYPES = ("bug", "feature", "task", "security", "enhancement")
PRIORITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "in_progress", "resolved", "closed")
LINK_TYPES = (
    "blocks",
    "is_blocked_by",
    "relates_to",
    "duplicates",
    "is_duplicated_by",
    "causes",
    "is_caused_by",
    "clones",
    "is_cloned_by",
    "parent",
    "child",
)


def _ticket_fields(*, create: bool, described: bool = True) -> tuple[Param, ...]:
    """The ticket body: name, description and type required on create; all optional on update.

    Names and enums that explain themselves carry no description. The items of
    ticketing_create_bulk_tickets have the same fields, described once by ticketing_create_ticket.
    """

    def say(text: str) -> str:
        return text if described else ""

    need = {"required": True} if create else {}
    status = () if create else (body_param("status", "string", "", enum=STATUSES),)
    return (
        body_param("name", "string", say("Title."), **need),
        body_param("description", "string", "", **need),
        body_param("type", "string", "", enum=TICKET_TYPES, **need),
        *status,
        body_param("priority", "string", "", enum=PRIORITIES),
        body_param("assignee_ids", "array", say("User ids."), items="string"),
        body_param("labels", "array", say("Label names."), items="string"),
        body_param("due_date", "string", say("YYYY-MM-DD.")),
        body_param("metadata", "object", say("Vendor fields (strings).")),
    )


def _write(
    name: str,
    description: str,
    method: Method,
    path: str,
    *params: Param,
    body_format: Literal["json", "multipart"] = "json",
) -> ToolSpec:
    return ToolSpec(name, description, method, path, Permission.WRITE, params, body_format=body_format)


SERVICE = ServiceSpec(
    name="ticketing",
    title="Ticketing",
    description=(
        "Ticketing through Unizo: organizations, collections (projects) and users of an issue tracker; "
        "tickets with their comments, attachments and labels, which can be created, updated and linked."
    ),
    package="unizo-mcp-ticketing",
    version=__version__,
    connectors=("jira", "github", "gitlab"),
    tools=(
        list_tool(
            "ticketing_list_organizations",
            "List organizations (sites, accounts).",
            "/ticketing/organizations",
            fields=ORGANIZATION,
        ),
        get_tool(
            "ticketing_get_organization",
            "Get one organization.",
            "/ticketing/organizations/{organization_id}",
            ORG_ID,
        ),
        list_tool(
            "ticketing_list_collections",
            "List an organization's collections (projects, boards).",
            COLLECTIONS,
            ORG_ID,
            fields=COLLECTION_FIELDS,
        ),
        get_tool(
            "ticketing_get_collection",
            "Get one collection with its ticket statistics.",
            COLLECTION,
            *IDS,
        ),
        list_tool(
            "ticketing_list_users", "List the users (possible assignees).", "/ticketing/users", fields=USER
        ),
        get_tool(
            "ticketing_get_user",
            "Get one user.",
            "/ticketing/users/{user_id}",
            path_param("user_id"),
        ),
        list_tool(
            "ticketing_list_tickets", "List the tickets of a collection.", TICKETS, *IDS, fields=TICKET_FIELDS
        ),
        get_tool("ticketing_get_ticket", "Get one ticket.", TICKET, *TICKET_IDS),
        _write(
            "ticketing_create_ticket",
            "Create a ticket in a collection.",
            "POST",
            TICKETS,
            *IDS,
            *_ticket_fields(create=True),
        ),
        _write(
            "ticketing_create_bulk_tickets",
            "Create up to 100 tickets in a collection at once.",
            "POST",
            TICKETS + "/bulk",
            *IDS,
            body_param(
                "tickets",
                "array",
                "Ticket fields as in ticketing_create_ticket.",
                required=True,
                items="object",
                item_params=_ticket_fields(create=True, described=False),
                min_items=1,
                max_items=100,
            ),
            body_param("notify", "boolean", "Notify assignees.", default=False),
        ),
        _write(
            "ticketing_update_ticket",
            "Update a ticket; only the fields given change.",
            "PUT",
            TICKET,
            *TICKET_IDS,
            *_ticket_fields(create=False),
        ),
        _write(
            "ticketing_link_tickets",
            "Link two tickets of a collection.",
            "POST",
            TICKETS + "/link",
            *IDS,
            body_param("ticket_id", "string", "", required=True, wire="sourceTicketId"),
            body_param("linked_ticket_id", "string", "", required=True, wire="targetTicketId"),
            body_param(
                "relationship_type",
                "string",
                "ticket_id <relationship_type> linked_ticket_id.",
                required=True,
                enum=LINK_TYPES,
                wire="linkType",
            ),
            body_param("description", "string", "Comment on the link.", wire="comment"),
        ),
        list_tool(
            "ticketing_list_comments",
            "List the comments of a ticket.",
            TICKET + "/comments",
            *TICKET_IDS,
            fields=COMMENT,
        ),
        get_tool(
            "ticketing_get_comment",
            "Get one comment of a ticket.",
            TICKET + "/comments/{comment_id}",
            *TICKET_IDS,
            path_param("comment_id"),
        ),
        _write(
            "ticketing_create_comment",
            "Add a comment to a ticket.",
            "POST",
            TICKET + "/comments",
            *TICKET_IDS,
            body_param("content", "string", "", required=True),
            body_param("author_id", "string", "User id."),
            body_param("is_internal", "boolean", "Team only.", default=False),
            body_param("mentions", "array", "User ids.", items="string"),
            body_param("attachment_ids", "array", "", items="string"),
        ),
        list_tool(
            "ticketing_list_attachments",
            "List a ticket's attachments (name, size, type, download URL).",
            TICKET + "/attachments",
            *TICKET_IDS,
            fields=ATTACHMENT,
        ),
        get_tool(
            "ticketing_get_attachment",
            "Get one attachment, with its download URL.",
            TICKET + "/attachments/{attachment_id}",
            *TICKET_IDS,
            path_param("attachment_id"),
        ),
        _write(
            "ticketing_create_attachment",
            "Attach a file to a ticket.",
            "POST",
            TICKET + "/attachments",
            *TICKET_IDS,
            Param(
                "file_data",
                "string",
                "Content, base64.",
                location="file",
                required=True,
                base64=True,
                wire="file",
            ),
            body_param("file_name", "string", "", required=True),
            body_param("mime_type", "string", "", required=True),
            body_param("description", "string", ""),
            body_param("file_size", "integer", "", size_of="file_data"),  # filled by the core
            body_format="multipart",
        ),
        list_tool(
            "ticketing_list_labels",
            "List the labels of a ticket.",
            TICKET + "/labels",
            *TICKET_IDS,
            fields=LABEL,
        ),
        _write(
            "ticketing_create_label",
            "Add a label to a ticket.",
            "POST",
            TICKET + "/labels",
            *TICKET_IDS,
            body_param("name", "string", "", required=True),
            body_param("description", "string", ""),
            body_param("color", "string", "", pattern="^#[0-9A-Fa-f]{6}$"),
            body_param("category", "string", ""),
        ),
    ),
)
