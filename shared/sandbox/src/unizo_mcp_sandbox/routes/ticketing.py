"""Ticketing: organizations, collections, users (read); tickets, comments, attachments, labels, links."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from unizo_mcp_sandbox.context import sandbox_of
from unizo_mcp_sandbox.data.common import Record, Scope
from unizo_mcp_sandbox.data.ticketing import (
    ATTACHMENT_SORT_FIELDS,
    COLLECTION_SORT_FIELDS,
    COMMENT_SORT_FIELDS,
    LABEL_SORT_FIELDS,
    ORGANIZATION_SORT_FIELDS,
    PRIORITIES,
    TICKET_SORT_FIELDS,
    TICKET_STATUSES,
    TICKET_TYPES,
    USER_SORT_FIELDS,
    user_reference,
)
from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.routes import attachments
from unizo_mcp_sandbox.routes.common import actor, find, integration_for, list_response, record_response
from unizo_mcp_sandbox.sandbox import Sandbox
from unizo_mcp_sandbox.timeutil import iso
from unizo_mcp_sandbox.validation import (
    Field,
    boolean,
    color,
    date_or_datetime,
    json_body,
    object_list,
    one_of,
    text,
    text_list,
    text_map,
    validate,
)

TICKET_FIELDS = (
    Field("name", text(1, 255), required=True),
    Field("description", text(0, 65_536), required=True),
    Field("type", one_of(*TICKET_TYPES), required=True),
    Field("assigneeIds", text_list(20)),
    Field("labels", text_list(20, text(1, 255))),
    Field("priority", one_of(*PRIORITIES)),
    Field("dueDate", date_or_datetime()),
    Field("metadata", text_map()),
)
TICKET_UPDATE_FIELDS = (
    *(Field(field.name, field.check) for field in TICKET_FIELDS),
    Field("status", one_of(*TICKET_STATUSES)),
)
BULK_FIELDS = (
    Field("tickets", object_list(TICKET_FIELDS, 1, 100), required=True),
    Field("notify", boolean()),
)
LINK_FIELDS = (
    Field("sourceTicketId", text(1, 64), required=True),
    Field("targetTicketId", text(1, 64), required=True),
    Field("linkType", text(1, 64), required=True),
    Field("comment", text(0, 10_000)),
)
COMMENT_FIELDS = (
    Field("content", text(1, 65_536), required=True),
    Field("authorId", text(1, 64)),
    Field("isInternal", boolean()),
    Field("mentions", text_list(50)),
    Field("attachmentIds", text_list(20)),
)
LABEL_FIELDS = (
    Field("name", text(1, 255), required=True),
    Field("description", text(0, 1000)),
    Field("color", color()),
    Field("category", text(1, 100)),
)

T = "/api/v1/ticketing/{organizationId}/collections/{collectionId}/tickets"


def _now() -> str:
    return iso(time.time())


def _organization_scope(request: web.Request) -> tuple[Record, Scope]:
    integration = integration_for(request, "ticketing")
    organization_id = request.match_info["organizationId"]
    find(
        sandbox_of(request), "ticketing_organizations", (integration["id"],), organization_id, "organization"
    )
    return integration, (integration["id"], organization_id)


def _collection_scope(request: web.Request) -> tuple[Record, Record, Scope]:
    integration, scope = _organization_scope(request)
    collection_id = request.match_info["collectionId"]
    collection = find(sandbox_of(request), "collections", scope, collection_id, "collection")
    return integration, collection, (*scope, collection_id)


def _ticket_scope(request: web.Request) -> tuple[Record, Record, Scope]:
    integration, _, scope = _collection_scope(request)
    ticket_id = request.match_info["ticketId"]
    ticket = find(sandbox_of(request), "tickets", scope, ticket_id, "ticket")
    return integration, ticket, (*scope, ticket_id)


def _users_by_id(sandbox: Sandbox, integration: Record) -> dict[str, Record]:
    return {user["id"]: user for user in sandbox.records.items("users", (integration["id"],))}


def _resolve_users(users: dict[str, Record], ids: Sequence[str], property: str) -> list[Record]:
    for index, user_id in enumerate(ids):
        if user_id not in users:
            raise invalid(f"{property}[{index}]", f"user '{user_id}' does not exist")
    return [user_reference(users[user_id]) for user_id in ids]


def _with_statistics(sandbox: Sandbox, integration: Record, collection: Record) -> Record:
    scope = (integration["id"], collection["organization"]["id"], collection["id"])
    tickets = sandbox.records.items("tickets", scope)
    done = sum(1 for ticket in tickets if ticket["status"] in ("resolved", "closed"))
    statistics = {
        "totalTickets": len(tickets),
        "openTickets": len(tickets) - done,
        "completedTickets": done,
        "progress": round(100 * done / len(tickets)) if tickets else 0,
    }
    return {**collection, "statistics": statistics}


# ---- organizations, collections, users ------------------------------------------------------------------


async def list_organizations(request: web.Request) -> web.Response:
    integration = integration_for(request, "ticketing")
    records = sandbox_of(request).records.items("ticketing_organizations", (integration["id"],))
    return list_response(request, records, ORGANIZATION_SORT_FIELDS)


async def get_organization(request: web.Request) -> web.Response:
    integration = integration_for(request, "ticketing")
    organization_id = request.match_info["organizationId"]
    return record_response(
        find(
            sandbox_of(request),
            "ticketing_organizations",
            (integration["id"],),
            organization_id,
            "organization",
        )
    )


async def list_collections(request: web.Request) -> web.Response:
    integration, scope = _organization_scope(request)
    sandbox = sandbox_of(request)
    collections = [
        _with_statistics(sandbox, integration, item) for item in sandbox.records.items("collections", scope)
    ]
    return list_response(request, collections, COLLECTION_SORT_FIELDS)


async def get_collection(request: web.Request) -> web.Response:
    integration, collection, _ = _collection_scope(request)
    return record_response(_with_statistics(sandbox_of(request), integration, collection))


async def list_users(request: web.Request) -> web.Response:
    integration = integration_for(request, "ticketing")
    return list_response(
        request, sandbox_of(request).records.items("users", (integration["id"],)), USER_SORT_FIELDS
    )


async def get_user(request: web.Request) -> web.Response:
    integration = integration_for(request, "ticketing")
    user_id = request.match_info["userId"]
    return record_response(find(sandbox_of(request), "users", (integration["id"],), user_id, "user"))


# ---- tickets ----------------------------------------------------------------------------------------------


def _next_ticket_identity(sandbox: Sandbox, integration: Record, collection: Record) -> tuple[str, str]:
    """Ids count up per integration (Jira issue ids are per site); keys count up per collection."""
    highest_id = 0
    for organization in sandbox.records.items("ticketing_organizations", (integration["id"],)):
        org_scope = (integration["id"], organization["id"])
        for other in sandbox.records.items("collections", org_scope):
            for ticket in sandbox.records.items("tickets", (*org_scope, other["id"])):
                highest_id = max(highest_id, int(ticket["id"]))
    scope = (integration["id"], collection["organization"]["id"], collection["id"])
    tickets = sandbox.records.items("tickets", scope)
    number = max((int(ticket["key"].rsplit("-", 1)[-1].lstrip("#")) for ticket in tickets), default=0) + 1
    key = (
        f"#{number}" if integration["serviceProfile"]["name"] == "github" else f"{collection['key']}-{number}"
    )
    return str(highest_id + 1), key


def _ticket_url(collection: Record, integration: Record, key: str) -> str:
    if integration["serviceProfile"]["name"] == "github":
        return f"{collection['targetUrl']}/issues/{key.lstrip('#')}"
    return f"{collection['targetUrl'].rsplit('/browse', 1)[0]}/browse/{key}"


def _new_label(name: str, ticket: Record, author: Record, **fields: Any) -> Record:
    now = _now()
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "description": fields.get("description", ""),
        "color": fields.get("color", "#ededed"),
        "category": fields.get("category"),
        "ticket": {"id": ticket["id"], "key": ticket["key"]},
        "changeLog": {"createdDateTime": now, "lastUpdatedDateTime": now, "createdBy": author},
    }


def _sync_labels(sandbox: Sandbox, scope: Scope, ticket: Record, names: list[str], author: Record) -> None:
    """Make the ticket's label records match its `labels` names (after create or update)."""
    existing = {label["name"]: label for label in sandbox.records.items("labels", scope)}
    for name, label in existing.items():
        if name not in names:
            sandbox.records.remove("labels", scope, label["id"])
    for name in names:
        if name not in existing:
            sandbox.records.insert("labels", scope, _new_label(name, ticket, author))


