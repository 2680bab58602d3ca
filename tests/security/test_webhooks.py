"""Webhooks: forged, replayed and tampered deliveries are rejected; a real sandbox delivery passes.

The signatures here are computed independently of the core (plain hmac over "{timestamp}.{body}", as
docs/api-contract.md specifies), so the verifier is checked against the contract, not against itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from aiohttp import web
from servicekit import has_writes, services_where
from unizo_mcp_core.spec import Permission
from unizo_mcp_core.webhooks import WebhookVerificationError, verify_webhook
from unizo_testkit import sandbox_api as _api

from .calls import CachedSession, Driver

SECRET = "whsec-security-suite-0123456789"
NOW = 1_800_000_000.0
EVENT = "record:created"
BODY = json.dumps(
    {
        "id": "evt-1",
        "type": EVENT,
        "createdAt": "2027-01-15T08:00:00Z",
        "integration": {"id": "int-1", "type": "CATEGORY"},
        "data": {"id": "R-1", "name": "Disk full"},
    },
    separators=(",", ":"),
).encode()


def signed(body: bytes = BODY, *, secret: str = SECRET, timestamp: float = NOW) -> dict[str, str]:
    stamp = str(int(timestamp))
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "x-unizo-event-type": EVENT,
        "x-unizo-delivery-id": "dlv-1",
        "x-unizo-timestamp": stamp,
        "x-unizo-signature": f"v1={digest}",
    }


def test_valid_signature_accepted() -> None:
    verify_webhook(SECRET, BODY, signed(), now=NOW)
    # header names are case-insensitive, as HTTP servers hand them over in any case
    verify_webhook(SECRET, BODY, {k.title(): v for k, v in signed().items()}, now=NOW + 10)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(signed(secret="not-the-secret"), id="signed-with-another-secret"),
        pytest.param({**signed(), "x-unizo-signature": "v1=" + "0" * 64}, id="zero-signature"),
        pytest.param({**signed(), "x-unizo-signature": "v1=" + "g" * 64}, id="not-hex"),
        pytest.param({**signed(), "x-unizo-signature": "v1=abc"}, id="short-signature"),
        pytest.param({**signed(), "x-unizo-signature": ""}, id="empty-signature"),
        pytest.param({k: v for k, v in signed().items() if k != "x-unizo-signature"}, id="no-signature"),
        pytest.param({k: v for k, v in signed().items() if k != "x-unizo-timestamp"}, id="no-timestamp"),
        pytest.param(
            {**signed(), "x-unizo-signature": "v2=" + signed()["x-unizo-signature"][3:]},
            id="unknown-scheme-only",
        ),
        pytest.param(
            # an old-style signature (the body alone) captured earlier, sent again with a fresh timestamp
            {
                "x-unizo-signature": "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(),
                "x-unizo-timestamp": str(int(NOW)),
            },
            id="legacy-signature-replayed",
        ),
        pytest.param(
            # the signature of this body at another moment: the timestamp is part of what is signed
            {**signed(timestamp=NOW - 60), "x-unizo-timestamp": str(int(NOW))},
            id="timestamp-swapped",
        ),
    ],
)
def test_forged_signature_rejected(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(SECRET, BODY, headers, now=NOW)
    assert str(caught.value), "the rejection must say why"


@pytest.mark.parametrize("age", [301, 3600, 86_400 * 30, -301, -86_400])
def test_replayed_or_future_timestamp_rejected(age: int) -> None:
    """A correctly signed delivery outside the 300 s window (a replay, or a forged future stamp)."""
    headers = signed(timestamp=NOW - age)
    with pytest.raises(WebhookVerificationError) as caught:
        verify_webhook(SECRET, BODY, headers, now=NOW)
    assert "timestamp" in str(caught.value).lower()
    # the same delivery is fine inside its window, so it is the age that was refused
    verify_webhook(SECRET, BODY, headers, now=NOW - age + 1)


def test_tolerance_is_honoured() -> None:
    headers = signed(timestamp=NOW - 100)
    verify_webhook(SECRET, BODY, headers, now=NOW)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, BODY, headers, now=NOW, tolerance=30)


@pytest.mark.parametrize(
    "tampered",
    [
        pytest.param(BODY.replace(b"Disk full", b"Disk fuLL"), id="one-character"),
        pytest.param(BODY + b" ", id="trailing-space"),
        pytest.param(BODY + b"\n", id="trailing-newline"),
        pytest.param(BODY[:-1], id="truncated"),
        pytest.param(json.dumps(json.loads(BODY), indent=1).encode(), id="re-serialised"),
        pytest.param(b"", id="empty"),
    ],
)
def test_tampered_body_rejected(tampered: bytes) -> None:
    with pytest.raises(WebhookVerificationError):
        verify_webhook(SECRET, tampered, signed(), now=NOW)


def test_empty_secret_is_not_accepted() -> None:
    """An unset secret must not turn verification into 'anything goes'."""
    headers = signed(secret="")
    with pytest.raises((WebhookVerificationError, ValueError)):
        verify_webhook("", BODY, headers, now=NOW)


# --- a real delivery from the sandbox ---------------------------------------------------------------


class Receiver:
    """A loopback HTTP endpoint that keeps the raw body and headers of every delivery."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.arrived = asyncio.Event()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.deliveries.append((body, dict(request.headers)))
        self.arrived.set()
        return web.Response(status=204)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hooks/unizo", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hooks/unizo"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def test_real_sandbox_delivery_is_accepted(sandbox: Any, open_server: Any) -> None:
    """A webhook for every event; the create tools of the services that have writes are called in turn
    (through an MCP server, with real arguments) until the sandbox delivers an event."""
    secret = "whsec-" + "sandbox-delivery-test-secret"
    creates = [
        (spec, tool)
        for spec in services_where(has_writes)
        for tool in spec.tools
        if tool.permission is Permission.WRITE and tool.method == "POST"
    ]
    assert creates, "no installed service has a create tool"
    async with Receiver() as receiver:
        hook = {"name": "security-suite", "url": receiver.url, "events": ["*"], "secret": secret}
        await _api(sandbox, "POST", "/webhooks", hook)
        for spec, tool in creates:
            async with open_server(spec.name) as session:
                driver = Driver(CachedSession(session.client, sandbox))
                args = await driver.arguments(spec, tool)
                result = await session.call(tool.name, args)
                assert not result.is_error, result
            try:
                await asyncio.wait_for(receiver.arrived.wait(), 3)
                break
            except TimeoutError:
                continue
        assert receiver.deliveries, f"no delivery after calling {[tool.name for _spec, tool in creates]}"

    body, headers = receiver.deliveries[0]
    event = json.loads(body)
    assert event["type"] == {name.lower(): value for name, value in headers.items()}["x-unizo-event-type"]
    verify_webhook(secret, body, headers)  # the delivery as received, now, default tolerance: accepted
    # and the same delivery is rejected when anything about it is off
    with pytest.raises(WebhookVerificationError):
        verify_webhook("another-secret", body, headers)
    tampered = body.replace(event["id"].encode(), event["id"][::-1].encode())
    assert tampered != body
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, tampered, headers)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, body, headers, now=time.time() + 3600)
