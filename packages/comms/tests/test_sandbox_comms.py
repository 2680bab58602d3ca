"""The sandbox's communications emulation: seeded workspaces, tenants, channels and sub-channels, the
`parentId` filter, posting messages (validation, where they show up, the webhook event), persistence.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox): fixtures `sandbox_client`,
`webhook_receiver`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.testclient import SandboxClient, WebhookReceiver
from unizo_mcp_sandbox.testclient import sandbox_client as open_client
from unizo_mcp_sandbox.testing import start_sandbox

Api = SandboxClient
COMMS = "/api/v1/comms"
MESSAGE = {"name": "Status", "messageBody": "Containment done; two hosts isolated."}


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


async def channels_of(api: Api, connector: str = "slack", **params: str) -> tuple[str, str, list[dict]]:
    """(integration id, channels path, every channel) of the first organization of `connector`."""
    integration = api.integration("comms", connector)
    organization = await api.first(f"{COMMS}/organizations", integration)
    path = f"{COMMS}/{quote(organization['id'], safe='')}/channels"
    reply = await api.get(path, integration=integration, params={"limit": "100", **params})
    assert reply.status == 200, reply.text
    return integration, path, reply.json["data"]


def postable(channels: list[dict]) -> dict:
    return next(c for c in channels if c["type"] == "CHANNEL" and c["state"] == "ACTIVE" and not c["parent"])


def item(path: str, channel: dict) -> str:
    return f"{path}/{quote(channel['id'], safe='')}"


# ---- seeded data ----------------------------------------------------------------------------------------


def test_slack_is_a_grid_of_three_workspaces_and_teams_one_tenant() -> None:
    dataset = generate_dataset(1729)
    acme = [item for item in dataset.integrations if item["type"] == "COMMS"][:2]
    assert [item["serviceProfile"]["name"] for item in acme] == ["slack", "microsoft_teams"]
    slack, teams = (dataset.tables["comms_organizations"][(item["id"],)] for item in acme)
    assert [org["login"] for org in slack] == ["acme-security", "acme-security-eng", "acme-security-gtm"]
    assert all(org["id"].startswith("T") and org["url"].endswith(".slack.com") for org in slack)
    (tenant,) = teams
    assert tenant["login"].endswith(".onmicrosoft.com")


async def test_slack_threads_are_sub_channels_of_their_channel(api: Api) -> None:
    _, _, channels = await channels_of(api)
    by_id = {channel["id"]: channel for channel in channels}
    threads = [channel for channel in channels if channel["parent"]]
    assert len(threads) >= 5 and len(channels) >= 20
    for thread in threads:
        parent = by_id[thread["parent"]["id"]]
        assert (parent["type"], parent["parent"]) == ("CHANNEL", None)
        assert thread["id"].startswith(parent["id"] + ".")
        assert thread["name"].startswith(parent["name"] + " thread: ")
    assert {channel["visibility"] for channel in channels} == {"PUBLIC", "PRIVATE"}
    assert "ARCHIVED" in {channel["state"] for channel in channels}


async def test_teams_channels_belong_to_their_team(api: Api) -> None:
    integration, path, channels = await channels_of(api, "microsoft_teams")
    teams = [channel for channel in channels if channel["type"] == "LIST"]
    assert len(teams) == 4 and all(team["parent"] is None for team in teams)
    for team in teams:
        reply = await api.get(path, integration=integration, params={"parentId": team["id"], "limit": "100"})
        children = reply.json["data"]
        assert children[0]["name"] == "General"
        assert all(child["type"] == "CHANNEL" and child["parent"]["id"] == team["id"] for child in children)
        assert all(
            child["id"].startswith("19:") and child["id"].endswith("@thread.tacv2") for child in children
        )
    assert sum(1 for channel in channels if channel["type"] == "CHANNEL") == len(channels) - len(teams)


async def test_parent_id_of_a_channel_without_threads_lists_nothing(api: Api) -> None:
    integration, path, channels = await channels_of(api)
    lonely = next(
        c
        for c in channels
        if not c["parent"]
        and not any(o["parent"] for o in channels if o["parent"] and o["parent"]["id"] == c["id"])
    )
    reply = await api.get(path, integration=integration, params={"parentId": lonely["id"]})
    assert reply.json["data"] == [] and reply.json["pagination"]["total"] == 0


async def test_channels_show_their_activity_and_sort_by_it(api: Api) -> None:
    integration, path, _ = await channels_of(api)
    reply = await api.get(
        path, integration=integration, params={"sort": "-lastMessageDateTime", "limit": "5"}
    )
    newest = reply.json["data"]
    assert all(channel["messageCount"] >= 1 for channel in newest)
    stamps = [channel["lastMessageDateTime"] for channel in newest]
    assert stamps == sorted(stamps, reverse=True)


# ---- posting messages -----------------------------------------------------------------------------------


async def test_a_posted_message_shows_in_the_channel(api: Api) -> None:
    integration, path, channels = await channels_of(api)
    channel = postable(channels)
    before = (await api.get(item(path, channel), integration=integration)).json
    body = {
        **MESSAGE,
        "attachments": [
            {
                "id": "a1",
                "title": "SEC-42",
                "titleLink": "https://tickets.example.com/SEC-42",
                "fields": [{"title": "Hosts", "value": "2", "short": True}],
            }
        ],
    }
    reply = await api.post(f"{item(path, channel)}/messages", integration=integration, json=body)
    assert reply.status == 201, reply.text
    message = reply.json
    assert (message["name"], message["messageBody"]) == (MESSAGE["name"], MESSAGE["messageBody"])
    assert message["attachments"] == body["attachments"]
    assert message["channel"] == {"id": channel["id"], "name": channel["name"]}
    assert message["url"] == f"{channel['url']}/p{message['id'].replace('.', '')}"
    assert message["author"]["lastName"] == "(API key)"
    after = (await api.get(item(path, channel), integration=integration)).json
    assert after["messageCount"] == before["messageCount"] + 1
    assert after["lastMessageDateTime"] == message["changeLog"]["createdDateTime"]


async def test_a_reply_in_a_thread_links_to_the_thread(api: Api) -> None:
    integration, path, channels = await channels_of(api)
    thread = next(channel for channel in channels if channel["parent"])
    reply = await api.post(f"{item(path, thread)}/messages", integration=integration, json=MESSAGE)
    assert reply.status == 201, reply.text
    parent = thread["parent"]["id"]
    assert reply.json["url"].endswith(f"?thread_ts={thread['id'].split('.', 1)[1]}&cid={parent}")


async def test_teams_messages_get_millisecond_ids(api: Api) -> None:
    integration, path, channels = await channels_of(api, "microsoft_teams")
    channel = next(c for c in channels if c["type"] == "CHANNEL" and c["state"] == "ACTIVE")
    reply = await api.post(f"{item(path, channel)}/messages", integration=integration, json=MESSAGE)
    assert reply.status == 201, reply.text
    assert reply.json["id"].isdigit() and len(reply.json["id"]) == 13
    assert reply.json["url"] == f"https://teams.microsoft.com/l/message/{channel['id']}/{reply.json['id']}"


def with_attachments(*attachments: Any) -> dict[str, Any]:
    return {"messageBody": "x", "attachments": list(attachments)}


@pytest.mark.parametrize(
    ("body", "property"),
    [
        ({"name": "x"}, "messageBody"),
        ({"messageBody": "  "}, "messageBody"),
        ({"messageBody": "x", "text": "y"}, "text"),
        ({"messageBody": "x", "attachments": {"id": "a"}}, "attachments"),
        (with_attachments({"title": "t"}), "attachments[0].id"),
        (with_attachments({"id": "a", "titleLink": "not a url"}), "attachments[0].titleLink"),
        (with_attachments({"id": "a", "fields": [{"title": "t"}]}), "attachments[0].fields[0].value"),
        (
            with_attachments({"id": "a", "fields": [{"title": "t", "value": "v", "short": "y"}]}),
            "attachments[0].fields[0].short",
        ),
        (with_attachments({"id": "a"}, {"id": "a"}), "attachments[1].id"),
    ],
)
async def test_message_validation_names_the_property(api: Api, body: dict[str, Any], property: str) -> None:
    integration, path, channels = await channels_of(api)
    reply = await api.post(f"{item(path, postable(channels))}/messages", integration=integration, json=body)
    assert reply.status == 400, reply.text
    assert (reply.error["errorCode"], reply.error["property"]) == ("AP-4000001", property)


async def test_teams_and_archived_channels_take_no_messages(api: Api) -> None:
    integration, path, channels = await channels_of(api, "microsoft_teams")
    team = next(c for c in channels if c["type"] == "LIST")
    archived = next(c for c in channels if c["state"] == "ARCHIVED")
    for channel, says in ((team, "is a team"), (archived, "is archived")):
        reply = await api.post(f"{item(path, channel)}/messages", integration=integration, json=MESSAGE)
        assert (reply.status, reply.error["property"]) == (400, "channelId")
        assert says in reply.error["errorMessage"]


async def test_unknown_channel_and_readonly_key_are_refused(api: Api) -> None:
    integration, path, channels = await channels_of(api)
    missing = await api.post(f"{path}/C404/messages", integration=integration, json=MESSAGE)
    assert (missing.status, missing.error["errorMessage"]) == (404, "channel 'C404' was not found")
    target = f"{item(path, postable(channels))}/messages"
    refused = await api.post(target, role="readonly", integration=integration, json=MESSAGE)
    assert refused.status == 403 and "comms:write" in refused.error["errorMessage"]


async def test_a_posted_message_is_delivered_as_message_created(
    api: Api, webhook_receiver: WebhookReceiver
) -> None:
    hook = {
        "name": "t",
        "url": webhook_receiver.url + "/comms",
        "events": ["message:*"],
        "secret": "whsec_sandbox_test",
    }
    assert (await api.post("/api/v1/webhooks", json=hook)).status == 201
    integration, path, channels = await channels_of(api)
    posted = (
        await api.post(f"{item(path, postable(channels))}/messages", integration=integration, json=MESSAGE)
    ).json
    received = await webhook_receiver.next()
    assert received.headers["x-unizo-event-type"] == "message:created"
    assert received.payload["integration"] == {
        **received.payload["integration"],
        "id": integration,
        "type": "COMMS",
    }
    assert received.payload["data"]["id"] == posted["id"]


async def test_posted_messages_survive_a_restart(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        async with open_client(handle) as api:
            integration, path, channels = await channels_of(api)
            channel = postable(channels)
            count = (await api.get(item(path, channel), integration=integration)).json["messageCount"]
            await api.post(f"{item(path, channel)}/messages", integration=integration, json=MESSAGE)
        handle.restart()
        async with open_client(handle) as api:
            after = (await api.get(item(path, channel), integration=integration)).json
            assert after["messageCount"] == count + 1