def _create_ticket(
    request: web.Request, integration: Record, collection: Record, scope: Scope, fields: dict[str, Any]
) -> Record:
    sandbox = sandbox_of(request)
    assignees = _resolve_users(
        _users_by_id(sandbox, integration), fields.get("assigneeIds", []), "assigneeIds"
    )
    ticket_id, key = _next_ticket_identity(sandbox, integration, collection)
    author = actor(request)
    now = _now()
    labels = list(dict.fromkeys(fields.get("labels", [])))
    ticket = {
        "id": ticket_id,
        "key": key,
        "type": fields["type"],
        "name": fields["name"],
        "description": fields["description"],
        "status": "open",
        "priority": fields.get("priority", "medium"),
        "assignees": assignees,
        "reporter": author,
        "labels": labels,
        "dueDate": fields.get("dueDate"),
        "metadata": fields.get("metadata", {}),
        "links": [],
        "targetUrl": _ticket_url(collection, integration, key),
        "collection": {"id": collection["id"], "key": collection["key"]},
        "organization": {"id": collection["organization"]["id"]},
        "changeLog": {
            "createdDateTime": now,
            "lastUpdatedDateTime": now,
            "createdBy": author,
            "lastUpdatedBy": author,
        },
    }
    sandbox.records.insert("tickets", scope, ticket)
    _sync_labels(sandbox, (*scope, ticket_id), ticket, labels, author)
    sandbox.changed()
    sandbox.emit("ticket:created", integration, ticket)
    return ticket


