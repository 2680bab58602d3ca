"""Each kind of key gets its documented answer; permissions are checked per action and service."""

from __future__ import annotations

import uuid

import pytest
from unizo_mcp_sandbox.accounts import PLATFORM
from unizo_mcp_sandbox.services import SandboxService

from .support import (
    API,
    KEYS,
    PROBE,
    SERVICE_IDS,
    SERVICES,
    SHARED,
    UNSHARED,
    WEBHOOKS,
    Api,
    probe,
    service_role,
)

WELL_FORMED_UNKNOWN = "uz_prod_0badc0de_" + "A" * 32


def bearer(api: Api, role: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + api.sandbox.keys[role]}


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
    reply = await api.get(PROBE, role=role, integration=api.integration(SHARED.name))
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
    reply = await api.get(PROBE, role=None, headers=headers, integration=api.integration(SHARED.name))
    assert reply.status == 401
    assert reply.error["errorCode"] == code


async def test_a_known_key_id_with_the_wrong_secret_is_unknown(api: Api) -> None:
    key_id = api.sandbox.key_id("full")
    reply = await api.get(PROBE, key=f"uz_prod_{key_id}_{'B' * 32}", integration=api.integration(SHARED.name))
    assert reply.status == 401
    assert reply.error["errorCode"] == "AP-4010003"


async def test_bearer_is_accepted_in_place_of_apikey(api: Api) -> None:
    reply = await api.get(
        PROBE, role=None, headers=bearer(api, "readonly"), integration=api.integration(SHARED.name)
    )
    assert reply.status == 200


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
async def test_verify_describes_the_key(api: Api, service: SandboxService) -> None:
    role = service_role(service.name)
    reply = await api.get("/v1/auth/verify", role=None, headers=bearer(api, role))
    assert reply.status == 200
    body = reply.json
    assert body["valid"] is True
    assert body["keyId"] == api.sandbox.key_id(role)
    assert body["name"] == f"demo-{service.name.replace('_', '-')}-only"
    assert body["environment"] == "production"
    assert body["permissions"] == {service.name: ["read", "write", "delete"]}
    # account administration is enabled for every account (PLATFORM), next to the categories
    assert sorted(body["enabledServices"]) == sorted([*SERVICE_IDS, PLATFORM])
    assert body["expiresAt"] == "2036-01-01T00:00:00Z"
    assert body["organization"]["name"] == "Acme Security"
    assert body["rateLimits"] == {"perMinute": 100, "perDay": 10000, "concurrency": 5, "windowSeconds": 60.0}


async def test_the_full_key_may_do_everything_on_every_service_and_the_platform(api: Api) -> None:
    body = (await api.get("/v1/auth/verify", role=None, headers=bearer(api, "full"))).json
    assert body["permissions"] == {name: ["read", "write", "delete"] for name in (*SERVICE_IDS, "platform")}
    readonly = (await api.get("/v1/auth/verify", role=None, headers=bearer(api, "readonly"))).json
    assert readonly["permissions"] == {name: ["read"] for name in (*SERVICE_IDS, "platform")}


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [("expired", 401, "AP-4010004"), ("revoked", 401, "AP-4010005"), ("development", 401, "AP-4010006")],
)
async def test_verify_refuses_unusable_keys(api: Api, role: str, status: int, code: str) -> None:
    reply = await api.get("/v1/auth/verify", role=None, headers=bearer(api, role))
    assert reply.status == status
    assert reply.error["errorCode"] == code


async def test_verify_counts_against_no_limit(api: Api) -> None:
    api.sandbox.set_limits(rate_limit=2, daily_quota=2)
    for _ in range(5):
        reply = await api.get("/v1/auth/verify", role=None, headers=bearer(api, "full"))
        assert reply.status == 200
    assert (await api.get(PROBE, integration=api.integration(SHARED.name))).status == 200


def test_some_service_is_not_enabled_for_beta(sandbox) -> None:
    """The tests of AP-4030002 need one; a new service that Beta lacks keeps them meaningful."""
    assert UNSHARED
    assert [service.name for service in sandbox.disabled_services()] == [s.name for s in UNSHARED]


@pytest.mark.parametrize("service", UNSHARED, ids=[service.name for service in UNSHARED])
async def test_the_beta_key_is_refused_a_service_its_account_lacks(api: Api, service: SandboxService) -> None:
    reply = await api.get(probe(service), role="service_disabled", integration=api.integration(service.name))
    assert reply.status == 403
    assert reply.error["errorCode"] == "AP-4030002"
    assert service.name in reply.error["errorMessage"]
    verify = await api.get("/v1/auth/verify", role=None, headers=bearer(api, "service_disabled"))
    assert verify.json["organization"]["name"] == "Beta Corp"
    assert service.name not in verify.json["enabledServices"]


