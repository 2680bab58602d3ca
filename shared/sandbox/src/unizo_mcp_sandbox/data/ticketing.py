"""Seeded ticketing data: organizations, collections, users, tickets, comments, attachments, labels.

Jira integrations look like Jira Cloud (sites, projects, `SEC-42` keys); GitHub ones like GitHub Issues.
"""

from __future__ import annotations

from typing import Any

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.data.common import Gen, Record, Tables, change_log, slug
from unizo_mcp_sandbox.timeutil import iso, parse_iso

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
    ("Onboard new EDR policy for servers", "feature"),
    ("Improve alert deduplication", "enhancement"),
)
HOSTS = ("ACME-LT-0042", "ACME-SRV-0007", "ACME-MBP-0113", "ACME-WS-0003")
REPOS = ("edr-connector", "web-portal", "infra-terraform")
COMMENTS = (
    "Confirmed on our side, looking into it.",
    "Attached the logs from the affected host.",
    "This is a duplicate of an older ticket, linking it.",
    "Fix deployed to staging, please verify.",
    "Escalating to the on-call engineer.",
    "Closing: no malicious activity found after review.",
)
ATTACHMENTS = (
    ("alert-export.json", "application/json"),
    ("screenshot.png", "image/png"),
    ("phishing-headers.eml", "message/rfc822"),
    ("process-tree.txt", "text/plain"),
    ("scan-report.pdf", "application/pdf"),
)
LABELS = (
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
                "content": gen.pick(COMMENTS),
                "author": author,
                "isInternal": gen.chance(0.3),
                "mentions": [],
                "attachments": [],
                "ticket": ticket_ref,
                "changeLog": change_log(moment, moment),
            }
        )
    attachments = []
    for file_name, mime_type in gen.sample(ATTACHMENTS, gen.number(0, 2)):
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
    for name, color, category in gen.sample(LABELS, gen.number(0, 3)):
        labels.append(
            {
                "id": gen.uuid(),
                "name": name,
                "description": f"Tickets about {name.replace('-', ' ')}",
                "color": color,
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