async def list_tickets(request: web.Request) -> web.Response:
    _, _, scope = _collection_scope(request)
    return list_response(request, sandbox_of(request).records.items("tickets", scope), TICKET_SORT_FIELDS)


async def create_ticket(request: web.Request) -> web.Response:
    integration, collection, scope = _collection_scope(request)
    fields = validate(await json_body(request), TICKET_FIELDS)
    return record_response(_create_ticket(request, integration, collection, scope, fields), status=201)


async def bulk_create_tickets(request: web.Request) -> web.Response:
    integration, collection, scope = _collection_scope(request)
    body = validate(await json_body(request), BULK_FIELDS)
    users = _users_by_id(sandbox_of(request), integration)
    for index, fields in enumerate(body["tickets"]):  # all or nothing: check every ticket before creating any
        _resolve_users(users, fields.get("assigneeIds", []), f"tickets[{index}].assigneeIds")
    created = [_create_ticket(request, integration, collection, scope, fields) for fields in body["tickets"]]
    return record_response({"data": created, "notify": body.get("notify", False)}, status=201)


async def get_ticket(request: web.Request) -> web.Response:
    _, ticket, _ = _ticket_scope(request)
    return record_response(ticket)


def _save_ticket(
    sandbox: Any, scope: Any, before: dict[str, Any], after: dict[str, Any], *, at: str, by: Any = None
) -> None:
    """Store `after` in place of `before`, stamping its changeLog (and who changed it, when known)."""
    stamp = {"lastUpdatedDateTime": at, **({"lastUpdatedBy": by} if by is not None else {})}
    after["changeLog"] = {**before["changeLog"], **stamp}
    sandbox.records.replace("tickets", scope, after)


