"""Webhook registrations and signed deliveries to loopback URLs, retried in the background.

The account-level API over them (`/api/v1/webhooks`, the `platform` scope) is in `services/platform.py`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import time
import uuid
from collections import deque
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import attrs

from unizo_mcp_sandbox.services import events
from unizo_mcp_sandbox.timeutil import iso

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.2, 0.5, 1.0)  # after the first attempt; four attempts in all
ATTEMPT_TIMEOUT = 5.0
DELIVERY_LOG_SIZE = 1000


def event_pattern_valid(pattern: str) -> bool:
    """An event a service emits, `<noun>:*` for a noun of one, or `*`."""
    if pattern == "*" or pattern in events():
        return True
    noun, _, verb = pattern.partition(":")
    return verb == "*" and any(event.startswith(noun + ":") for event in events())


def is_loopback_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` + hex HMAC-SHA256 over `"{timestamp}.{raw body}"`, as Unizo's current webhooks do."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


@attrs.define
class Webhook:
    id: str
    name: str
    url: str
    events: list[str]
    secret: str
    organization_id: str
    created_at: float
    active: bool = True
    description: str = ""

    def wants(self, event: str) -> bool:
        noun = event.split(":", 1)[0]
        return any(pattern in ("*", event, f"{noun}:*") for pattern in self.events)

    def public_view(self) -> dict[str, Any]:
        """The secret is write-only: it is never shown again."""
        return {
            "id": self.id,
            "name": self.name,
            "url": self.url,
            "events": self.events,
            "active": self.active,
            "description": self.description,
            "organization": {"id": self.organization_id},
            "createdAt": iso(self.created_at),
        }


@attrs.frozen
class Delivery:
    id: str
    webhook_id: str
    event_type: str
    attempts: int
    delivered: bool
    response_status: int | None
    error: str | None = None

    def public_view(self) -> dict[str, Any]:
        """What the webhook actions answer (ours)."""
        return {
            "id": self.id,
            "webhookId": self.webhook_id,
            "eventType": self.event_type,
            "attempts": self.attempts,
            "delivered": self.delivered,
            "responseStatus": self.response_status,
            "error": self.error,
        }


class WebhookDispatcher:
    def __init__(self, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> None:
        self.hooks: dict[str, Webhook] = {}
        self.deliveries: deque[Delivery] = deque(maxlen=DELIVERY_LOG_SIZE)
        # what each logged delivery sent, for redelivery (kept apart: the admin API shows `deliveries` as is)
        self.payloads: dict[str, dict[str, Any]] = {}
        self.retry_delays = retry_delays
        self._tasks: set[asyncio.Task[Delivery]] = set()
        self._session: aiohttp.ClientSession | None = None

    def of_organization(self, organization_id: str) -> list[Webhook]:
        return [hook for hook in self.hooks.values() if hook.organization_id == organization_id]

    def emit(self, event_type: str, integration: dict[str, Any], data: dict[str, Any]) -> None:
        """Queue a delivery to every matching webhook of the integration's organization; never waits."""
        organization_id = integration["organization"]["id"]
        for hook in self.of_organization(organization_id):
            if not hook.active or not hook.wants(event_type):
                continue
            payload = {
                "id": str(uuid.uuid4()),
                "type": event_type,
                "createdAt": iso(time.time()),
                "integration": {
                    "id": integration["id"],
                    "type": integration["type"],
                    "name": integration["name"],
                },
                "data": data,
            }
            self._queue(hook, payload)

    def send(self, hook: Webhook, event_type: str, data: dict[str, Any]) -> None:
        """Queue one signed delivery of an account-level event (no integration), such as a usage alert's."""
        payload = {"id": str(uuid.uuid4()), "type": event_type, "createdAt": iso(time.time()), "data": data}
        self._queue(hook, payload)

    def _queue(self, hook: Webhook, payload: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(hook, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _attempt(self, hook: Webhook, payload: dict[str, Any], body: bytes) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                trust_env=False, timeout=aiohttp.ClientTimeout(total=ATTEMPT_TIMEOUT)
            )
        # Timestamp is real time even when the sandbox clock was advanced: receivers check it against theirs.
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Unizo-Webhooks/1.0 (sandbox)",
            "x-unizo-event-type": payload["type"],
            "x-unizo-delivery-id": payload["id"],
            "x-unizo-timestamp": timestamp,
            "x-unizo-signature": sign(hook.secret, timestamp, body),
        }
        # https receivers on loopback usually have self-signed certificates; the URL is loopback-only anyway.
        async with self._session.post(hook.url, data=body, headers=headers, ssl=False) as response:
            await response.read()
            return response.status

    async def deliver(self, hook: Webhook, payload: dict[str, Any]) -> Delivery:
        """Deliver now (with the retries) and log the delivery: the webhook actions wait for it."""
        return await self._deliver(hook, payload)

    def sent_payload(self, webhook_id: str, delivery_id: str) -> dict[str, Any] | None:
        """What the logged delivery `delivery_id` to the webhook `webhook_id` sent, if it is still logged."""
        logged = any(d.id == delivery_id and d.webhook_id == webhook_id for d in self.deliveries)
        return self.payloads.get(delivery_id) if logged else None

    async def _deliver(self, hook: Webhook, payload: dict[str, Any]) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        status: int | None = None
        error: str | None = None
        attempts = 0
        for delay in (0.0, *self.retry_delays):
            if delay:
                await asyncio.sleep(delay)
            attempts += 1
            try:
                status = await self._attempt(hook, payload, body)
                error = None
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            if status is not None and 200 <= status < 300:
                break
        delivered = status is not None and 200 <= status < 300
        if not delivered:
            log.warning("webhook %s: %s undelivered after %d attempts", hook.id, payload["type"], attempts)
        delivery = Delivery(payload["id"], hook.id, payload["type"], attempts, delivered, status, error)
        self.deliveries.append(delivery)
        self.payloads[payload["id"]] = payload
        while len(self.payloads) > DELIVERY_LOG_SIZE:  # forget the oldest, as the log does
            del self.payloads[next(iter(self.payloads))]
        return delivery

    async def cancel_pending(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.cancel_pending()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def reset(self) -> None:
        await self.cancel_pending()
        self.hooks.clear()
        self.deliveries.clear()
        self.payloads.clear()

    def to_state(self) -> list[dict[str, Any]]:
        return [attrs.asdict(hook) for hook in self.hooks.values()]

    def load_state(self, entries: list[dict[str, Any]]) -> None:
        self.hooks = {entry["id"]: Webhook(**entry) for entry in entries}
