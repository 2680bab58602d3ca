"""Webhook registrations and signed deliveries to a local receiver, retried when the receiver fails."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import attrs
import pytest
from aiohttp import web

from .support import NEW_TICKET_BODY, Api

SECRET = "whsec_sandbox_test_secret"

try:  # the core library's verifier, when it is installed next to the sandbox
    from unizo_mcp_core.webhooks import verify_webhook
except ImportError:  # pragma: no cover
    verify_webhook = None


@attrs.frozen
class Received:
    headers: Mapping[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)


class Receiver:
    """A plain-HTTP endpoint on loopback that records deliveries and can fail the first few."""

    def __init__(self) -> None:
        self.deliveries: asyncio.Queue[Received] = asyncio.Queue()
        self.failures_left = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        received = Received(dict(request.headers), await request.read())
        if self.failures_left:
            self.failures_left -= 1
            await self.deliveries.put(received)
            return web.Response(status=500)
        await self.deliveries.put(received)
        return web.Response(status=204)

    async def next(self, timeout: float = 10.0) -> Received:
        return await asyncio.wait_for(self.deliveries.get(), timeout)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/{name}", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks"
    yield receiver
    await runner.cleanup()


def check_signature(received: Received) -> None:
    timestamp = received.headers["x-unizo-timestamp"]
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(received.headers["x-unizo-signature"], "v1=" + expected)
    assert abs(int(timestamp) - time.time()) < 60
    if verify_webhook is not None:
        verify_webhook(SECRET, received.body, received.headers)


async def register(api: Api, url: str, events: list[str]) -> dict[str, Any]:
    reply = await api.post(
        "/api/v1/webhooks", json={"name": "test", "url": url, "events": events, "secret": SECRET}
    )
    assert reply.status == 201, reply.text
    return reply.json


async def test_ticket_creation_is_delivered_signed(api: Api, receiver: Receiver) -> None:
    hook = await register(api, receiver.url + "/tickets", ["ticket:*"])
    assert "secret" not in hook
    integration, tickets = await api.ticket_scope()
    ticket = (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).json
    received = await receiver.next()
    check_signature(received)
    assert received.headers["x-unizo-event-type"] == "ticket:created"
    assert received.headers["Content-Type"] == "application/json"
    payload = received.payload
    assert payload["id"] == received.headers["x-unizo-delivery-id"]
    assert payload["type"] == "ticket:created"
    assert payload["integration"]["id"] == integration
    assert payload["integration"]["type"] == "TICKETING"
    assert payload["data"]["id"] == ticket["id"]
    await api.put(f"{tickets}/{ticket['id']}", integration=integration, json={"status": "resolved"})
    updated = await receiver.next()
    assert updated.payload["type"] == "ticket:updated"
    assert updated.payload["data"]["status"] == "resolved"


async def test_only_subscribed_events_are_delivered(api: Api, receiver: Receiver) -> None:
    await register(api, receiver.url + "/comments", ["comment:created"])
    await register(api, receiver.url + "/everything", ["*"])
    integration, tickets = await api.ticket_scope()
    ticket = (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).json
    await api.post(f"{tickets}/{ticket['id']}/comments", integration=integration, json={"content": "hello"})
    got = [await receiver.next() for _ in range(3)]
    routes = sorted((item.payload["type"], item.headers["x-unizo-event-type"]) for item in got)
    assert routes == [("comment:created",) * 2, ("comment:created",) * 2, ("ticket:created",) * 2]
    await asyncio.sleep(0.2)
    assert receiver.deliveries.empty()


async def test_pull_request_events(api: Api, receiver: Receiver) -> None:
    await register(api, receiver.url + "/scm", ["pull_request:*"])
    integration, repository = await api.repository_path()
    branches = (await api.get(f"{repository}/branches", integration=integration)).json["data"]
    source = next(branch["name"] for branch in branches if branch["name"] != "main")
    body = {"title": "Webhook test", "source": source, "target": "main"}
    pull = (await api.post(f"{repository}/pullRequests", integration=integration, json=body)).json
    received = await receiver.next()
    check_signature(received)
    assert received.payload["type"] == "pull_request:created"
    assert received.payload["data"]["id"] == pull["id"]
    assert received.payload["data"]["repository"]["id"] == repository.rsplit("/", 1)[1]


async def test_failed_deliveries_are_retried_with_the_same_id(api: Api, receiver: Receiver) -> None:
    receiver.failures_left = 2
    hook = await register(api, receiver.url + "/flaky", ["ticket:created"])
    integration, tickets = await api.ticket_scope()
    assert (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).status == 201
    attempts = [await receiver.next() for _ in range(3)]
    assert len({item.headers["x-unizo-delivery-id"] for item in attempts}) == 1
    for item in attempts:
        check_signature(item)
    for _ in range(50):
        deliveries = api.sandbox.deliveries()
        if deliveries:
            break
        await asyncio.sleep(0.02)
    assert [
        (item.webhook_id, item.attempts, item.delivered, item.response_status) for item in deliveries
    ] == [(hook["id"], 3, True, 204)]


async def test_other_organizations_hooks_do_not_hear_acme_events(api: Api, receiver: Receiver) -> None:
    reply = await api.post(
        "/api/v1/webhooks",
        role="service_disabled",
        json={"url": receiver.url + "/beta", "events": ["*"], "secret": SECRET},
    )
    assert reply.status == 201
    integration, tickets = await api.ticket_scope()
    assert (await api.post(tickets, integration=integration, json=NEW_TICKET_BODY)).status == 201
    await asyncio.sleep(0.3)
    assert receiver.deliveries.empty()


@pytest.mark.parametrize(
    ("change", "property"),
    [
        ({"url": "https://example.com/hook"}, "url"),
        ({"url": "http://10.0.0.5/hook"}, "url"),
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"events": ["ticket:exploded"]}, "events[0]"),
        ({"events": []}, "events"),
        ({"secret": "short"}, "secret"),
        ({"secret": None}, "secret"),
    ],
)
async def test_registration_is_validated(api: Api, change: dict[str, Any], property: str) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": SECRET, **change}
    reply = await api.post(
        "/api/v1/webhooks", json={key: value for key, value in body.items() if value is not None}
    )
    assert reply.status == 400
    assert reply.error["property"] == property


async def test_webhooks_can_be_listed_described_and_deleted(api: Api) -> None:
    hook = await register(api, "http://localhost:9/hook", ["ticket:*", "comment:created"])
    assert (await api.get(f"/api/v1/webhooks/{hook['id']}")).json == hook
    listed = await api.get("/api/v1/webhooks")
    assert [item["id"] for item in listed.json["data"]] == [hook["id"]]
    assert (await api.get("/api/v1/webhooks", role="service_disabled")).json["data"] == []
    assert (await api.get(f"/api/v1/webhooks/{hook['id']}", role="service_disabled")).status == 404
    assert (await api.call("DELETE", f"/api/v1/webhooks/{hook['id']}", role="readonly")).status == 403
    assert (await api.call("DELETE", f"/api/v1/webhooks/{hook['id']}")).status == 204
    assert (await api.get(f"/api/v1/webhooks/{hook['id']}")).status == 404