async def update_ticket(request: web.Request) -> web.Response:
    integration, ticket, ticket_scope = _ticket_scope(request)
    fields = validate(await json_body(request), TICKET_UPDATE_FIELDS)
    sandbox = sandbox_of(request)
    author = actor(request)
    updated = {**ticket, **{name: value for name, value in fields.items() if name != "assigneeIds"}}
    if "assigneeIds" in fields:
        updated["assignees"] = _resolve_users(
            _users_by_id(sandbox, integration), fields["assigneeIds"], "assigneeIds"
        )
    if "labels" in fields:
        updated["labels"] = list(dict.fromkeys(fields["labels"]))
        _sync_labels(sandbox, ticket_scope, updated, updated["labels"], author)
    _save_ticket(sandbox, ticket_scope[:-1], ticket, updated, at=_now(), by=author)
    sandbox.changed()
    sandbox.emit("ticket:updated", integration, updated)
    return record_response(updated)


async def link_tickets(request: web.Request) -> web.Response:
    integration, _, scope = _collection_scope(request)
    fields = validate(await json_body(request), LINK_FIELDS)
    sandbox = sandbox_of(request)
    source = find(sandbox, "tickets", scope, fields["sourceTicketId"], "ticket")
    target = find(sandbox, "tickets", scope, fields["targetTicketId"], "ticket")
    if source["id"] == target["id"]:
        raise invalid("targetTicketId", "a ticket cannot be linked to itself")
    now = _now()
    link = {
        "id": str(uuid.uuid4()),
        "linkType": fields["linkType"],
        "source": {"id": source["id"], "key": source["key"]},
        "target": {"id": target["id"], "key": target["key"]},
        "comment": fields.get("comment"),
        "createdDateTime": now,
    }
    for ticket, other, direction in ((source, target, "outward"), (target, source, "inward")):
        entry = {"id": link["id"], "linkType": link["linkType"], "direction": direction,
                 "ticket": {"id": other["id"], "key": other["key"]}, "createdDateTime": now}  # fmt: skip
        _save_ticket(sandbox, scope, ticket, {**ticket, "links": [*ticket.get("links", []), entry]}, at=now)
    sandbox.changed()
    sandbox.emit("link:created", integration, link)
    return record_response(link, status=201)


# ---- comments, attachments, labels ----------------------------------------------------------------------


async def list_comments(request: web.Request) -> web.Response:
    _, _, scope = _ticket_scope(request)
    return list_response(request, sandbox_of(request).records.items("comments", scope), COMMENT_SORT_FIELDS)


async def get_comment(request: web.Request) -> web.Response:
    _, _, scope = _ticket_scope(request)
    return record_response(
        find(sandbox_of(request), "comments", scope, request.match_info["commentId"], "comment")
    )


async def create_comment(request: web.Request) -> web.Response:
    integration, ticket, scope = _ticket_scope(request)
    fields = validate(await json_body(request), COMMENT_FIELDS)
    sandbox = sandbox_of(request)
    users = _users_by_id(sandbox, integration)
    author = (
        _resolve_users(users, [fields["authorId"]], "authorId")[0] if "authorId" in fields else actor(request)
    )
    mentions = _resolve_users(users, fields.get("mentions", []), "mentions")
    linked = []
    for index, attachment_id in enumerate(fields.get("attachmentIds", [])):
        attachment = sandbox.records.get("attachments", scope, attachment_id)
        if attachment is None:
            raise invalid(f"attachmentIds[{index}]", f"attachment '{attachment_id}' is not on this ticket")
        linked.append({"id": attachment["id"], "fileName": attachment["fileName"]})
    now = _now()
    comment = {
        "id": str(secrets.randbelow(9 * 10**9) + 10**9),
        "content": fields["content"],
        "author": author,
        "isInternal": fields.get("isInternal", False),
        "mentions": [user["id"] for user in mentions],
        "attachments": linked,
        "ticket": {"id": ticket["id"], "key": ticket["key"]},
        "changeLog": {"createdDateTime": now, "lastUpdatedDateTime": now},
    }
    sandbox.records.insert("comments", scope, comment)
    sandbox.changed()
    sandbox.emit("comment:created", integration, comment)
    return record_response(comment, status=201)


