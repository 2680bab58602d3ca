"""Webhook registrations and signed deliveries to a local receiver, retried when the receiver fails.

Events are raised in-process (`SandboxHandle.emit_event`), as a service's write raises them; each
service's own tests check which of its writes emit which event.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from typing import Any

import pytest
from unizo_mcp_core.webhooks import verify_webhook
from unizo_mcp_sandbox.services import events
from unizo_mcp_sandbox.testclient import Delivery, WebhookReceiver

from .support import SHARED, WEBHOOKS, Api

SECRET = "whsec_sandbox_test_secret"
EVENTS = events()
NOUN = EVENTS[0].split(":", 1)[0]
# an event of another noun than EVENTS[0], so that `NOUN:*` does not match it
OTHER = next(event for event in EVENTS if not event.startswith(NOUN + ":"))


def check_signature(received: Delivery) -> None:
    timestamp = received.headers["x-unizo-timestamp"]
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(received.headers["x-unizo-signature"], "v1=" + expected)
    assert abs(int(timestamp) - time.time()) < 60
    verify_webhook(SECRET, received.body, received.headers)


async def register(api: Api, url: str, events: list[str], role: str = "full") -> dict[str, Any]:
    body = {"name": "test", "url": url, "events": events, "secret": SECRET}
    reply = await api.post(WEBHOOKS, role=role, json=body)
    assert reply.status == 201, reply.text
    return reply.json


def test_services_declare_events_of_at_least_two_kinds() -> None:
    assert len({event.split(":", 1)[0] for event in EVENTS}) >= 2


async def test_an_event_is_delivered_signed(api: Api, webhook_receiver: WebhookReceiver) -> None:
    hook = await register(api, webhook_receiver.url + "/signed", [f"{NOUN}:*"])
    assert "secret" not in hook
    integration = api.sandbox.integrations(SHARED.name)[0]
    api.sandbox.emit_event(EVENTS[0], integration["id"], {"id": "record-1"})
    received = await webhook_receiver.next()
    check_signature(received)
    assert received.headers["x-unizo-event-type"] == EVENTS[0]
    assert received.headers["Content-Type"] == "application/json"
    payload = received.payload
    assert payload["id"] == received.headers["x-unizo-delivery-id"]
    assert payload["type"] == EVENTS[0]
    assert payload["integration"] == {
        "id": integration["id"], "type": SHARED.category, "name": integration["name"],
    }  # fmt: skip
    assert payload["data"] == {"id": "record-1"}
    assert payload["createdAt"].endswith("Z")


async def test_only_subscribed_events_are_delivered(api: Api, webhook_receiver: WebhookReceiver) -> None:
    await register(api, webhook_receiver.url + "/one", [EVENTS[0]])
    await register(api, webhook_receiver.url + "/everything", ["*"])
    await register(api, webhook_receiver.url + "/noun", [f"{NOUN}:*"])
    integration = api.integration(SHARED.name)
    api.sandbox.emit_event(EVENTS[0], integration, {"id": "1"})
    api.sandbox.emit_event(OTHER, integration, {"id": "2"})
    got = [await webhook_receiver.next() for _ in range(4)]
    routes = sorted((item.payload["type"], item.headers["x-unizo-event-type"]) for item in got)
    assert routes == sorted([(EVENTS[0],) * 2] * 3 + [(OTHER,) * 2])
    await asyncio.sleep(0.2)
    assert webhook_receiver.deliveries.empty()


async def test_failed_deliveries_are_retried_with_the_same_id(
    api: Api, webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.failures_left = 2
    hook = await register(api, webhook_receiver.url + "/flaky", [EVENTS[0]])
    api.sandbox.emit_event(EVENTS[0], api.integration(SHARED.name), {"id": "1"})
    attempts = [await webhook_receiver.next() for _ in range(3)]
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


async def test_an_unreachable_receiver_is_given_up_after_four_attempts(api: Api) -> None:
    hook = await register(api, "http://127.0.0.1:9/nobody", [EVENTS[0]])
    api.sandbox.emit_event(EVENTS[0], api.integration(SHARED.name), {"id": "1"})
    for _ in range(200):
        deliveries = api.sandbox.deliveries()
        if deliveries:
            break
        await asyncio.sleep(0.05)
    [delivery] = deliveries
    assert (delivery.webhook_id, delivery.attempts, delivery.delivered) == (hook["id"], 4, False)
    assert delivery.response_status is None and delivery.error


async def test_other_organizations_hooks_do_not_hear_acme_events(
    api: Api, webhook_receiver: WebhookReceiver
) -> None:
    await register(api, webhook_receiver.url + "/beta", ["*"], role="service_disabled")
    api.sandbox.emit_event(EVENTS[0], api.integration(SHARED.name), {"id": "1"})
    await asyncio.sleep(0.3)
    assert webhook_receiver.deliveries.empty()
    beta_integration = api.integration(SHARED.name, role="service_disabled")
    api.sandbox.emit_event(EVENTS[0], beta_integration, {"id": "2"})
    assert (await webhook_receiver.next()).payload["integration"]["id"] == beta_integration


@pytest.mark.parametrize(
    ("change", "property"),
    [
        ({"url": "https://example.com/hook"}, "url"),
        ({"url": "http://10.0.0.5/hook"}, "url"),
        ({"url": "ftp://127.0.0.1/hook"}, "url"),
        ({"events": [f"{NOUN}:exploded"]}, "events[0]"),
        ({"events": ["nothing:*"]}, "events[0]"),
        ({"events": []}, "events"),
        ({"secret": "short"}, "secret"),
        ({"secret": None}, "secret"),
    ],
)
async def test_registration_is_validated(api: Api, change: dict[str, Any], property: str) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": SECRET, **change}
    reply = await api.post(WEBHOOKS, json={key: value for key, value in body.items() if value is not None})
    assert reply.status == 400
    assert reply.error["property"] == property


async def test_every_declared_event_and_noun_pattern_can_be_subscribed(api: Api) -> None:
    patterns = sorted({*EVENTS, *(event.split(":", 1)[0] + ":*" for event in EVENTS), "*"})
    hook = await register(api, "http://127.0.0.1:9/all", patterns)
    assert hook["events"] == patterns


async def test_webhooks_can_be_listed_described_and_deleted(api: Api) -> None:
    hook = await register(api, "http://localhost:9/hook", [f"{NOUN}:*", OTHER])
    assert (await api.get(f"{WEBHOOKS}/{hook['id']}")).json == hook
    listed = await api.get(WEBHOOKS)
    assert [item["id"] for item in listed.json["data"]] == [hook["id"]]
    assert (await api.get(WEBHOOKS, role="service_disabled")).json["data"] == []
    assert (await api.get(f"{WEBHOOKS}/{hook['id']}", role="service_disabled")).status == 404
    assert (await api.delete(f"{WEBHOOKS}/{hook['id']}", role="readonly")).status == 403
    assert (await api.delete(f"{WEBHOOKS}/{hook['id']}")).status == 204
    assert (await api.get(f"{WEBHOOKS}/{hook['id']}")).status == 404
