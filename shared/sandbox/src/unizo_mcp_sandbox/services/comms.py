"""Communications: organizations (Slack workspaces, Microsoft 365 tenants) and their channels (read);
messages posted to a channel (write).

Slack integrations look like an Enterprise Grid (three workspaces, `C0…` channel ids, threads as
sub-channels of the channel they started in); Microsoft Teams ones like one tenant whose teams (`LIST`)
hold their channels (`19:…@thread.tacv2`, sub-channels of the team). A channel's `parent` says where it
belongs, and `parentId` lists the sub-channels of one channel or team.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.context import sandbox_of
from unizo_mcp_sandbox.data.common import Gen, Record, Scope, Tables, change_log, slug
from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.resources import Resource, Route, locate_item
from unizo_mcp_sandbox.routes.common import actor, record_response
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import parse_iso
from unizo_mcp_sandbox.validation import Field, boolean, json_body, object_list, text, validate

if TYPE_CHECKING:
    from unizo_mcp_sandbox.sandbox import Sandbox

SLACK, TEAMS = "slack", "microsoft_teams"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
MESSAGES_KIND = "comms_messages"  # stored per channel; no list endpoint (channels show their activity)

# (name, description, visibility, archived, thread topics)
SLACK_CHANNELS = (
    ("general", "Company-wide announcements and work-based matters", "PUBLIC", False, ()),
    ("random", "Non-work banter and water cooler conversation", "PUBLIC", False, ()),
    ("security-alerts", "High-severity detections posted by the SOAR pipeline", "PUBLIC", False,
     ("Impossible travel for a finance user", "Mass file renames on a file server")),
    ("soc-triage", "Shift handover and alert triage for the SOC", "PRIVATE", False,
     ("Phishing wave targeting payroll", "Endpoint sensor offline on build agents",
      "Suspicious OAuth grant")),
    ("war-room", "Major outage and breach coordination (bridge links pinned)", "PRIVATE", False,
     ("Customer data exposure review",)),
    ("phishing-reports", "Forward suspicious email here; the bot opens a ticket", "PUBLIC", False, ()),
    ("threat-intel", "IOCs, advisories and vendor bulletins", "PUBLIC", False, ()),
    ("it-helpdesk", "Laptops, accounts and access requests", "PUBLIC", False,
     ("VPN drops every hour on macOS",)),
    ("eng-announcements", "Release notes and engineering news", "PUBLIC", False, ()),
    ("on-call", "Pages, escalations and on-call swaps", "PUBLIC", False, ()),
    ("cloud-costs", "Budgets, anomalies and rightsizing", "PUBLIC", False, ()),
    ("design-reviews", "Architecture and threat-model reviews", "PUBLIC", False, ()),
    ("soc2-evidence", "Audit evidence requests", "PRIVATE", False, ()),
    ("legacy-siem", "Old SIEM migration (done)", "PUBLIC", True, ()),
    ("proj-zero-trust", "Zero-trust rollout working group", "PRIVATE", False, ()),
)  # fmt: skip
# (team, description, visibility, channels beyond General)
TEAMS_TEAMS = (
    ("Security Operations", "SOC analysts and responders", "PRIVATE", ("Alerts", "Triage", "Shift Notes")),
    ("IT Service Desk", "Tier 1 and tier 2 support", "PUBLIC", ("Help Requests", "Hardware")),
    ("Engineering", "Product engineering", "PUBLIC", ("Releases", "Code Review", "Architecture", "Archive")),
    ("Leadership", "Executive staff", "PRIVATE", ("Board Prep",)),
)
MESSAGE_TEXTS = (
    "Heads up: new detection rule deployed to production.",
    "Can someone take a look at the alert queue? It is growing.",
    "Handover: two open investigations, notes in the ticket.",
    "Reminder: quarterly access review is due Friday.",
    "The vendor confirmed the advisory applies to our version.",
    "Patched and rebooted, monitoring for another hour.",
    "False positive, closing. Tuning the rule tomorrow.",
    "Bridge is open, join from the pinned link.",
)

ORGANIZATION_SORT_FIELDS = frozenset({"id", "login", "name", "changeLog.createdDateTime"})
CHANNEL_SORT_FIELDS = frozenset({
    "id", "name", "type", "state", "visibility", "memberCount", "lastMessageDateTime",
    "changeLog.createdDateTime", "changeLog.lastUpdatedDateTime",
})  # fmt: skip


def _slack_id(gen: Gen, prefix: str) -> str:
    return prefix + "".join(gen.pick(ALNUM) for _ in range(10))


def _slack_ts(epoch: float, gen: Gen | None = None) -> str:
    micro = gen.number(0, 999_999) if gen is not None else secrets.randbelow(1_000_000)
    return f"{int(epoch)}.{micro:06d}"


def _organizations(gen: Gen, connector: str, owner: Organization) -> list[Record]:
    base = slug(owner.name)
    created = gen.past(1500, 900)
    if connector == TEAMS:
        tenant = gen.uuid()
        domain = base.replace("-", "")
        return [
            {
                "id": tenant,
                "login": f"{domain}.onmicrosoft.com",
                "name": owner.name,
                "url": f"https://teams.microsoft.com/?tenantId={tenant}",
                "changeLog": change_log(created, gen.after(created, 600)),
            }
        ]
    workspaces = (
        (base, owner.name),
        (f"{base}-eng", f"{owner.name} Engineering"),
        (f"{base}-gtm", f"{owner.name} Sales & Marketing"),
    )
    return [
        {
            "id": _slack_id(gen, "T"),
            "login": login,
            "name": name,
            "url": f"https://{login}.slack.com",
            "changeLog": change_log(created, gen.after(created, 600)),
        }
        for login, name in workspaces
    ]


def _channel(
    gen: Gen,
    organization: Record,
    *,
    channel_id: str,
    name: str,
    description: str,
    kind: str,
    visibility: str,
    archived: bool,
    url: str,
    parent: Record | None = None,
    created: float | None = None,
) -> Record:
    start = created if created is not None else gen.past(900, 30)
    return {
        "id": channel_id,
        "name": name,
        "description": description,
        "type": kind,
        "state": "ARCHIVED" if archived else "ACTIVE",
        "visibility": visibility,
        "parent": None if parent is None else {"id": parent["id"], "name": parent["name"]},
        "memberCount": gen.number(3, 400),
        "url": url,
        "organization": {"id": organization["id"]},
        "changeLog": change_log(start, gen.after(start, 120)),
    }


def _slack_channels(gen: Gen, organization: Record) -> list[Record]:
    channels = []
    for name, description, visibility, archived, threads in SLACK_CHANNELS:
        channel_id = _slack_id(gen, "C" if visibility == "PUBLIC" else "G")
        channel = _channel(
            gen,
            organization,
            channel_id=channel_id,
            name=name,
            description=description,
            kind="CHANNEL",
            visibility=visibility,
            archived=archived,
            url=f"{organization['url']}/archives/{channel_id}",
        )
        channels.append(channel)
        for topic in threads:
            started = gen.past(60, 1)
            ts = _slack_ts(started, gen)
            channels.append(
                _channel(
                    gen,
                    organization,
                    channel_id=f"{channel_id}.{ts}",
                    name=f"{name} thread: {topic}",
                    description=topic,
                    kind="CHANNEL",
                    visibility=visibility,
                    archived=False,
                    url=f"{organization['url']}/archives/{channel_id}/p{ts.replace('.', '')}",
                    parent=channel,
                    created=started,
                )
            )
    return channels


def _teams_channels(gen: Gen, organization: Record) -> list[Record]:
    tenant = organization["id"]
    channels = []
    for team_name, description, visibility, names in TEAMS_TEAMS:
        team_id = gen.uuid()
        general_thread = f"19:{gen.hex(32)}@thread.tacv2"
        team = _channel(
            gen,
            organization,
            channel_id=team_id,
            name=team_name,
            description=description,
            kind="LIST",
            visibility=visibility,
            archived=False,
            url=f"https://teams.microsoft.com/l/team/{general_thread}/conversations?groupId={team_id}"
            f"&tenantId={tenant}",
        )
        channels.append(team)
        for index, channel_name in enumerate(("General", *names)):
            channel_id = general_thread if index == 0 else f"19:{gen.hex(32)}@thread.tacv2"
            channels.append(
                _channel(
                    gen,
                    organization,
                    channel_id=channel_id,
                    name=channel_name,
                    description=f"{team_name}: {channel_name.lower()}",
                    kind="CHANNEL",
                    visibility=visibility,
                    archived=channel_name == "Archive",
                    url=f"https://teams.microsoft.com/l/channel/{channel_id}/{quote(channel_name)}"
                    f"?groupId={team_id}&tenantId={tenant}",
                    parent=team,
                )
            )
    return channels


def _message_id(connector: str, epoch: float, gen: Gen | None = None) -> str:
    if connector == SLACK:
        return _slack_ts(epoch, gen)
    extra = gen.number(0, 999) if gen is not None else secrets.randbelow(1000)
    return str(int(epoch) * 1000 + extra)


def _message_url(connector: str, channel: Record, message_id: str) -> str:
    """Slack permalinks (a thread reply names its thread); Teams message links."""
    if connector != SLACK:
        return f"https://teams.microsoft.com/l/message/{channel['id']}/{message_id}"
    base = channel["url"].split("/archives/")[0]
    link = message_id.replace(".", "")
    if channel["parent"] is None:
        return f"{base}/archives/{channel['id']}/p{link}"
    parent, thread = channel["parent"]["id"], channel["id"].split(".", 1)[1]
    return f"{base}/archives/{parent}/p{link}?thread_ts={thread}&cid={parent}"


def _seed_messages(gen: Gen, connector: str, channel: Record) -> list[Record]:
    start = parse_iso(channel["changeLog"]["createdDateTime"])
    messages: list[Record] = []
    for _ in range(gen.number(1, 6)):
        moment = gen.after(start, 400)
        first, last = gen.person()
        message_id = _message_id(connector, moment, gen)
        messages.append(
            {
                "id": message_id,
                "name": None,
                "messageBody": gen.pick(MESSAGE_TEXTS),
                "attachments": [],
                "author": {"id": gen.hex(12), "firstName": first, "lastName": last},
                "channel": {"id": channel["id"], "name": channel["name"]},
                "url": _message_url(connector, channel, message_id),
                "changeLog": change_log(moment, moment),
            }
        )
    return sorted(messages, key=lambda message: message["changeLog"]["createdDateTime"])


def generate(gen: Gen, integration: Record, owner: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    integration_id = integration["id"]
    organizations = _organizations(gen, connector, owner)
    tables["comms_organizations"][(integration_id,)] = organizations
    for organization in organizations:
        scope = (integration_id, organization["id"])
        channels = (
            _teams_channels(gen, organization) if connector == TEAMS else _slack_channels(gen, organization)
        )
        tables["comms_channels"][scope] = channels
        for channel in channels:
            if channel["type"] == "CHANNEL":
                tables[MESSAGES_KIND][(*scope, channel["id"])] = _seed_messages(gen, connector, channel)


# ---- endpoints ------------------------------------------------------------------------------------------


def _with_activity(sandbox: Sandbox, scope: Scope, channel: Record) -> Record:
    """A channel as served: how many messages it has and when the last one was posted (ours)."""
    if channel["type"] != "CHANNEL":
        return channel
    messages = sandbox.records.items(MESSAGES_KIND, (*scope, channel["id"]))
    last = max((message["changeLog"]["createdDateTime"] for message in messages), default=None)
    return {**channel, "messageCount": len(messages), "lastMessageDateTime": last}


ORGANIZATIONS = Resource(
    kind="comms_organizations",
    path="/comms/organizations",
    label="organization",
    sortable=ORGANIZATION_SORT_FIELDS,
    item_param="organizationId",
)
CHANNELS = Resource(
    kind="comms_channels",
    path="/comms/{organizationId}/channels",
    label="channel",
    sortable=CHANNEL_SORT_FIELDS,
    item_param="channelId",
    parent=ORGANIZATIONS,
    filters={"parentId": "parent.id"},
    view=_with_activity,
)

URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)


def _url(value: Any, path: str) -> str:
    if not isinstance(value, str) or not URL.fullmatch(value) or len(value) > 2048:
        raise invalid(path, f"{path} must be an http(s) URL")
    return value


ATTACHMENT_FIELD_FIELDS = (
    Field("title", text(1, 255), required=True),
    Field("value", text(0, 2000), required=True),
    Field("short", boolean()),
)
ATTACHMENT_FIELDS = (
    Field("id", text(1, 64), required=True),
    Field("contentType", text(1, 255)),
    Field("authorName", text(1, 255)),
    Field("title", text(1, 255)),
    Field("titleLink", _url),
    Field("text", text(0, 8000)),
    Field("fields", object_list(ATTACHMENT_FIELD_FIELDS, 0, 20)),
)
MESSAGE_FIELDS = (
    Field("name", text(1, 255)),
    Field("messageBody", text(1, 40_000), required=True),
    Field("attachments", object_list(ATTACHMENT_FIELDS, 0, 20)),
)


async def create_message(request: web.Request) -> web.Response:
    location, channel = locate_item(request, CHANNELS)
    fields = validate(await json_body(request), MESSAGE_FIELDS)
    if channel["type"] != "CHANNEL":
        raise invalid("channelId", f"'{channel['name']}' is a team: post to one of its channels")
    if channel["state"] == "ARCHIVED":
        raise invalid("channelId", f"channel '{channel['name']}' is archived")
    sandbox = sandbox_of(request)
    integration = location.integration
    connector = integration["serviceProfile"]["name"]
    now = sandbox.clock.time()
    message_id = _message_id(connector, now)
    attachments = fields.get("attachments", [])
    ids = [attachment["id"] for attachment in attachments]
    for index, attachment_id in enumerate(ids):
        if attachment_id in ids[:index]:
            raise invalid(f"attachments[{index}].id", f"attachment id '{attachment_id}' is used twice")
    message = {
        "id": message_id,
        "name": fields.get("name"),
        "messageBody": fields["messageBody"],
        "attachments": attachments,
        "author": actor(request),
        "channel": {"id": channel["id"], "name": channel["name"]},
        "url": _message_url(connector, channel, message_id),
        "changeLog": change_log(now, now),
    }
    sandbox.records.insert(MESSAGES_KIND, (*location.scope, channel["id"]), message)
    sandbox.changed()
    sandbox.emit("message:created", integration, message)
    return record_response(message, status=201)


SERVICE = SandboxService(
    name="comms",
    category="COMMS",
    connectors=((SLACK, "Slack"), (TEAMS, "Microsoft Teams")),
    path_prefixes=("comms",),
    generate=generate,
    probe="/comms/organizations",
    # Fixed segments first: /comms/organizations/{id} would otherwise match /comms/{organizationId}/channels.
    resources=(ORGANIZATIONS, CHANNELS),
    routes=(Route("POST", CHANNELS.path + "/{channelId}/messages", create_message),),
    events=("message:created",),
)
