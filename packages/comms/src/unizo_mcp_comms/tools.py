"""The communications tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import (
    Fields,
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
ORGANIZATION = Fields(summary=("id", "name", "login"), more=("url", "changeLog"))
CHANNEL = Fields(
    summary=("id", "name", "type", "state", "parentId=parent.id"),
    more=(
        "description", "visibility", "parent", "memberCount", "messageCount", "lastMessageDateTime", "url",
        "organization", "changeLog",
    ),
)  # fmt: skip

CHANNELS = "/comms/{organization_id}/channels"
CHANNEL_PATH = CHANNELS + "/{channel_id}"

# Ids need no description: each comes from the list tool of the same name (comms_list_channels...).
# The organization may be left out when the integration has only one (a Teams tenant, a Slack workspace).
ORG_ID = path_param("organization_id", resolvable=True)
CHANNEL_ID = path_param("channel_id")

# Unizo's message attachment (Slack-style): its fields, snake_case here, camelCase on the wire.
ATTACHMENT = (
    body_param("id", "string", "", required=True),
    body_param("title", "string", ""),
    body_param("title_link", "string", "URL."),
    body_param("text", "string", ""),
    body_param("author_name", "string", ""),
    body_param("content_type", "string", ""),
    body_param(
        "fields",
        "array",
        "",
        items="object",
        item_params=(
            body_param("title", "string", "", required=True),
            body_param("value", "string", "", required=True),
            body_param("short", "boolean", ""),
        ),
    ),
)

SERVICE = ServiceSpec(
    name="comms",
    title="Communications",
    description=(
        "Team chat through Unizo: organizations (Slack workspaces, Microsoft 365 tenants), their channels "
        "and sub-channels (threads, a team's channels), and posting messages to a channel."
    ),
    package="unizo-mcp-comms",
    version=__version__,
    connectors=("slack", "microsoft_teams"),
    tools=(
        list_tool(
            "comms_list_organizations",
            "List organizations (workspaces, tenants).",
            "/comms/organizations",
            fields=ORGANIZATION,
        ),
        get_tool(
            "comms_get_organization_details",
            "Get one organization.",
            "/comms/organizations/{organization_id}",
            ORG_ID,
        ),
        list_tool(
            "comms_list_channels",
            "List an organization's channels; parent_id lists one channel's or team's sub-channels.",
            CHANNELS,
            ORG_ID,
            # a filter, declared before the paging params (tests/servers wants lists to end with them)
            query_param("parent_id", "string", ""),
            fields=CHANNEL,
        ),
        get_tool(
            "comms_get_channel_details",
            "Get one channel: description, visibility, members, last message.",
            CHANNEL_PATH,
            ORG_ID,
            CHANNEL_ID,
        ),
        ToolSpec(
            "comms_create_message",
            "Post a message to a channel; posted to a thread's sub-channel, it replies in the thread.",
            "POST",
            CHANNEL_PATH + "/messages",
            Permission.WRITE,
            (
                ORG_ID,
                CHANNEL_ID,
                body_param("message_body", "string", "Text (markdown).", required=True),
                body_param("name", "string", "Subject."),
                body_param("attachments", "array", "", items="object", item_params=ATTACHMENT, max_items=20),
            ),
        ),
    ),
)
