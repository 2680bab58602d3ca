"""Each kind of key gets its documented answer; permissions are checked per action and service."""

from __future__ import annotations

import uuid

import pytest

from .support import Api

DEVICES = "/api/v1/edr/devices"
WELL_FORMED_UNKNOWN = "uz_prod_0badc0de_" + "A" * 32


async def test_health_needs_no_key(api: Api) -> None:
    reply = await api.get("/health", role=None)
    assert reply.status == 200
    assert reply.json == {"status": "ok", "version": "0.1.0", "environment": "production"}


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [
        ("expired", 401, "AP-4010004"),
        ("revoked", 401, "AP-4010005"),
        ("development", 401, "AP-4010006"),
        ("wrong_environment", 401, "AP-4010006"),
        ("ip_restricted", 403, "AP-4030003"),
    ],
)
async def test_unusable_keys_are_refused_with_their_own_code(
    api: Api, role: str, status: int, code: str
) -> None:
    reply = await api.get(DEVICES, role=role, integration=api.integration("edr"))
    assert reply.status == status
    error = reply.error
    assert (error["errorCode"], error["statusCode"]) == (code, status)
    assert error["correlationId"] == reply.headers["correlationId"]
    assert error["errorMessage"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "AP-4010001"),
        ({"apikey": ""}, "AP-4010002"),
        ({"apikey": "not-a-key"}, "AP-4010002"),
        ({"apikey": "uz_prod_0badc0de_short"}, "AP-4010002"),
        ({"apikey": "uz_live_0badc0de_" + "A" * 32}, "AP-4010002"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "AP-4010002"),
        ({"Authorization": "Bearer "}, "AP-4010002"),
        ({"apikey": WELL_FORMED_UNKNOWN}, "AP-4010003"),
        ({"apikey": "uz_dev_0badc0de_" + "A" * 32}, "AP-4010006"),
    ],
)
async def test_missing_malformed_and_unknown_keys(api: Api, headers: dict[str, str], code: str) -> None:
    reply = await api.get(DEVICES, role=None, headers=headers, integration=api.integration("edr"))
    assert reply.status == 401
    assert reply.error["errorCode"] == code


async def test_a_known_key_id_with_the_wrong_secret_is_unknown(api: Api) -> None:
    key_id = api.sandbox.key_id("full")
    reply = await api.get(DEVICES, key=f"uz_prod_{key_id}_{'B' * 32}", integration=api.integration("edr"))
    assert reply.status == 401
    assert reply.error["errorCode"] == "AP-4010003"


async def test_bearer_is_accepted_in_place_of_apikey(api: Api) -> None:
    headers = {"Authorization": "Bearer " + api.sandbox.keys["readonly"]}
    reply = await api.get(DEVICES, role=None, headers=headers, integration=api.integration("edr"))
    assert reply.status == 200


async def test_verify_describes_the_key(api: Api) -> None:
    reply = await api.get(
        "/v1/auth/verify", role=None, headers={"Authorization": "Bearer " + api.sandbox.keys["edr_only"]}
    )
    assert reply.status == 200
    body = reply.json
    assert body["valid"] is True
    assert body["keyId"] == api.sandbox.key_id("edr_only")
    assert body["name"] == "demo-edr-only"
    assert body["environment"] == "production"
    assert body["permissions"] == {"edr": ["read", "write", "delete"]}
    assert body["enabledServices"] == ["edr", "scm", "ticketing", "observability"]
    assert body["expiresAt"] == "2036-01-01T00:00:00Z"
    assert body["organization"]["name"] == "Acme Security"
    assert body["rateLimits"] == {"perMinute": 100, "perDay": 10000, "concurrency": 5, "windowSeconds": 60.0}


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [("expired", 401, "AP-4010004"), ("revoked", 401, "AP-4010005"), ("development", 401, "AP-4010006")],
)
async def test_verify_refuses_unusable_keys(api: Api, role: str, status: int, code: str) -> None:
    reply = await api.get(
        "/v1/auth/verify", role=None, headers={"Authorization": "Bearer " + api.sandbox.keys[role]}
    )
    assert reply.status == status
    assert reply.error["errorCode"] == code


async def test_verify_counts_against_no_limit(api: Api) -> None:
    api.sandbox.set_limits(rate_limit=2, daily_quota=2)
    for _ in range(5):
        reply = await api.get(
            "/v1/auth/verify", role=None, headers={"Authorization": "Bearer " + api.sandbox.keys["full"]}
        )
        assert reply.status == 200
    assert (await api.get(DEVICES, integration=api.integration("edr"))).status == 200


