"""Ticketing: organizations, collections and users (read); tickets, comments, attachments, labels and
links (read and write).

Jira integrations look like Jira Cloud (sites, projects, `SEC-42` keys); GitHub ones like GitHub Issues.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.context import sandbox_of
from unizo_mcp_sandbox.data.common import Gen, Record, Scope, Tables, change_log, slug
from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.resources import Resource, Route, find, locate, locate_item
from unizo_mcp_sandbox.routes import attachments as uploads
from unizo_mcp_sandbox.routes.common import actor, record_response
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import iso, parse_iso
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

if TYPE_CHECKING:
    from unizo_mcp_sandbox.sandbox import Sandbox

USERS_PER_INTEGRATION = 25
COLLECTIONS_PER_ORGANIZATION = 3
TICKET_TYPES = ("bug", "feature", "task", "security", "enhancement")
TICKET_STATUSES = ("open", "in_progress", "resolved", "closed")
PRIORITIES = ("low", "medium", "high", "critical")
PROJECTS = (
    ("SEC", "Security Operations", "Triage and response for security alerts"),
    ("PLAT", "Platform Engineering", "Shared infrastructure and developer tooling"),
    ("IT", "IT Helpdesk", "Laptops, accounts and access requests"),
    ("VULN", "Vulnerability Management", "Findings from scanners and pentests"),
    ("GRC", "Governance, Risk & Compliance", "SOC 2 and ISO 27001 evidence"),
)
SUMMARIES = (
    ("Investigate LSASS access alert on {host}", "security"),
    ("Rotate leaked AWS access key found in {repo}", "security"),
    ("Patch OpenSSL on {host}", "task"),
    ("SSO login loops for users on Safari", "bug"),
    ("Add MFA enforcement report", "feature"),
    ("Dashboard times out with more than 10k alerts", "bug"),
    ("Quarterly access review for production accounts", "task"),
    ("Phishing email reported by finance team", "security"),
    ("Upgrade Kubernetes cluster to 1.31", "task"),
    ("Allow exporting tickets as CSV", "enhancement"),
    ("Disable legacy TLS 1.1 on the load balancer", "security"),
    ("Slow search on ticket history", "bug"),
    ("Onboard new endpoint policy for servers", "feature"),
    ("Improve alert deduplication", "enhancement"),
)
HOSTS = ("ACME-LT-0042", "ACME-SRV-0007", "ACME-MBP-0113", "ACME-WS-0003")
REPOS = ("endpoint-connector", "web-portal", "cloud-terraform")
COMMENT_TEXTS = (
    "Confirmed on our side, looking into it.",
    "Attached the logs from the affected host.",
    "This is a duplicate of an older ticket, linking it.",
    "Fix deployed to staging, please verify.",
    "Escalating to the on-call engineer.",
    "Closing: no malicious activity found after review.",
)
ATTACHMENT_FILES = (
    ("alert-export.json", "application/json"),
    ("screenshot.png", "image/png"),
    ("phishing-headers.eml", "message/rfc822"),
    ("process-tree.txt", "text/plain"),
    ("scan-report.pdf", "application/pdf"),
)
LABEL_SPECS = (
    ("triage", "#fbca04", "workflow"),
    ("needs-info", "#d876e3", "workflow"),
    ("phishing", "#b60205", "threat"),
    ("malware", "#d93f0b", "threat"),
    ("compliance", "#0e8a16", "governance"),
    ("customer-impact", "#e99695", "impact"),
    ("good-first-issue", "#7057ff", "community"),
)

USER_SORT_FIELDS = frozenset(
    {"id", "email", "firstName", "lastName", "username", "status", "role", "lastLogin", "createdAt"}
)
ORGANIZATION_SORT_FIELDS = frozenset({"id", "name"})
COLLECTION_SORT_FIELDS = frozenset({"id", "name", "key", "type", "status", "startDate"})
TICKET_SORT_FIELDS = frozenset({
    "id", "key", "name", "type", "status", "priority", "dueDate",
    "changeLog.createdDateTime", "changeLog.lastUpdatedDateTime",
})  # fmt: skip
COMMENT_SORT_FIELDS = frozenset({"id", "author.id", "isInternal", "changeLog.createdDateTime"})
ATTACHMENT_SORT_FIELDS = frozenset({"id", "fileName", "fileSize", "mimeType", "changeLog.createdDateTime"})
LABEL_SORT_FIELDS = frozenset({"id", "name", "color", "category"})


def user_reference(user: Record) -> Record:
    return {key: user[key] for key in ("id", "email", "firstName", "lastName", "username")}


def _user(gen: Gen, connector: str, domain: str) -> Record:
    first, last = gen.person()
    created = gen.past(900, 60)
    user_id = gen.hex(24) if connector == "jira" else gen.digits(8)
    avatar = f"https://avatar.example.com/{user_id}"
    return {
        "id": user_id,
        "email": f"{first.lower()}.{last.lower()}@{domain}",
        "firstName": first,
        "lastName": last,
        "username": f"{first[0].lower()}{last.lower()}{gen.number(1, 99)}",
        "status": gen.weighted(("active", "inactive", "suspended", "pending"), (80, 10, 5, 5)),
        "role": gen.weighted(("admin", "user", "viewer", "editor"), (10, 60, 15, 15)),
        "lastLogin": iso(gen.past(30)),
        "createdAt": iso(created),
        "updatedAt": iso(gen.after(created, 300)),
        "avatar": {
            size: f"{avatar}?s={px}" for size, px in (("original", 512), ("small", 48), ("medium", 96))
        },
    }


def _organizations(gen: Gen, connector: str, owner: Organization) -> list[Record]:
    base = slug(owner.name)
    suffixes = ("", "-it", "-sandbox") if connector == "jira" else ("", "-labs", "-oss")
    names = [base + suffix for suffix in suffixes]
    organizations = []
    for name in names:
        url = f"https://{name}.atlassian.net" if connector == "jira" else f"https://github.com/{name}"
        organizations.append(
            {
                "id": gen.uuid() if connector == "jira" else gen.digits(8),
                "name": name,
                "description": f"{owner.name} {'Jira site' if connector == 'jira' else 'GitHub org'}",
                "url": url,
                "changeLog": change_log(gen.past(1200, 600), gen.past(300)),
            }
        )
    return organizations


def _collection(
    gen: Gen, connector: str, organization: Record, project: tuple[str, str, str], users: list[Record]
) -> Record:
    key, name, description = project
    owner = gen.pick(users)
    start = gen.past(700, 200)
    collection_id = gen.digits(5) if connector == "jira" else gen.digits(9)
    target = (
        f"{organization['url']}/browse/{key}"
        if connector == "jira"
        else f"{organization['url']}/{slug(name)}"
    )
    return {
        "id": collection_id,
        "name": name if connector == "jira" else slug(name),
        "description": description,
        "key": key if connector == "jira" else slug(name),
        "owner": user_reference(owner),
        "accessLevel": "private",
        "targetUrl": target,
        "type": "Project",
        "status": "Active",
        "members": [user_reference(user) for user in gen.sample(users, 6)],
        "startDate": iso(start)[:10],
        "endDate": None,
        "metadata": {"vendor": connector},
        "organization": {"id": organization["id"]},
        "changeLog": change_log(start, gen.after(start, 300), user_reference(owner)),
    }


class _TicketNumbers:
    """Jira issue ids are unique per site; keys count per project."""

    def __init__(self, connector: str, gen: Gen) -> None:
        self.connector = connector
        self.next_id = 10_000 if connector == "jira" else int(gen.digits(10))
        self.per_collection: dict[str, int] = {}

    def next(self, collection: Record) -> tuple[str, str]:
        self.next_id += 1
        number = self.per_collection.get(collection["id"], 0) + 1
        self.per_collection[collection["id"]] = number
        key = f"{collection['key']}-{number}" if self.connector == "jira" else f"#{number}"
        return str(self.next_id), key


def _ticket(
    gen: Gen, connector: str, collection: Record, users: list[Record], numbers: _TicketNumbers
) -> Record:
    ticket_id, key = numbers.next(collection)
    template, ticket_type = gen.pick(SUMMARIES)
    created = gen.past(180, 1)
    updated = gen.after(created, 30)
    reporter = gen.pick(users)
    due = iso(created + gen.number(3, 45) * 86_400)[:10] if gen.chance(0.5) else None
    target = (
        f"{collection['targetUrl'].rsplit('/browse', 1)[0]}/browse/{key}"
        if connector == "jira"
        else f"{collection['targetUrl']}/issues/{key[1:]}"
    )
    return {
        "id": ticket_id,
        "key": key,
        "type": ticket_type,
        "name": template.format(host=gen.pick(HOSTS), repo=gen.pick(REPOS)),
        "description": "Reported by the SOC pipeline.\n\nSteps and evidence are in the comments.",
        "status": gen.weighted(TICKET_STATUSES, (40, 25, 20, 15)),
        "priority": gen.weighted(PRIORITIES, (20, 40, 30, 10)),
        "assignees": [user_reference(user) for user in gen.sample(users, gen.number(0, 2))],
        "reporter": user_reference(reporter),
        "labels": [],
        "dueDate": due,
        "metadata": {},
        "links": [],
        "targetUrl": target,
        "collection": {"id": collection["id"], "key": collection["key"]},
        "organization": {"id": collection["organization"]["id"]},
        "changeLog": change_log(created, updated, user_reference(reporter)),
    }


def _numeric_id(gen: Gen, connector: str) -> str:
    return gen.digits(5) if connector == "jira" else gen.digits(10)


def _download_url(connector: str, ticket: Record, attachment_id: str, file_name: str) -> str:
    if connector == "jira":
        site = ticket["targetUrl"].split("/browse")[0]
        return f"{site}/secure/attachment/{attachment_id}/{file_name}"
    return f"https://github.com/user-attachments/files/{attachment_id}/{file_name}"


def _children(gen: Gen, connector: str, ticket: Record, users: list[Record]) -> dict[str, list[Record]]:
    created = parse_iso(ticket["changeLog"]["createdDateTime"])
    ticket_ref = {"id": ticket["id"], "key": ticket["key"]}
    comments = []
    for _ in range(gen.number(0, 5)):
        author = user_reference(gen.pick(users))
        moment = gen.after(created, 20)
        comments.append(
            {
                "id": _numeric_id(gen, connector),
                "content": gen.pick(COMMENT_TEXTS),
                "author": author,
                "isInternal": gen.chance(0.3),
                "mentions": [],
                "attachments": [],
                "ticket": ticket_ref,
                "changeLog": change_log(moment, moment),
            }
        )
    attachments = []
    for file_name, mime_type in gen.sample(ATTACHMENT_FILES, gen.number(0, 2)):
        attachment_id = _numeric_id(gen, connector)
        attachments.append(
            {
                "id": attachment_id,
                "fileName": file_name,
                "fileSize": gen.number(800, 2_000_000),
                "mimeType": mime_type,
                "description": f"{file_name} from the investigation",
                "downloadUrl": _download_url(connector, ticket, attachment_id, file_name),
                "uploadedBy": user_reference(gen.pick(users)),
                "isPublic": False,
                "ticket": ticket_ref,
                "changeLog": change_log(created, created),
            }
        )
    labels = []
    for name, hex_color, category in gen.sample(LABEL_SPECS, gen.number(0, 3)):
        labels.append(
            {
                "id": gen.uuid(),
                "name": name,
                "description": f"Tickets about {name.replace('-', ' ')}",
                "color": hex_color,
                "category": category,
                "ticket": ticket_ref,
                "changeLog": change_log(created, created),
            }
        )
    return {"comments": comments, "attachments": attachments, "labels": labels}


def generate(gen: Gen, integration: Record, owner: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    integration_id = integration["id"]
    users = [_user(gen, connector, f"{slug(owner.name)}.com") for _ in range(USERS_PER_INTEGRATION)]
    tables["users"][(integration_id,)] = users
    organizations = _organizations(gen, connector, owner)
    tables["ticketing_organizations"][(integration_id,)] = organizations
    numbers = _TicketNumbers(connector, gen)
    for organization in organizations:
        projects = gen.sample(PROJECTS, COLLECTIONS_PER_ORGANIZATION)
        collections = [_collection(gen, connector, organization, project, users) for project in projects]
        tables["collections"][(integration_id, organization["id"])] = collections
        for collection in collections:
            scope = (integration_id, organization["id"], collection["id"])
            tickets = [_ticket(gen, connector, collection, users, numbers) for _ in range(gen.number(20, 26))]
            for ticket in tickets:
                children: dict[str, Any] = _children(gen, connector, ticket, users)
                ticket["labels"] = [label["name"] for label in children["labels"]]
                for kind, records in children.items():
                    tables[kind][(*scope, ticket["id"])] = records
            tables["tickets"][scope] = tickets


# ---- endpoints ------------------------------------------------------------------------------------------

T = "/ticketing/{organizationId}/collections/{collectionId}/tickets"


def _with_statistics(sandbox: Sandbox, scope: Scope, collection: Record) -> Record:
    tickets = sandbox.records.items("tickets", (*scope, collection["id"]))
    done = sum(1 for ticket in tickets if ticket["status"] in ("resolved", "closed"))
    statistics = {
        "totalTickets": len(tickets),
        "openTickets": len(tickets) - done,
        "completedTickets": done,
        "progress": round(100 * done / len(tickets)) if tickets else 0,
    }
    return {**collection, "statistics": statistics}


ORGANIZATIONS = Resource(
    kind="ticketing_organizations",
    path="/ticketing/organizations",
    label="organization",
    sortable=ORGANIZATION_SORT_FIELDS,
    item_param="organizationId",
)
USERS = Resource(
    kind="users", path="/ticketing/users", label="user", sortable=USER_SORT_FIELDS, item_param="userId"
)
COLLECTIONS = Resource(
    kind="collections",
    path="/ticketing/{organizationId}/collections",
    label="collection",
    sortable=COLLECTION_SORT_FIELDS,
    item_param="collectionId",
    parent=ORGANIZATIONS,
    view=_with_statistics,
)
TICKETS = Resource(
    kind="tickets",
    path=T,
    label="ticket",
    sortable=TICKET_SORT_FIELDS,
    item_param="ticketId",
    parent=COLLECTIONS,
)
COMMENTS = Resource(
    kind="comments",
    path=T + "/{ticketId}/comments",
    label="comment",
    sortable=COMMENT_SORT_FIELDS,
    item_param="commentId",
    parent=TICKETS,
)
ATTACHMENTS = Resource(
    kind="attachments",
    path=T + "/{ticketId}/attachments",
    label="attachment",
    sortable=ATTACHMENT_SORT_FIELDS,
    item_param="attachmentId",
    parent=TICKETS,
)
LABELS = Resource(
    kind="labels", path=T + "/{ticketId}/labels", label="label", sortable=LABEL_SORT_FIELDS, parent=TICKETS
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


def _now() -> str:
    return iso(time.time())


def _users_by_id(sandbox: Sandbox, integration: Record) -> dict[str, Record]:
    return {user["id"]: user for user in sandbox.records.items("users", (integration["id"],))}


def _resolve_users(users: dict[str, Record], ids: Sequence[str], property: str) -> list[Record]:
    for index, user_id in enumerate(ids):
        if user_id not in users:
            raise invalid(f"{property}[{index}]", f"user '{user_id}' does not exist")
    return [user_reference(users[user_id]) for user_id in ids]


# ---- tickets ----------------------------------------------------------------------------------------------


def _next_ticket_number(sandbox: Sandbox, integration: Record, collection: Record) -> tuple[str, str]:
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
    ticket_id, key = _next_ticket_number(sandbox, integration, collection)
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


async def create_ticket(request: web.Request) -> web.Response:
    location = locate(request, TICKETS)
    fields = validate(await json_body(request), TICKET_FIELDS)
    ticket = _create_ticket(request, location.integration, location.owner, location.scope, fields)
    return record_response(ticket, status=201)


async def bulk_create_tickets(request: web.Request) -> web.Response:
    location = locate(request, TICKETS)
    body = validate(await json_body(request), BULK_FIELDS)
    users = _users_by_id(sandbox_of(request), location.integration)
    for index, fields in enumerate(body["tickets"]):  # all or nothing: check every ticket before creating any
        _resolve_users(users, fields.get("assigneeIds", []), f"tickets[{index}].assigneeIds")
    created = [
        _create_ticket(request, location.integration, location.owner, location.scope, fields)
        for fields in body["tickets"]
    ]
    return record_response({"data": created, "notify": body.get("notify", False)}, status=201)


def _save_ticket(
    sandbox: Sandbox, scope: Scope, before: Record, after: Record, *, at: str, by: Record | None = None
) -> None:
    """Store `after` in place of `before`, stamping its changeLog (and who changed it, when known)."""
    stamp = {"lastUpdatedDateTime": at, **({"lastUpdatedBy": by} if by is not None else {})}
    after["changeLog"] = {**before["changeLog"], **stamp}
    sandbox.records.replace("tickets", scope, after)


async def update_ticket(request: web.Request) -> web.Response:
    location, ticket = locate_item(request, TICKETS)
    integration = location.integration
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
        _sync_labels(sandbox, (*location.scope, ticket["id"]), updated, updated["labels"], author)
    _save_ticket(sandbox, location.scope, ticket, updated, at=_now(), by=author)
    sandbox.changed()
    sandbox.emit("ticket:updated", integration, updated)
    return record_response(updated)


async def link_tickets(request: web.Request) -> web.Response:
    location = locate(request, TICKETS)
    scope = location.scope
    fields = validate(await json_body(request), LINK_FIELDS)
    sandbox = sandbox_of(request)
    source = find(sandbox, TICKETS, scope, fields["sourceTicketId"])
    target = find(sandbox, TICKETS, scope, fields["targetTicketId"])
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
    sandbox.emit("link:created", location.integration, link)
    return record_response(link, status=201)


# ---- comments, attachments, labels ----------------------------------------------------------------------


async def create_comment(request: web.Request) -> web.Response:
    location = locate(request, COMMENTS)
    integration, ticket, scope = location.integration, location.owner, location.scope
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


async def create_attachment(request: web.Request) -> web.Response:
    location = locate(request, ATTACHMENTS)
    ticket, scope = location.owner, location.scope
    upload = await uploads.read_upload(request)
    sandbox = sandbox_of(request)
    attachment_id = str(secrets.randbelow(9 * 10**9) + 10**9)
    uploads.store(sandbox, attachment_id, upload.content)
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
    sandbox.emit("attachment:created", location.integration, attachment)
    return record_response(attachment, status=201)


async def create_label(request: web.Request) -> web.Response:
    location = locate(request, LABELS)
    ticket, scope = location.owner, location.scope
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
    sandbox.emit("label:created", location.integration, label)
    return record_response(label, status=201)


SERVICE = SandboxService(
    name="ticketing",
    category="TICKETING",
    connectors=(("jira", "Jira Cloud"), ("github", "GitHub Issues")),
    path_prefixes=("ticketing",),
    generate=generate,
    probe="/ticketing/organizations",
    # Fixed segments first: /ticketing/organizations/{id} would otherwise match /{organizationId}/collections.
    resources=(ORGANIZATIONS, USERS, COLLECTIONS, TICKETS, COMMENTS, ATTACHMENTS, LABELS),
    routes=(
        Route("POST", T, create_ticket),
        Route("POST", T + "/bulk", bulk_create_tickets),
        Route("POST", T + "/link", link_tickets),
        Route("PUT", T + "/{ticketId}", update_ticket),
        Route("POST", T + "/{ticketId}/comments", create_comment),
        Route("POST", T + "/{ticketId}/attachments", create_attachment),
        Route("POST", T + "/{ticketId}/labels", create_label),
    ),
    events=(
        "ticket:created",
        "ticket:updated",
        "comment:created",
        "attachment:created",
        "label:created",
        "link:created",
    ),
)
