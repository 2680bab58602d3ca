"""The sandbox's ticketing emulation: seeded data, ticket writes (bulk, link, update), comments, attachments,
labels, their validation, the webhook events they emit, and persistence across a restart.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox): fixtures `sandbox`, `sandbox_client`,
`webhook_receiver`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.services import ticketing
from unizo_mcp_sandbox.testclient import SandboxClient, WebhookReceiver
from unizo_mcp_sandbox.testclient import sandbox_client as open_client
from unizo_mcp_sandbox.testing import SandboxHandle, start_sandbox

Api = SandboxClient
TICKETING = "/api/v1/ticketing"
NEW_TICKET = {
    "name": "Investigate beaconing from ACME-LT-0042",
    "description": "Periodic HTTPS to a rare domain every 60 s.",
    "type": "security",
    "priority": "high",
    "labels": ["triage", "malware"],
    "dueDate": "2026-12-15",
    "metadata": {"source": "sandbox-test"},
}
NEW_TICKET_BODY = {"name": "Sandbox test ticket", "description": "Created by a test.", "type": "task"}


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


async def ticket_scope(api: Api, connector: str = "jira") -> tuple[str, str]:
    """(integration id, tickets path) of the first collection of the first organization."""
    integration = api.integration("ticketing", connector)
    organization = await api.first(f"{TICKETING}/organizations", integration)
    collection = await api.first(f"{TICKETING}/{organization['id']}/collections", integration)
    return integration, f"{TICKETING}/{organization['id']}/collections/{collection['id']}/tickets"


# ---- seeded data ----------------------------------------------------------------------------------------


def test_every_kind_of_record_is_seeded_with_vendor_like_keys() -> None:
    dataset = generate_dataset(1729)
    acme = [
        item
        for item in dataset.integrations
        if item["type"] == "TICKETING"
        and item["organization"]["id"] == dataset.integrations[0]["organization"]["id"]
    ]
    assert [item["serviceProfile"]["name"] for item in acme] == ["jira", "github"]
    for kind in (
        "ticketing_organizations", "collections", "users", "tickets", "comments", "attachments", "labels",
    ):  # fmt: skip
        for integration in acme:
            rows = [
                r for scope, rs in dataset.tables[kind].items() if scope[0] == integration["id"] for r in rs
            ]
            assert rows, kind
    keys = [
        ticket["key"]
        for item in acme
        for scope, rows in dataset.tables["tickets"].items()
        if scope[0] == item["id"]
        for ticket in rows
    ]
    assert any(re.fullmatch(r"[A-Z]+-\d+", key) for key in keys)
    assert any(re.fullmatch(r"#\d+", key) for key in keys)
    users = [r for scope, rs in dataset.tables["users"].items() if scope[0] == acme[0]["id"] for r in rs]
    assert len(users) == ticketing.USERS_PER_INTEGRATION


async def test_collections_carry_ticket_statistics(api: Api) -> None:
    integration, tickets = await ticket_scope(api)
    collection_path = tickets.removesuffix("/tickets")
    collection = (await api.get(collection_path, integration=integration)).json
    total = (await api.get(tickets, integration=integration)).json["pagination"]["total"]
    statistics = collection["statistics"]
    assert statistics["totalTickets"] == total
    assert statistics["openTickets"] + statistics["completedTickets"] == total
    assert (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).status == 201
    after = (await api.get(collection_path, integration=integration)).json["statistics"]
    assert (after["totalTickets"], after["openTickets"]) == (total + 1, statistics["openTickets"] + 1)


async def test_organizations_are_matched_before_collections(api: Api) -> None:
    """/ticketing/organizations/{id} is declared before /ticketing/{organizationId}/collections."""
    integration = api.integration("ticketing")
    reply = await api.get(f"{TICKETING}/organizations/collections", integration=integration)
    assert reply.error["errorMessage"] == "organization 'collections' was not found"


# ---- writes ---------------------------------------------------------------------------------------------


async def test_readonly_cannot_write_tickets(api: Api) -> None:
    integration, tickets = await ticket_scope(api)
    body = {"name": "x", "description": "y", "type": "bug"}
    reply = await api.post(tickets, role="readonly", integration=integration, json=body)
    assert reply.status == 403
    assert "ticketing:write" in reply.error["errorMessage"]
    assert (await api.post(tickets, integration=integration, json=body)).status == 201


async def create_ticket(
    api: Api, body: dict[str, Any] | None = None, connector: str = "jira"
) -> tuple[str, str, dict]:
    integration, tickets = await ticket_scope(api, connector)
    reply = await api.post(tickets, integration=integration, json=body or NEW_TICKET)
    assert reply.status == 201, reply.text
    return integration, tickets, reply.json


async def test_created_ticket_is_readable_listed_and_saved(api: Api) -> None:
    integration, tickets, ticket = await create_ticket(api)
    assert ticket["status"] == "open"
    assert ticket["labels"] == ["triage", "malware"]
    assert ticket["key"].split("-")[0].isupper()
    fetched = await api.get(f"{tickets}/{ticket['id']}", integration=integration)
    assert fetched.json == ticket
    listed = await api.get(tickets, integration=integration, params={"limit": "100"})
    assert ticket["id"] in [item["id"] for item in listed.json["data"]]
    labels = await api.get(f"{tickets}/{ticket['id']}/labels", integration=integration)
    assert sorted(label["name"] for label in labels.json["data"]) == ["malware", "triage"]
    api.sandbox.save_state()
    state = json.loads((api.sandbox.state_dir / "state.json").read_text())
    saved = [
        record["id"]
        for entry in state["records"]
        if entry["kind"] == "tickets"
        for record in entry["created"]
    ]
    assert ticket["id"] in saved


async def test_github_tickets_get_issue_style_keys(api: Api) -> None:
    _, _, ticket = await create_ticket(api, connector="github")
    assert ticket["key"].startswith("#")
    assert ticket["targetUrl"].endswith("/issues/" + ticket["key"][1:])


async def test_ticket_update_changes_what_later_reads_see(api: Api) -> None:
    integration, tickets, ticket = await create_ticket(api)
    users = await api.get(f"{TICKETING}/users", integration=integration, params={"limit": "2"})
    assignee = users.json["data"][0]["id"]
    update = {"status": "in_progress", "assigneeIds": [assignee], "labels": ["triage", "phishing"]}
    reply = await api.put(f"{tickets}/{ticket['id']}", integration=integration, json=update)
    assert reply.status == 200, reply.text
    fetched = (await api.get(f"{tickets}/{ticket['id']}", integration=integration)).json
    assert fetched["status"] == "in_progress"
    assert [user["id"] for user in fetched["assignees"]] == [assignee]
    assert fetched["changeLog"]["lastUpdatedDateTime"] >= ticket["changeLog"]["lastUpdatedDateTime"]
    labels = await api.get(f"{tickets}/{ticket['id']}/labels", integration=integration)
    assert sorted(label["name"] for label in labels.json["data"]) == ["phishing", "triage"]


async def test_seeded_ticket_update_survives_in_lists(api: Api) -> None:
    integration, tickets = await ticket_scope(api)
    seeded = await api.first(tickets, integration)
    reply = await api.put(
        f"{tickets}/{seeded['id']}", integration=integration, json={"name": "Renamed by test"}
    )
    assert reply.status == 200
    listed = await api.get(tickets, integration=integration, params={"limit": "1"})
    assert listed.json["data"][0]["name"] == "Renamed by test"
    api.sandbox.reset()
    listed = await api.get(tickets, integration=integration, params={"limit": "1"})
    assert listed.json["data"][0]["name"] == seeded["name"]


@pytest.mark.parametrize(
    ("change", "property"),
    [
        ({"name": None}, "name"),
        ({"description": None}, "description"),
        ({"type": "epic"}, "type"),
        ({"priority": "urgent"}, "priority"),
        ({"dueDate": "next week"}, "dueDate"),
        ({"labels": "triage"}, "labels"),
        ({"labels": ["ok", 3]}, "labels[1]"),
        ({"metadata": {"a": 1}}, "metadata.a"),
        ({"assigneeIds": ["nobody"]}, "assigneeIds[0]"),
        ({"assignee_ids": []}, "assignee_ids"),
        ({"name": "   "}, "name"),
    ],
)
async def test_ticket_body_validation_names_the_property(
    api: Api, change: dict[str, Any], property: str
) -> None:
    integration, tickets = await ticket_scope(api)
    body = {key: value for key, value in {**NEW_TICKET, **change}.items() if value is not None}
    reply = await api.post(tickets, integration=integration, json=body)
    assert reply.status == 400, reply.text
    assert reply.error["errorCode"] == "AP-4000001"
    assert reply.error["property"] == property


async def test_non_json_ticket_bodies_are_refused(api: Api) -> None:
    integration, tickets = await ticket_scope(api)
    for data in (b"{not json", b"", b"[1, 2]"):
        reply = await api.post(
            tickets, integration=integration, data=data, headers={"Content-Type": "application/json"}
        )
        assert reply.status == 400
        assert reply.error["property"] == "body"


async def test_bulk_creates_all_or_nothing(api: Api) -> None:
    integration, tickets = await ticket_scope(api)
    before = (await api.get(tickets, integration=integration)).json["pagination"]["total"]
    bad = {"tickets": [NEW_TICKET, {**NEW_TICKET, "type": "nope"}], "notify": False}
    refused = await api.post(f"{tickets}/bulk", integration=integration, json=bad)
    assert refused.status == 400
    assert refused.error["property"] == "tickets[1].type"
    assert (await api.get(tickets, integration=integration)).json["pagination"]["total"] == before
    good = {"tickets": [{**NEW_TICKET, "name": f"bulk {index}"} for index in range(3)]}
    created = await api.post(f"{tickets}/bulk", integration=integration, json=good)
    assert created.status == 201
    assert [ticket["name"] for ticket in created.json["data"]] == ["bulk 0", "bulk 1", "bulk 2"]
    assert len({ticket["key"] for ticket in created.json["data"]}) == 3
    assert (await api.get(tickets, integration=integration)).json["pagination"]["total"] == before + 3
    empty = await api.post(f"{tickets}/bulk", integration=integration, json={"tickets": []})
    assert empty.error["property"] == "tickets"


async def test_link_shows_on_both_tickets(api: Api) -> None:
    integration, tickets, first = await create_ticket(api)
    _, _, second = await create_ticket(api)
    body = {
        "sourceTicketId": first["id"],
        "targetTicketId": second["id"],
        "linkType": "blocks",
        "comment": "order",
    }
    link = await api.post(f"{tickets}/link", integration=integration, json=body)
    assert link.status == 201, link.text
    source = (await api.get(f"{tickets}/{first['id']}", integration=integration)).json
    target = (await api.get(f"{tickets}/{second['id']}", integration=integration)).json
    assert [(entry["direction"], entry["ticket"]["id"]) for entry in source["links"]] == [
        ("outward", second["id"])
    ]
    assert [(entry["direction"], entry["ticket"]["id"]) for entry in target["links"]] == [
        ("inward", first["id"])
    ]
    missing = await api.post(
        f"{tickets}/link", integration=integration, json={**body, "targetTicketId": "999999"}
    )
    assert (missing.status, missing.error["errorCode"]) == (404, "AP-4040001")
    to_itself = await api.post(
        f"{tickets}/link", integration=integration, json={**body, "targetTicketId": first["id"]}
    )
    assert to_itself.error["property"] == "targetTicketId"


async def test_comments_resolve_authors_and_attachments(api: Api) -> None:
    integration, tickets, ticket = await create_ticket(api)
    comments = f"{tickets}/{ticket['id']}/comments"
    users = (await api.get(f"{TICKETING}/users", integration=integration)).json["data"]
    body = {
        "content": "Looking into it",
        "authorId": users[0]["id"],
        "mentions": [users[1]["id"]],
        "isInternal": True,
    }
    created = await api.post(comments, integration=integration, json=body)
    assert created.status == 201, created.text
    comment = created.json
    assert comment["author"]["id"] == users[0]["id"]
    assert comment["mentions"] == [users[1]["id"]]
    assert (await api.get(f"{comments}/{comment['id']}", integration=integration)).json == comment
    assert [item["id"] for item in (await api.get(comments, integration=integration)).json["data"]] == [
        comment["id"]
    ]
    bad_author = await api.post(comments, integration=integration, json={"content": "x", "authorId": "ghost"})
    assert bad_author.error["property"] == "authorId[0]"
    bad_attachment = await api.post(
        comments, integration=integration, json={"content": "x", "attachmentIds": ["1"]}
    )
    assert bad_attachment.error["property"] == "attachmentIds[0]"
    empty = await api.post(comments, integration=integration, json={"content": ""})
    assert empty.error["property"] == "content"


async def test_attachment_upload_keeps_name_size_type_and_content(api: Api) -> None:
    integration, tickets, ticket = await create_ticket(api)
    attachments = f"{tickets}/{ticket['id']}/attachments"
    content = b"%PDF-1.7 pretend report\n" * 40
    form = aiohttp.FormData()
    form.add_field("file", content, filename="upload.bin", content_type="application/octet-stream")
    form.add_field("fileName", "breach-report.pdf")
    form.add_field("mimeType", "application/pdf")
    form.add_field("description", "Timeline")
    form.add_field("fileSize", str(len(content)))
    created = await api.post(attachments, integration=integration, data=form)
    assert created.status == 201, created.text
    attachment = created.json
    assert (
        attachment["fileName"],
        attachment["fileSize"],
        attachment["mimeType"],
        attachment["description"],
    ) == (
        "breach-report.pdf",
        len(content),
        "application/pdf",
        "Timeline",
    )
    assert (await api.get(f"{attachments}/{attachment['id']}", integration=integration)).json == attachment
    async with api.session.get(attachment["downloadUrl"]) as download:
        assert download.status == 200
        assert await download.read() == content
    comment = await api.post(
        f"{tickets}/{ticket['id']}/comments",
        integration=integration,
        json={"content": "see file", "attachmentIds": [attachment["id"]]},
    )
    assert comment.json["attachments"] == [{"id": attachment["id"], "fileName": "breach-report.pdf"}]


async def test_attachment_upload_validation(api: Api) -> None:
    integration, tickets, ticket = await create_ticket(api)
    attachments = f"{tickets}/{ticket['id']}/attachments"
    not_multipart = await api.post(attachments, integration=integration, json={"fileName": "x"})
    assert not_multipart.error["property"] == "file"
    no_file = aiohttp.FormData()
    no_file.add_field("fileName", "x.txt")
    assert (await api.post(attachments, integration=integration, data=no_file)).error["property"] == "file"
    wrong_size = aiohttp.FormData()
    wrong_size.add_field("file", b"abc", filename="a.txt")
    wrong_size.add_field("fileSize", "4")
    assert (await api.post(attachments, integration=integration, data=wrong_size)).error[
        "property"
    ] == "fileSize"
    bad_type = aiohttp.FormData()
    bad_type.add_field("file", b"abc", filename="a.txt")
    bad_type.add_field("mimeType", "not a type")
    assert (await api.post(attachments, integration=integration, data=bad_type)).error[
        "property"
    ] == "mimeType"


async def test_labels_are_added_once_with_valid_colors(api: Api) -> None:
    integration, tickets, ticket = await create_ticket(api)
    labels = f"{tickets}/{ticket['id']}/labels"
    created = await api.post(
        labels, integration=integration, json={"name": "vip", "color": "#1D76DB", "category": "impact"}
    )
    assert created.status == 201, created.text
    assert (created.json["name"], created.json["color"]) == ("vip", "#1D76DB")
    fetched = (await api.get(f"{tickets}/{ticket['id']}", integration=integration)).json
    assert fetched["labels"] == ["triage", "malware", "vip"]
    duplicate = await api.post(labels, integration=integration, json={"name": "vip"})
    assert duplicate.error["property"] == "name"
    bad_color = await api.post(labels, integration=integration, json={"name": "red", "color": "red"})
    assert bad_color.error["property"] == "color"


async def test_odd_but_valid_json_is_stored_in_tickets(api: Api) -> None:
    integration, tickets = await ticket_scope(api)
    body = b'{"name": "lone \\ud800 surrogate \\u00e9", "description": "nul \\u0000 byte", "type": "bug"}'
    headers = {"Content-Type": "application/json"}
    created = await api.post(tickets, integration=integration, data=body, headers=headers)
    assert created.status == 201, created.text
    fetched = (await api.get(f"{tickets}/{created.json['id']}", integration=integration)).json
    assert (fetched["name"], fetched["description"]) == ("lone \ud800 surrogate é", "nul \x00 byte")
    deep = await api.post(
        tickets, integration=integration, data=b"[" * 100_000 + b"]" * 100_000, headers=headers
    )
    assert (deep.status, deep.error["property"]) == (400, "body")


# ---- webhook events -------------------------------------------------------------------------------------


async def register(api: Api, url: str, events: list[str]) -> None:
    body = {"name": "test", "url": url, "events": events, "secret": "whsec_sandbox_test_secret"}
    assert (await api.post("/api/v1/webhooks", json=body)).status == 201


async def test_ticket_creation_and_update_are_delivered(api: Api, webhook_receiver: WebhookReceiver) -> None:
    await register(api, webhook_receiver.url + "/tickets", ["ticket:*"])
    integration, tickets = await ticket_scope(api)
    ticket = (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).json
    received = await webhook_receiver.next()
    assert received.headers["x-unizo-event-type"] == "ticket:created"
    payload = received.payload
    assert (payload["type"], payload["integration"]["id"]) == ("ticket:created", integration)
    assert payload["integration"]["type"] == "TICKETING"
    assert payload["data"]["id"] == ticket["id"]
    await api.put(f"{tickets}/{ticket['id']}", integration=integration, json={"status": "resolved"})
    updated = await webhook_receiver.next()
    assert updated.payload["type"] == "ticket:updated"
    assert updated.payload["data"]["status"] == "resolved"


async def test_each_write_emits_its_event(api: Api, webhook_receiver: WebhookReceiver) -> None:
    await register(api, webhook_receiver.url + "/all", ["*"])
    integration, tickets = await ticket_scope(api)
    first = (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).json
    second = (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).json
    path = f"{tickets}/{first['id']}"
    await api.post(f"{path}/comments", integration=integration, json={"content": "hello"})
    form = aiohttp.FormData()
    form.add_field("file", b"evidence", filename="evidence.txt")
    await api.post(f"{path}/attachments", integration=integration, data=form)
    await api.post(f"{path}/labels", integration=integration, json={"name": "vip"})
    link = {"sourceTicketId": first["id"], "targetTicketId": second["id"], "linkType": "blocks"}
    await api.post(f"{tickets}/link", integration=integration, json=link)
    got = sorted(
        [(await webhook_receiver.next()).payload["type"] for _ in range(6)]
    )  # delivered concurrently
    assert got == sorted([
        "ticket:created", "ticket:created", "comment:created", "attachment:created", "label:created",
        "link:created",
    ])  # fmt: skip
    assert set(got) | {"ticket:updated"} == set(ticketing.SERVICE.events)


# ---- persistence ----------------------------------------------------------------------------------------


async def test_created_and_updated_tickets_survive_a_restart(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        async with open_client(handle) as api:
            integration, tickets = await ticket_scope(api)
            ticket = (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).json
            await api.put(f"{tickets}/{ticket['id']}", integration=integration, json={"status": "closed"})
        handle.restart()
        async with open_client(handle) as api:
            fetched = await api.get(f"{tickets}/{ticket['id']}", integration=integration)
            assert (fetched.status, fetched.json["status"]) == (200, "closed")
        handle.reset()
        async with open_client(handle) as api:
            assert (await api.get(f"{tickets}/{ticket['id']}", integration=integration)).status == 404


async def test_a_write_lost_on_the_way_back_still_happens_once(sandbox: SandboxHandle) -> None:
    async with open_client(sandbox, force_close=True) as api:
        integration, tickets = await ticket_scope(api)
        before = (await api.get(tickets, integration=integration)).json["pagination"]["total"]
        sandbox.set_faults("POST */tickets=drop_after#1")
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)
        assert (await api.get(tickets, integration=integration)).json["pagination"]["total"] == before + 1