async def test_the_beta_key_is_refused_a_service_its_account_lacks(api: Api) -> None:
    reply = await api.get(
        "/api/v1/logs", role="service_disabled", integration=api.integration("observability")
    )
    assert reply.status == 403
    assert reply.error["errorCode"] == "AP-4030002"
    assert "observability" in reply.error["errorMessage"]
    verify = await api.get(
        "/v1/auth/verify",
        role=None,
        headers={"Authorization": "Bearer " + api.sandbox.keys["service_disabled"]},
    )
    assert verify.json["organization"]["name"] == "Beta Corp"
    assert "observability" not in verify.json["enabledServices"]


async def test_the_beta_account_has_exactly_one_integration_per_enabled_category(api: Api) -> None:
    for category in ("EDR", "SCM", "TICKETING"):
        body = {"filter": {"and": [{"property": "/type", "operator": "=", "values": [category]}]}}
        reply = await api.post("/api/v1/integrations/search", role="service_disabled", json=body)
        assert reply.status == 200
        assert reply.json["pagination"]["total"] == 1
    edr_integration = api.integration("edr", role="service_disabled")
    assert (await api.get(DEVICES, role="service_disabled", integration=edr_integration)).status == 200


@pytest.mark.parametrize(
    ("role", "method", "path", "status", "permission"),
    [
        ("readonly", "GET", DEVICES, 200, None),
        ("edr_only", "GET", DEVICES, 200, None),
        ("edr_only", "GET", "/api/v1/scm/organizations", 403, "scm:read"),
        ("edr_only", "GET", "/api/v1/logs", 403, "observability:read"),
        ("readonly", "POST", "/api/v1/apiKeys", 403, "platform:write"),
        ("readonly", "DELETE", "/api/v1/webhooks/x", 403, "platform:delete"),
        ("edr_only", "GET", "/api/v1/apiKeys", 403, "platform:read"),
    ],
)
async def test_permission_per_action(
    api: Api, role: str, method: str, path: str, status: int, permission: str | None
) -> None:
    service = {"/api/v1/edr": "edr", "/api/v1/scm/": "scm", "/api/v1/logs": "observability"}
    integration = next(
        (api.integration(svc) for prefix, svc in service.items() if path.startswith(prefix)), None
    )
    reply = await api.call(method, path, role=role, integration=integration)
    assert reply.status == status, reply.text
    if permission is not None:
        assert reply.error["errorCode"] == "AP-4030001"
        assert permission in reply.error["errorMessage"]


async def test_readonly_cannot_write_tickets(api: Api) -> None:
    integration, tickets = await api.ticket_scope()
    body = {"name": "x", "description": "y", "type": "bug"}
    reply = await api.post(tickets, role="readonly", integration=integration, json=body)
    assert reply.status == 403
    assert "ticketing:write" in reply.error["errorMessage"]
    assert (await api.post(tickets, integration=integration, json=body)).status == 201


async def test_integration_header_is_required_and_must_match(api: Api) -> None:
    missing = await api.get(DEVICES)
    assert (missing.status, missing.error["errorCode"]) == (400, "AP-4000002")
    unknown = await api.get(DEVICES, integration=str(uuid.uuid4()))
    assert (unknown.status, unknown.error["errorCode"]) == (404, "AP-4040002")
    other_category = await api.get(DEVICES, integration=api.integration("scm"))
    assert (other_category.status, other_category.error["errorCode"]) == (404, "AP-4040002")
    other_org = await api.get(DEVICES, integration=api.integration("edr", role="service_disabled"))
    assert (other_org.status, other_org.error["errorCode"]) == (404, "AP-4040002")


async def test_correlation_id_is_echoed_or_generated(api: Api) -> None:
    given = str(uuid.uuid4())
    echoed = await api.get(DEVICES, headers={"correlationId": given})
    assert echoed.headers["correlationId"] == given
    assert echoed.error["correlationId"] == given
    generated = await api.get(DEVICES)
    assert uuid.UUID(generated.headers["correlationId"])


async def test_unknown_routes_and_methods(api: Api) -> None:
    no_route = await api.get("/api/v1/comms/organizations")
    assert (no_route.status, no_route.error["errorCode"]) == (404, "AP-4040003")
    wrong_method = await api.call("DELETE", DEVICES, integration=api.integration("edr"))
    assert (wrong_method.status, wrong_method.error["errorCode"]) == (405, "AP-4050001")
    outside = await api.get("/nothing/here", role=None)
    assert (outside.status, outside.error["errorCode"]) == (404, "AP-4040003")


async def test_unknown_ids_answer_404_naming_the_kind(api: Api) -> None:
    reply = await api.get(f"{DEVICES}/does-not-exist", integration=api.integration("edr"))
    assert reply.status == 404
    assert reply.error["errorCode"] == "AP-4040001"
    assert "device 'does-not-exist'" in reply.error["errorMessage"]