async def test_the_beta_account_has_exactly_one_integration_per_enabled_category(api: Api) -> None:
    shared = [service for service in SERVICES if service.second_organization]
    for service in shared:
        body = {"filter": {"and": [{"property": "/type", "operator": "=", "values": [service.category]}]}}
        reply = await api.post(API + "/integrations/search", role="service_disabled", json=body)
        assert reply.status == 200
        assert reply.json["pagination"]["total"] == 1
        assert reply.json["data"][0]["serviceProfile"]["name"] == service.connectors[0][0]
        integration = api.integration(service.name, role="service_disabled")
        assert (await api.get(probe(service), role="service_disabled", integration=integration)).status == 200
    verify = await api.get("/v1/auth/verify", role=None, headers=bearer(api, "service_disabled"))
    assert sorted(verify.json["enabledServices"]) == sorted([*(s.name for s in shared), PLATFORM])


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
async def test_a_single_service_key_reads_its_service_and_nothing_else(
    api: Api, service: SandboxService
) -> None:
    role = service_role(service.name)
    own = await api.get(probe(service), role=role, integration=api.integration(service.name))
    assert own.status == 200, own.text
    readonly = await api.get(probe(service), role="readonly", integration=api.integration(service.name))
    assert readonly.status == 200, readonly.text
    for other in SERVICES:
        if other is service:
            continue
        reply = await api.get(probe(other), role=role, integration=api.integration(other.name))
        assert reply.status == 403, reply.text
        assert reply.error["errorCode"] == "AP-4030001"
        assert f"{other.name}:read" in reply.error["errorMessage"]


@pytest.mark.parametrize(
    ("role", "method", "path", "permission"),
    [
        ("readonly", "POST", KEYS, "platform:write"),
        ("readonly", "DELETE", WEBHOOKS + "/x", "platform:delete"),
        (service_role(SHARED.name), "GET", KEYS, "platform:read"),
    ],
)
async def test_platform_permission_per_action(
    api: Api, role: str, method: str, path: str, permission: str
) -> None:
    reply = await api.call(method, path, role=role)
    assert reply.status == 403, reply.text
    assert reply.error["errorCode"] == "AP-4030001"
    assert permission in reply.error["errorMessage"]


async def test_readonly_cannot_register_webhooks(api: Api) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "events": ["*"], "secret": "0123456789"}
    reply = await api.post(WEBHOOKS, role="readonly", json=body)
    assert reply.status == 403
    assert "platform:write" in reply.error["errorMessage"]
    assert (await api.post(WEBHOOKS, json=body)).status == 201


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
async def test_integration_header_is_required_and_must_match(api: Api, service: SandboxService) -> None:
    path = probe(service)
    missing = await api.get(path)
    assert (missing.status, missing.error["errorCode"]) == (400, "AP-4000002")
    assert missing.error["property"] == "integrationId"
    unknown = await api.get(path, integration=str(uuid.uuid4()))
    assert (unknown.status, unknown.error["errorCode"]) == (404, "AP-4040002")
    other = next(item for item in SERVICES if item is not service)
    other_category = await api.get(path, integration=api.integration(other.name))
    assert (other_category.status, other_category.error["errorCode"]) == (404, "AP-4040002")
    assert service.name in other_category.error["errorMessage"]
    beta = SHARED if not service.second_organization else service
    other_org = await api.get(probe(beta), integration=api.integration(beta.name, role="service_disabled"))
    assert (other_org.status, other_org.error["errorCode"]) == (404, "AP-4040002")


async def test_correlation_id_is_echoed_or_generated(api: Api) -> None:
    given = str(uuid.uuid4())
    echoed = await api.get(PROBE, headers={"correlationId": given})
    assert echoed.headers["correlationId"] == given
    assert echoed.error["correlationId"] == given
    generated = await api.get(PROBE)
    assert uuid.UUID(generated.headers["correlationId"])
    forged = await api.get(PROBE, headers={"correlationId": "<script>"})
    assert uuid.UUID(forged.headers["correlationId"])


async def test_unknown_routes_and_methods(api: Api) -> None:
    no_route = await api.get(API + "/nosuchcategory/organizations")
    assert (no_route.status, no_route.error["errorCode"]) == (404, "AP-4040003")
    wrong_method = await api.call("DELETE", PROBE, integration=api.integration(SHARED.name))
    assert (wrong_method.status, wrong_method.error["errorCode"]) == (405, "AP-4050001")
    outside = await api.get("/nothing/here", role=None)
    assert (outside.status, outside.error["errorCode"]) == (404, "AP-4040003")
