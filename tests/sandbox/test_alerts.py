"""Usage alerts under /api/v1/alerts (ours, `full` only): conditions on recorded usage, evaluated as requests
arrive, on reads and as time passes; a state change delivers a signed webhook to each target."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from pathlib import Path
from typing import Any

import pytest
from unizo_mcp_core.webhooks import verify_webhook
from unizo_mcp_sandbox.testclient import WebhookReceiver
from unizo_mcp_sandbox.testclient import sandbox_client as client
from unizo_mcp_sandbox.testing import start_sandbox

from .support import API, KEYS, PROBE, SHARED, Api

ALERTS = API + "/alerts"
SECRET = "whsec_alert_test_secret"


def condition(metric: str = "api_requests", operator: str = ">", threshold: float = 2, window: int = 3600):
    return {"metric": metric, "operator": operator, "threshold": threshold, "windowSeconds": window}


async def new_key(api: Api) -> dict[str, Any]:
    reply = await api.post(KEYS, json={"name": "watched", "permissions": {SHARED.name: ["read"]}})
    assert reply.status == 201, reply.text
    return reply.json


async def create(api: Api, **body: Any) -> dict[str, Any]:
    reply = await api.post(ALERTS, json={"condition": condition(), **body})
    assert reply.status == 201, reply.text
    return reply.json


async def calls(api: Api, key: str, count: int, path: str = PROBE) -> None:
    integration = api.integration(SHARED.name)
    for _ in range(count):
        await api.get(path, key=key, integration=integration)


def check_signature(headers: dict[str, str], body: bytes, secret: str = SECRET) -> None:
    timestamp = headers["x-unizo-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-unizo-signature"], "v1=" + expected)
    verify_webhook(secret, body, headers)


async def test_an_alert_is_created_listed_described_and_deleted(api: Api) -> None:
    key = await new_key(api)
    alert = await create(api, keyId=key["id"], name="busy key")
    assert alert["expression"] == "api_requests > 2/1h"
    assert alert["condition"] == condition()
    assert (alert["name"], alert["keyId"], alert["state"], alert["firedCount"]) == (
        "busy key",
        key["id"],
        "ok",
        0,
    )
    assert (await api.get(f"{ALERTS}/{alert['id']}")).json["id"] == alert["id"]
    listed = await api.get(ALERTS)
    assert [item["id"] for item in listed.json["data"]] == [alert["id"]]
    assert (await api.get(ALERTS, role="service_disabled")).json["data"] == []
    assert (await api.get(f"{ALERTS}/{alert['id']}", role="service_disabled")).status == 404
    assert (await api.delete(f"{ALERTS}/{alert['id']}", role="readonly")).status == 403
    assert (await api.delete(f"{ALERTS}/{alert['id']}")).status == 204
    assert (await api.get(f"{ALERTS}/{alert['id']}")).status == 404
    assert (await api.delete(f"{ALERTS}/{alert['id']}")).status == 404


async def test_the_name_defaults_to_the_expression_and_a_secret_is_generated_once(api: Api) -> None:
    alert = await create(
        api,
        condition=condition("error_rate", ">=", 5, 600),
        notify=[{"type": "webhook", "url": "http://127.0.0.1:9/a"}],
    )
    assert alert["name"] == "error_rate >= 5%/10m"
    [target] = alert["notify"]
    assert target["secret"].startswith("whsec_") and len(target["secret"]) > 20
    described = await api.get(f"{ALERTS}/{alert['id']}")
    assert described.json["notify"] == [{"type": "webhook", "url": "http://127.0.0.1:9/a"}]
    given = await create(api, notify=[{"type": "webhook", "url": "http://127.0.0.1:9/b", "secret": SECRET}])
    assert given["notify"] == [
        {"type": "webhook", "url": "http://127.0.0.1:9/b"}
    ]  # a given secret is not echoed


async def test_an_alert_fires_once_with_a_signed_webhook_then_resolves(
    api: Api, webhook_receiver: WebhookReceiver
) -> None:
    key = await new_key(api)
    target = {"type": "webhook", "url": webhook_receiver.url + "/alerts", "secret": SECRET}
    alert = await create(api, keyId=key["id"], notify=[target])
    await calls(api, key["key"], 2)
    assert webhook_receiver.deliveries.empty()
    await calls(api, key["key"], 2)  # the third fires, the fourth does not fire again
    fired = await webhook_receiver.next()
    check_signature(fired.headers, fired.body)
    assert fired.headers["x-unizo-event-type"] == "alert:fired"
    payload = fired.payload
    assert payload["type"] == "alert:fired" and payload["id"] == fired.headers["x-unizo-delivery-id"]
    assert (payload["data"]["value"], payload["data"]["threshold"]) == (3, 2)
    assert payload["data"]["alert"]["state"] == "firing" and payload["data"]["keyIds"] == [key["id"]]
    assert "secret" not in str(payload)
    described = (await api.get(f"{ALERTS}/{alert['id']}")).json
    assert (described["state"], described["lastValue"], described["firedCount"]) == ("firing", 4, 1)
    await asyncio.sleep(0.3)
    assert webhook_receiver.deliveries.empty()

    api.sandbox.advance_clock(2 * 3600)  # the window slides past the calls
    resolved = await webhook_receiver.next()
    check_signature(resolved.headers, resolved.body)
    assert resolved.payload["type"] == "alert:resolved"
    assert resolved.payload["data"]["value"] == 0
    assert (await api.get(f"{ALERTS}/{alert['id']}")).json["state"] == "ok"
    deliveries = [item for item in api.sandbox.deliveries() if item.webhook_id.startswith(alert["id"])]
    assert [(item.event_type, item.delivered) for item in deliveries] == [
        ("alert:fired", True), ("alert:resolved", True),
    ]  # fmt: skip


async def test_without_a_key_an_alert_watches_the_whole_organization(
    api: Api, webhook_receiver: WebhookReceiver
) -> None:
    first, second = await new_key(api), await new_key(api)
    target = {"type": "webhook", "url": webhook_receiver.url + "/org", "secret": SECRET}
    await create(api, condition=condition("api_errors", ">=", 2, 300), notify=[target])
    await calls(api, first["key"], 1, f"{PROBE}/missing")
    await calls(api, second["key"], 1, f"{PROBE}/missing")
    fired = await webhook_receiver.next()
    assert fired.payload["data"]["value"] == 2
    assert {first["id"], second["id"]} <= set(fired.payload["data"]["keyIds"])


async def test_a_below_condition_fires_on_silence(api: Api) -> None:
    key = await new_key(api)
    alert = await create(api, keyId=key["id"], condition=condition("api_requests", "<", 1, 60))
    assert alert["state"] == "firing" and alert["lastValue"] == 0


@pytest.mark.parametrize(
    ("change", "property"),
    [
        ({"condition": condition(metric="requests")}, "condition.metric"),
        ({"condition": condition(operator="=>")}, "condition.operator"),
        ({"condition": condition(threshold=-1)}, "condition.threshold"),
        ({"condition": condition(threshold="many")}, "condition.threshold"),
        ({"condition": condition(window=30)}, "condition.windowSeconds"),
        ({"condition": condition(window=90)}, "condition.windowSeconds"),
        ({"condition": condition(window=8 * 86_400)}, "condition.windowSeconds"),
        ({"condition": condition("error_rate", ">", 101)}, "condition.threshold"),
        (
            {"condition": {"metric": "api_requests", "operator": ">", "threshold": 1}},
            "condition.windowSeconds",
        ),
        ({"condition": "api_requests > 1000/hour"}, "condition"),
        ({"keyId": "0badc0de"}, "keyId"),
        ({"notify": [{"type": "email", "url": "http://127.0.0.1:9/x"}]}, "notify[0].type"),
        ({"notify": [{"type": "webhook", "url": "https://example.com/hook"}]}, "notify[0].url"),
        (
            {"notify": [{"type": "webhook", "url": "http://127.0.0.1:9/x", "secret": "short"}]},
            "notify[0].secret",
        ),
        ({"channel": "slack"}, "channel"),
    ],
)
async def test_create_is_validated(api: Api, change: dict[str, Any], property: str) -> None:
    reply = await api.post(ALERTS, json={"condition": condition(), **change})
    assert reply.status == 400, reply.text
    assert reply.error["property"] == property


async def test_a_key_of_another_organization_cannot_be_watched(api: Api) -> None:
    reply = await api.post(
        ALERTS, json={"condition": condition(), "keyId": api.sandbox.key_id("service_disabled")}
    )
    assert (reply.status, reply.error["property"]) == (400, "keyId")


async def test_alerts_need_platform_permissions(api: Api) -> None:
    assert (await api.get(ALERTS, role="readonly")).status == 200
    refused = await api.post(ALERTS, role="readonly", json={"condition": condition()})
    assert (refused.status, refused.error["errorCode"]) == (403, "AP-4030001")
    assert "platform:write" in refused.error["errorMessage"]


async def test_the_documented_profile_has_no_alerts(documented_api: Api) -> None:
    assert (await documented_api.get(ALERTS)).status == 404
    assert (await documented_api.post(ALERTS, json={"condition": condition()})).status == 404


async def test_alerts_survive_a_restart(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        async with client(handle) as api:
            alert = await create(
                api, notify=[{"type": "webhook", "url": "http://127.0.0.1:9/x", "secret": SECRET}]
            )
        handle.save_state()
        handle.restart()
        async with client(handle) as api:
            kept = (await api.get(f"{ALERTS}/{alert['id']}")).json
    assert kept["expression"] == alert["expression"] and kept["notify"] == alert["notify"]