async def list_attachments(request: web.Request) -> web.Response:
    _, _, scope = _ticket_scope(request)
    return list_response(
        request, sandbox_of(request).records.items("attachments", scope), ATTACHMENT_SORT_FIELDS
    )


async def get_attachment(request: web.Request) -> web.Response:
    _, _, scope = _ticket_scope(request)
    attachment_id = request.match_info["attachmentId"]
    return record_response(find(sandbox_of(request), "attachments", scope, attachment_id, "attachment"))


async def create_attachment(request: web.Request) -> web.Response:
    integration, ticket, scope = _ticket_scope(request)
    upload = await attachments.read_upload(request)
    sandbox = sandbox_of(request)
    attachment_id = str(secrets.randbelow(9 * 10**9) + 10**9)
    attachments.store(sandbox, attachment_id, upload.content)
    now = _now()
    attachment = {
        "id": attachment_id,
        "fileName": upload.file_name,
        "fileSize": len(upload.content),
        "mimeType": upload.mime_type,
        "description": upload.description,
        "downloadUrl": f"{sandbox.base_url}/_sandbox/files/{attachment_id}",
        "uploadedBy": actor(request),
        "isPublic": False,
        "ticket": {"id": ticket["id"], "key": ticket["key"]},
        "changeLog": {"createdDateTime": now, "lastUpdatedDateTime": now},
    }
    sandbox.records.insert("attachments", scope, attachment)
    sandbox.changed()
    sandbox.emit("attachment:created", integration, attachment)
    return record_response(attachment, status=201)


async def list_labels(request: web.Request) -> web.Response:
    _, _, scope = _ticket_scope(request)
    return list_response(request, sandbox_of(request).records.items("labels", scope), LABEL_SORT_FIELDS)


async def create_label(request: web.Request) -> web.Response:
    integration, ticket, scope = _ticket_scope(request)
    fields = validate(await json_body(request), LABEL_FIELDS)
    sandbox = sandbox_of(request)
    if fields["name"] in ticket["labels"]:
        raise invalid("name", f"label '{fields['name']}' is already on this ticket")
    label = _new_label(fields.pop("name"), ticket, actor(request), **fields)
    sandbox.records.insert("labels", scope, label)
    _save_ticket(
        sandbox, scope[:-1], ticket, {**ticket, "labels": [*ticket["labels"], label["name"]]}, at=_now()
    )
    sandbox.changed()
    sandbox.emit("label:created", integration, label)
    return record_response(label, status=201)


def add_routes(router: web.UrlDispatcher) -> None:
    # Fixed segments first: /ticketing/organizations/{id} would otherwise match /{organizationId}/collections.
    router.add_get("/api/v1/ticketing/organizations", list_organizations)
    router.add_get("/api/v1/ticketing/organizations/{organizationId}", get_organization)
    router.add_get("/api/v1/ticketing/users", list_users)
    router.add_get("/api/v1/ticketing/users/{userId}", get_user)
    router.add_get("/api/v1/ticketing/{organizationId}/collections", list_collections)
    router.add_get("/api/v1/ticketing/{organizationId}/collections/{collectionId}", get_collection)
    router.add_get(T, list_tickets)
    router.add_post(T, create_ticket)
    router.add_post(T + "/bulk", bulk_create_tickets)
    router.add_post(T + "/link", link_tickets)
    router.add_get(T + "/{ticketId}", get_ticket)
    router.add_put(T + "/{ticketId}", update_ticket)
    router.add_get(T + "/{ticketId}/comments", list_comments)
    router.add_post(T + "/{ticketId}/comments", create_comment)
    router.add_get(T + "/{ticketId}/comments/{commentId}", get_comment)
    router.add_get(T + "/{ticketId}/attachments", list_attachments)
    router.add_post(T + "/{ticketId}/attachments", create_attachment)
    router.add_get(T + "/{ticketId}/attachments/{attachmentId}", get_attachment)
    router.add_get(T + "/{ticketId}/labels", list_labels)
    router.add_post(T + "/{ticketId}/labels", create_label)
