"""Key administration for rotation: create (shown once), list, describe, revoke, usage."""

from __future__ import annotations

import time
from typing import Any

import pytest
from unizo_mcp_sandbox.keys import KEY_PATTERN
from unizo_mcp_sandbox.timeutil import iso

from .support import KEYS, PROBE, SERVICES, SHARED, Api, probe

OTHER = next(service for service in SERVICES if service is not SHARED)


async def create_key(api: Api, **body: Any) -> dict[str, Any]:
    reply = await api.post(KEYS, json={"name": "rotated", "permissions": {SHARED.name: ["read"]}, **body})
    assert reply.status == 201, reply.text
    return reply.json


async def test_a_new_key_is_shown_once_and_works_with_its_permissions(api: Api) -> None:
    created = await create_key(api)
    assert KEY_PATTERN.fullmatch(created["key"])
    assert created["key"].startswith(f"uz_prod_{created['id']}_")
    assert created["permissions"] == {SHARED.name: ["read"]}
    assert created["organization"]["name"] == "Acme Security"
    described = await api.get(f"{KEYS}/{created['id']}")
    assert "key" not in described.json
    assert described.json == {name: value for name, value in created.items() if name != "key"}
    listed = await api.get(KEYS, params={"limit": "100"})
    assert created["id"] in [item["id"] for item in listed.json["data"]]
    assert all("key" not in item and "secret_sha256" not in item for item in listed.json["data"])
    assert (await api.get(PROBE, key=created["key"], integration=api.integration(SHARED.name))).status == 200
    refused = await api.get(probe(OTHER), key=created["key"], integration=api.integration(OTHER.name))
    assert (refused.status, refused.error["errorCode"]) == (403, "AP-4030001")


async def test_revoked_keys_stop_working(api: Api) -> None:
    created = await create_key(api)
    assert (await api.post(f"{KEYS}/{created['id']}/revoke", role="readonly")).status == 403
    revoked = await api.post(f"{KEYS}/{created['id']}/revoke")
    assert revoked.status == 200
    assert revoked.json["revoked"] is True and revoked.json["revokedAt"]
    refused = await api.get(PROBE, key=created["key"], integration=api.integration(SHARED.name))
    assert (refused.status, refused.error["errorCode"]) == (401, "AP-4010005")


async def test_expiry_and_environment_of_new_keys(api: Api) -> None:
    in_ten_days = iso(time.time() + 10 * 86_400)
    soon = await create_key(api, expiresAt=in_ten_days)
    assert soon["expiresAt"] == in_ten_days
    assert (await api.get(PROBE, key=soon["key"], integration=api.integration(SHARED.name))).status == 200
    api.sandbox.advance_clock(11 * 86_400)
    assert (
        await api.get(PROBE, integration=api.integration(SHARED.name))
    ).status == 200  # seeded keys last longer
    expired = await api.get(PROBE, key=soon["key"], integration=api.integration(SHARED.name))
    assert expired.error["errorCode"] == "AP-4010004"
    dev = await create_key(api, environment="development")
    assert dev["key"].startswith("uz_dev_")
    wrong_env = await api.get(PROBE, key=dev["key"], integration=api.integration(SHARED.name))
    assert wrong_env.error["errorCode"] == "AP-4010006"


async def test_ip_allowlist_of_new_keys(api: Api) -> None:
    allowed = await create_key(api, ipAllowlist=["127.0.0.0/8"])
    assert allowed["ipAllowlist"] == ["127.0.0.0/8"]
    assert (await api.get(PROBE, key=allowed["key"], integration=api.integration(SHARED.name))).status == 200
    elsewhere = await create_key(api, ipAllowlist=["192.0.2.7"])
    refused = await api.get(PROBE, key=elsewhere["key"], integration=api.integration(SHARED.name))
    assert (refused.status, refused.error["errorCode"]) == (403, "AP-4030003")


@pytest.mark.parametrize(
    ("body", "property"),
    [
        ({"permissions": {SHARED.name: ["read"]}}, "name"),
        ({"name": "x"}, "permissions"),
        ({"name": "x", "permissions": []}, "permissions"),
        ({"name": "x", "permissions": {"crm": ["read"]}}, "permissions.crm"),
        ({"name": "x", "permissions": {SHARED.name: ["admin"]}}, f"permissions.{SHARED.name}[0]"),
        ({"name": "x", "permissions": {SHARED.name: "read"}}, f"permissions.{SHARED.name}"),
        ({"name": "x", "permissions": {}, "expiresAt": "2020-01-01T00:00:00Z"}, "expiresAt"),
        ({"name": "x", "permissions": {}, "expiresAt": "tomorrow"}, "expiresAt"),
        ({"name": "x", "permissions": {}, "environment": "qa"}, "environment"),
        ({"name": "x", "permissions": {}, "ipAllowlist": ["300.1.1.1"]}, "ipAllowlist[0]"),
    ],
)
async def test_create_is_validated(api: Api, body: dict[str, Any], property: str) -> None:
    reply = await api.post(KEYS, json=body)
    assert reply.status == 400
    assert reply.error["property"] == property


async def test_usage_counts_the_last_24_hours_by_status(api: Api) -> None:
    created = await create_key(api, permissions={SHARED.name: ["read"], "platform": ["read"]})
    integration = api.integration(SHARED.name)
    for _ in range(3):
        assert (await api.get(PROBE, key=created["key"], integration=integration)).status == 200
    assert (await api.get(f"{PROBE}/missing", key=created["key"], integration=integration)).status == 404
    usage = await api.get(f"{KEYS}/{created['id']}/usage", key=created["key"])
    assert usage.json == {
        "keyId": created["id"],
        "last24h": {"requests": 4, "byStatus": {"200": 3, "404": 1}},
    }
    api.sandbox.advance_clock(25 * 3600)
    later = await api.get(f"{KEYS}/{created['id']}/usage")
    assert later.json["last24h"] == {"requests": 0, "byStatus": {}}


async def test_a_key_may_hold_any_discovered_service_and_the_platform(api: Api) -> None:
    permissions = {service.name: ["read", "write"] for service in SERVICES} | {"platform": ["delete"]}
    created = await create_key(api, permissions=permissions)
    assert created["permissions"] == permissions
    for service in SERVICES:
        reply = await api.get(probe(service), key=created["key"], integration=api.integration(service.name))
        assert reply.status == 200, reply.text


async def test_keys_of_other_organizations_are_invisible(api: Api) -> None:
    beta_id = api.sandbox.key_id("service_disabled")
    assert (await api.get(f"{KEYS}/{beta_id}")).status == 404
    assert (await api.post(f"{KEYS}/{beta_id}/revoke")).status == 404
    listed = await api.get(KEYS, params={"limit": "100"})
    assert beta_id not in [item["id"] for item in listed.json["data"]]
    assert (await api.get(KEYS, role="readonly")).status == 200
