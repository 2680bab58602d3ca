"""The ticketing tools: declarations only; the core does the rest."""

from __future__ import annotations

from typing import Literal

from unizo_mcp_core.spec import (
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

COLLECTIONS = "/ticketing/{organization_id}/collections"
COLLECTION = COLLECTIONS + "/{collection_id}"
TICKETS = COLLECTION + "/tickets"
TICKET = TICKETS + "/{ticket_id}"

ORG_ID = path_param("organization_id", "From ticketing_list_organizations.")
COLLECTION_ID = path_param("collection_id", "From ticketing_list_collections.")
TICKET_ID = path_param("ticket_id", "From ticketing_list_tickets.")
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


def _ticket_fields(*, create: bool) -> tuple[Param, ...]:
    """The ticket body: name, description and type required on create; all optional on update."""
    need = {"required": True} if create else {}
    status = () if create else (body_param("status", "string", "Ticket status.", enum=STATUSES),)
    return (
        body_param("name", "string", "Ticket title.", **need),
        body_param("description", "string", "Ticket description.", **need),
        body_param("type", "string", "Ticket type.", enum=TICKET_TYPES, **need),
        *status,
        body_param("priority", "string", "Ticket priority.", enum=PRIORITIES),
        body_param("assignee_ids", "array", "User ids from ticketing_list_users.", items="string"),
        body_param("labels", "array", "Label names.", items="string"),
        body_param("due_date", "string", "Due date, ISO 8601 (YYYY-MM-DD)."),
        body_param("metadata", "object", "Extra string fields for the vendor."),
    )


def _write(
    name: str,
    description: str,
    method: Method,
    path: str,
    *params: Param,
    title: str,
    body_format: Literal["json", "multipart"] = "json",
) -> ToolSpec:
    return ToolSpec(
        name, description, method, path, Permission.WRITE, params, title=title, body_format=body_format
    )


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
            "List the organizations (sites, accounts) of the integration.",
            "/ticketing/organizations",
            title="List organizations",
        ),
        get_tool(
            "ticketing_get_organization",
            "Get one organization.",
            "/ticketing/organizations/{organization_id}",
            ORG_ID,
            title="Get organization",
        ),
        list_tool(
            "ticketing_list_collections",
            "List the collections (projects, boards) of an organization.",
            COLLECTIONS,
            ORG_ID,
            title="List collections",
        ),
        get_tool(
            "ticketing_get_collection",
            "Get one collection with its ticket statistics.",
            COLLECTION,
            *IDS,
            title="Get collection",
        ),
        list_tool(
            "ticketing_list_users",
            "List the users (possible assignees).",
            "/ticketing/users",
            title="List users",
        ),
        get_tool(
            "ticketing_get_user",
            "Get one user.",
            "/ticketing/users/{user_id}",
            path_param("user_id", "From ticketing_list_users."),
            title="Get user",
        ),
        list_tool(
            "ticketing_list_tickets", "List the tickets of a collection.", TICKETS, *IDS, title="List tickets"
        ),
        get_tool("ticketing_get_ticket", "Get one ticket.", TICKET, *TICKET_IDS, title="Get ticket"),
        _write(
            "ticketing_create_ticket",
            "Create a ticket in a collection.",
            "POST",
            TICKETS,
            *IDS,
            *_ticket_fields(create=True),
            title="Create ticket",
        ),
        _write(
            "ticketing_create_bulk_tickets",
            "Create up to 100 tickets in a collection in one call.",
            "POST",
            TICKETS + "/bulk",
            *IDS,
            body_param(
                "tickets",
                "array",
                "Tickets, each {name, description, type, priority?, assigneeIds?, labels?, dueDate?}.",
                required=True,
                items="object",
                min_items=1,
                max_items=100,
            ),
            body_param("notify", "boolean", "Notify assignees.", default=False),
            title="Create tickets in bulk",
        ),
        _write(
            "ticketing_update_ticket",
            "Update a ticket's fields or status; only the fields given change.",
            "PUT",
            TICKET,
            *TICKET_IDS,
            *_ticket_fields(create=False),
            title="Update ticket",
        ),
        _write(
            "ticketing_link_tickets",
            "Link two tickets of a collection (blocks, relates_to, duplicates, ...).",
            "POST",
            TICKETS + "/link",
            *IDS,
            body_param("ticket_id", "string", "Source ticket id.", required=True, wire="sourceTicketId"),
            body_param(
                "linked_ticket_id",
                "string",
                "Target ticket id.",
                required=True,
                wire="targetTicketId",
            ),
            body_param(
                "relationship_type",
                "string",
                "How the source relates to the target.",
                required=True,
                enum=LINK_TYPES,
                wire="linkType",
            ),
            body_param("description", "string", "Comment on the link.", wire="comment"),
            title="Link tickets",
        ),
        list_tool(
            "ticketing_list_comments",
            "List the comments of a ticket.",
            TICKET + "/comments",
            *TICKET_IDS,
            title="List comments",
        ),
        get_tool(
            "ticketing_get_comment",
            "Get one comment of a ticket.",
            TICKET + "/comments/{comment_id}",
            *TICKET_IDS,
            path_param("comment_id", "From ticketing_list_comments."),
            title="Get comment",
        ),
        _write(
            "ticketing_create_comment",
            "Add a comment to a ticket.",
            "POST",
            TICKET + "/comments",
            *TICKET_IDS,
            body_param("content", "string", "Comment text.", required=True),
            body_param("author_id", "string", "Author's user id."),
            body_param("is_internal", "boolean", "Visible to the team only.", default=False),
            body_param("mentions", "array", "User ids to mention.", items="string"),
            body_param("attachment_ids", "array", "Attachment ids to reference.", items="string"),
            title="Create comment",
        ),
        list_tool(
            "ticketing_list_attachments",
            "List the attachments of a ticket (name, size, type, download URL).",
            TICKET + "/attachments",
            *TICKET_IDS,
            title="List attachments",
        ),
        get_tool(
            "ticketing_get_attachment",
            "Get one attachment's details and download URL.",
            TICKET + "/attachments/{attachment_id}",
            *TICKET_IDS,
            path_param("attachment_id", "From ticketing_list_attachments."),
            title="Get attachment",
        ),
        _write(
            "ticketing_create_attachment",
            "Attach a file to a ticket; file_data is the content as base64.",
            "POST",
            TICKET + "/attachments",
            *TICKET_IDS,
            Param(
                "file_data",
                "string",
                "File content, base64-encoded.",
                location="file",
                required=True,
                base64=True,
                wire="file",
            ),
            body_param(
                "file_name",
                "string",
                "File name, e.g. report.txt.",
                required=True,
            ),
            body_param(
                "mime_type",
                "string",
                "MIME type, e.g. text/plain.",
                required=True,
            ),
            body_param("description", "string", "What the file is."),
            title="Create attachment",
            body_format="multipart",
        ),
        list_tool(
            "ticketing_list_labels",
            "List the labels of a ticket.",
            TICKET + "/labels",
            *TICKET_IDS,
            title="List labels",
        ),
        _write(
            "ticketing_create_label",
            "Add a label to a ticket.",
            "POST",
            TICKET + "/labels",
            *TICKET_IDS,
            body_param("name", "string", "Label name.", required=True),
            body_param("description", "string", "Label description."),
            body_param("color", "string", "Color as #RRGGBB.", pattern="^#[0-9A-Fa-f]{6}$"),
            body_param("category", "string", "Label category."),
            title="Create label",
        ),
    ),
)
