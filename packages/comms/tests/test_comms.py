"""Communications: every tool against the sandbox (generated from the declarations and this table), its
snapshot, and what only this service has: sub-channels by parent, the organization picked when only one
exists, nested attachment fields on the wire."""

from __future__ import annotations

from typing import Any

from servicekit import Example, Session, ref, service_tests
from unizo_mcp_comms.tools import SERVICE
from unizo_testkit import text_of

TOOLS = {tool.name: tool for tool in SERVICE.tools}


def _postable(channel: Any) -> bool:
    return channel.get("type") == "CHANNEL" and channel.get("state") == "ACTIVE"


def _message(data: Any) -> None:
    assert data["messageBody"] == "Containment done; hosts isolated." and data["name"] == "Status"
    (attachment,) = data["attachments"]
    assert attachment["titleLink"] == "https://tickets.example.com/SEC-42"
    assert attachment["fields"] == [{"title": "Severity", "value": "High", "short": True}]


EXAMPLES = {
    "comms_list_channels": Example({"limit": 30}),
    "comms_create_message": Example(
        {
            "channel_id": ref("comms_list_channels", where=_postable),
            "message_body": "Containment done; hosts isolated.",
            "name": "Status",
            "attachments": [
                {
                    "id": "att-1",
                    "title": "SEC-42",
                    "title_link": "https://tickets.example.com/SEC-42",
                    "author_name": "SOC bot",
                    "fields": [{"title": "Severity", "value": "High", "short": True}],
                }
            ],
        },
        check=_message,
    ),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)


async def _integration(s: Session, connector: str) -> str:
    (found, *_) = await s.data("comms_list_integrations", {"connector": connector})
    return str(found["id"])


async def test_parent_id_lists_the_sub_channels_of_a_team(open_server: Any) -> None:
    async with open_server("comms") as s:
        teams = await _integration(s, "microsoft_teams")
        everything = await s.data("comms_list_channels", {"integration_id": teams, "limit": 100})
        team = next(channel for channel in everything if channel["type"] == "LIST")
        children = await s.data(
            "comms_list_channels", {"integration_id": teams, "parent_id": team["id"], "limit": 100}
        )
        assert children and {child["parentId"] for child in children} == {team["id"]}
        assert "General" in {child["name"] for child in children}
        assert len(children) < len(everything)


async def test_the_only_organization_is_picked_and_several_are_listed(open_server: Any) -> None:
    async with open_server("comms") as s:
        teams = await _integration(s, "microsoft_teams")
        (tenant,) = await s.data("comms_list_organizations", {"integration_id": teams})
        picked = await s.data("comms_get_organization_details", {"integration_id": teams})
        assert picked["id"] == tenant["id"]
        slack = await _integration(s, "slack")
        workspaces = await s.data("comms_list_organizations", {"integration_id": slack})
        assert len(workspaces) == 3
        result = await s.call("comms_list_channels", {"integration_id": slack})
        text = text_of(result)
        assert result.is_error and "organization_id" in text
        assert all(workspace["id"] in text for workspace in workspaces)


def test_message_fields_follow_the_contract() -> None:
    params = {p.name: p for p in TOOLS["comms_create_message"].params}
    assert params["message_body"].wire_name == "messageBody" and params["message_body"].required
    attachment = {p.name: p for p in params["attachments"].item_params or ()}
    assert {p.wire_name for p in attachment.values()} == {
        "id", "title", "titleLink", "text", "authorName", "contentType", "fields",
    }  # fmt: skip
    assert attachment["id"].required
    fields = {p.name: p for p in attachment["fields"].item_params or ()}
    assert [name for name, p in fields.items() if p.required] == ["title", "value"]
    channels = {p.name: p for p in TOOLS["comms_list_channels"].params}
    assert channels["parent_id"].location == "query" and channels["parent_id"].wire_name == "parentId"
