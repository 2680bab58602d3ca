"""The two profiles: `full` (this repo's contract, the default) and `documented` (only what Unizo documents).

Each test says what the documented profile answers and what `full` still answers to the same request.
Gateway answers (401, 403, unknown routes) are Kong's `{"message": ...}`; category errors are Unizo's
documented error model without the sandbox's `AP-` codes; the 429 is the documented one without our
`Retry-After`. Services and paths come from discovery.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from unizo_mcp_sandbox.config import SandboxConfig
from unizo_mcp_sandbox.services import SandboxService, events
from unizo_mcp_sandbox.testclient import Reply, WebhookReceiver
from unizo_mcp_sandbox.testing import SandboxHandle, start_sandbox

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
    hook_body,
    probe,
    service_role,
)

NO_KEY = {"message": "No API key found in request"}
INVALID_KEY = {"message": "Invalid authentication credentials"}
FORBIDDEN = {"message": "You cannot consume this service"}
IP_REFUSED = {"message": "Your IP address is not allowed"}
NO_ROUTE = {"message": "no Route matched with those values"}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Reset-After")
DOCUMENTED_ERROR_FIELDS = {"errorMessage", "statusCode", "correlationId"}
OUR_CODE = re.compile(r"AP-\d{7}")
WELL_FORMED_UNKNOWN = "uz_prod_0badc0de_" + "A" * 32
# a service other than SHARED, for "a key of one service asks another"
OTHER = next(service for service in SERVICES if service is not SHARED)
# a top-level resource with an item route: "one unknown record" without ancestors to look up
TOP_ITEM = next(
    (
        (service, resource)
        for service in SERVICES
        for resource in service.resources
        if resource.item_param and resource.parent is None
    ),
    None,
)


def documented(api: Api) -> bool:
    return api.sandbox.profile == "documented"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + key}


def admin(api: Api) -> dict[str, str]:
    return {"x-sandbox-admin-token": api.sandbox.admin_token}


def assert_gateway(reply: Reply, status: int, body: dict[str, str]) -> None:
    """A Kong answer: the status, exactly that body, and no rate-limit headers (the limiter never ran)."""
    assert (reply.status, reply.json) == (status, body), reply.text
    assert not any(name in reply.headers for name in RATE_HEADERS)


def assert_documented_error(reply: Reply, status: int, property: str | None = None) -> dict[str, Any]:
    """Unizo's documented error model, without our code, help link or additionalInfo."""
    assert reply.status == status, reply.text
    assert set(reply.json) == {"errors"}
    error = reply.error
    expected = DOCUMENTED_ERROR_FIELDS | ({"property"} if property is not None else set())
    assert set(error) == expected, error
    assert error["statusCode"] == status
    assert error["correlationId"] == reply.headers["correlationId"]
    assert error["errorMessage"]
    assert error.get("property") == property
    assert "AP-" not in reply.text
    return error


def assert_full_error(reply: Reply, status: int, code: str) -> dict[str, Any]:
    assert reply.status == status, reply.text
    error = reply.error
    assert error["errorCode"] == code
    assert error["help"].startswith("https://")
    return error


# ---- the fixtures and the handle ------------------------------------------------------------------------


def test_each_fixture_serves_its_profile(sandbox: SandboxHandle, documented_sandbox: SandboxHandle) -> None:
    assert sandbox.profile == "full"
    assert documented_sandbox.profile == "documented"
    assert sandbox.base_url != documented_sandbox.base_url
    assert documented_sandbox.keys.keys() == sandbox.keys.keys()  # the same seeded roles


def test_any_sandbox_runs_once_per_profile_named_by_it(
    any_sandbox: SandboxHandle, request: pytest.FixtureRequest
) -> None:
    assert request.node.callspec.id == any_sandbox.profile


def test_the_default_profile_is_full_and_an_unknown_one_is_refused(tmp_path: Any) -> None:
    assert SandboxConfig(state_dir=tmp_path).profile == "full"
    assert SandboxConfig(state_dir=tmp_path, profile="documented").documented
    with pytest.raises(ValueError, match="profile must be one of full, documented"):
        start_sandbox(state_dir=tmp_path, profile="partial")


async def test_the_handle_controls_a_documented_sandbox(documented_api: Api) -> None:
    sandbox = documented_api.sandbox
    sandbox.set_faults(f"GET {PROBE}=503#1")
    assert (
        await documented_api.get(PROBE, integration=documented_api.integration(SHARED.name))
    ).status == 503
    assert [(entry.path, entry.status, entry.fault) for entry in sandbox.requests()] == [(PROBE, 503, "503")]
    sandbox.reset()
    assert sandbox.requests() == []
    assert (
        await documented_api.get(PROBE, integration=documented_api.integration(SHARED.name))
    ).status == 200


# ---- routes Unizo does not document ---------------------------------------------------------------------

Headers = Callable[[Api], dict[str, str]]
UNDOCUMENTED_ROUTES: list[tuple[str, str, Headers]] = [
    ("GET", "/v1/auth/verify", lambda api: bearer(api.sandbox.keys["full"])),
    ("GET", "/health", lambda api: {}),
    ("GET", KEYS, lambda api: {"apikey": api.sandbox.keys["full"]}),
    ("GET", KEYS + "/{readonly}", lambda api: {"apikey": api.sandbox.keys["full"]}),
    ("GET", "/_sandbox/requests", admin),
    ("GET", "/_sandbox/limits", admin),
    ("POST", "/_sandbox/reset", admin),
]


@pytest.mark.parametrize(
    ("method", "path", "headers"), UNDOCUMENTED_ROUTES, ids=[f"{m} {p}" for m, p, _ in UNDOCUMENTED_ROUTES]
)
async def test_routes_unizo_does_not_document_are_the_gateways_unknown_route(
    any_api: Api, method: str, path: str, headers: Headers
) -> None:
    path = path.format(readonly=any_api.sandbox.key_id("readonly"))
    reply = await any_api.call(method, path, role=None, headers=headers(any_api))
    if documented(any_api):
        assert_gateway(reply, 404, NO_ROUTE)
    else:
        assert reply.status == 200, reply.text


async def test_unknown_routes_and_methods_are_404_before_any_key_check(any_api: Api) -> None:
    integration = any_api.integration(SHARED.name)
    unknown = API + "/nosuchcategory/organizations"
    without_key = await any_api.get(unknown, role=None)
    with_key = await any_api.get(unknown)
    wrong_method = await any_api.call("DELETE", PROBE, integration=integration)
    outside = await any_api.get("/nothing/here", role=None)
    if documented(any_api):
        for reply in (without_key, with_key, wrong_method, outside):
            assert_gateway(reply, 404, NO_ROUTE)
    else:
        assert_full_error(without_key, 401, "AP-4010001")  # full checks the key first
        assert_full_error(with_key, 404, "AP-4040003")
        assert_full_error(wrong_method, 405, "AP-4050001")
        assert_full_error(outside, 404, "AP-4040003")


async def test_attachment_downloads_stay_where_records_point(any_api: Api) -> None:
    """`/_sandbox/files/{id}` is what uploaded attachments' downloadUrl names, in both profiles."""
    reply = await any_api.get("/_sandbox/files/123456789", role=None)
    if documented(any_api):
        assert_documented_error(reply, 404)
    else:
        assert_full_error(reply, 404, "AP-4040001")


# ---- health -----------------------------------------------------------------------------------------------


async def test_health_at_v1_with_a_bearer_key(any_api: Api) -> None:
    any_api.sandbox.set_limits(rate_limit=1)
    for _ in range(3):  # no limit applies
        reply = await any_api.get("/v1/health", role=None, headers=bearer(any_api.sandbox.keys["readonly"]))
        assert (reply.status, reply.json) == (200, {"status": "ok"})
    assert (await any_api.get(PROBE, integration=any_api.integration(SHARED.name))).status == 200


@pytest.mark.parametrize(
    ("case", "headers", "full_code", "documented_body"),
    [
        ("no key", lambda keys: {}, "AP-4010001", NO_KEY),
        ("not bearer", lambda keys: {"Authorization": "Basic dXNlcjpwYXNz"}, "AP-4010002", NO_KEY),
        ("unknown", lambda keys: bearer(WELL_FORMED_UNKNOWN), "AP-4010003", INVALID_KEY),
        ("malformed", lambda keys: bearer("not-a-key"), "AP-4010002", INVALID_KEY),
        ("expired", lambda keys: bearer(keys["expired"]), "AP-4010004", INVALID_KEY),
        ("revoked", lambda keys: bearer(keys["revoked"]), "AP-4010005", INVALID_KEY),
    ],
)
async def test_health_refuses_a_missing_or_bad_key(
    any_api: Api,
    case: str,
    headers: Callable[[dict[str, str]], dict[str, str]],
    full_code: str,
    documented_body: dict[str, str],
) -> None:
    reply = await any_api.get("/v1/health", role=None, headers=headers(any_api.sandbox.keys))
    if documented(any_api):
        assert_gateway(reply, 401, documented_body)
    else:
        assert_full_error(reply, 401, full_code)


async def test_health_takes_the_key_only_as_bearer_in_the_documented_profile(any_api: Api) -> None:
    reply = await any_api.get("/v1/health")  # the apikey header
    if documented(any_api):
        assert_gateway(reply, 401, NO_KEY)
    else:
        assert reply.status == 200


# ---- authentication under /api/v1 -------------------------------------------------------------------------

KeyHeaders = Callable[[SandboxHandle], dict[str, str]]
AUTH_CASES: list[tuple[str, KeyHeaders, int, str, dict[str, str]]] = [
    ("missing", lambda sb: {}, 401, "AP-4010001", NO_KEY),
    ("empty", lambda sb: {"apikey": ""}, 401, "AP-4010002", NO_KEY),
    ("malformed", lambda sb: {"apikey": "not-a-key"}, 401, "AP-4010002", INVALID_KEY),
    ("other shape", lambda sb: {"apikey": "uz_live_0badc0de_" + "A" * 32}, 401, "AP-4010002", INVALID_KEY),
    ("unknown", lambda sb: {"apikey": WELL_FORMED_UNKNOWN}, 401, "AP-4010003", INVALID_KEY),
    (
        "wrong secret",
        lambda sb: {"apikey": f"uz_prod_{sb.key_id('full')}_{'B' * 32}"},
        401,
        "AP-4010003",
        INVALID_KEY,
    ),
    ("expired", lambda sb: {"apikey": sb.keys["expired"]}, 401, "AP-4010004", INVALID_KEY),
    ("revoked", lambda sb: {"apikey": sb.keys["revoked"]}, 401, "AP-4010005", INVALID_KEY),
    ("development", lambda sb: {"apikey": sb.keys["development"]}, 401, "AP-4010006", INVALID_KEY),
    (
        "wrong environment",
        lambda sb: {"apikey": sb.keys["wrong_environment"]},
        401,
        "AP-4010006",
        INVALID_KEY,
    ),
    ("ip allowlist", lambda sb: {"apikey": sb.keys["ip_restricted"]}, 403, "AP-4030003", IP_REFUSED),
]


@pytest.mark.parametrize(
    ("headers", "status", "full_code", "documented_body"),
    [case[1:] for case in AUTH_CASES],
    ids=[case[0] for case in AUTH_CASES],
)
async def test_refused_keys_get_the_gateways_answer(
    any_api: Api, headers: KeyHeaders, status: int, full_code: str, documented_body: dict[str, str]
) -> None:
    reply = await any_api.get(
        PROBE, role=None, headers=headers(any_api.sandbox), integration=any_api.integration(SHARED.name)
    )
    if documented(any_api):
        assert_gateway(reply, status, documented_body)
    else:
        assert_full_error(reply, status, full_code)


async def test_a_key_revoked_through_the_handle_is_refused(any_api: Api) -> None:
    any_api.sandbox.revoke("readonly")
    reply = await any_api.get(PROBE, role="readonly", integration=any_api.integration(SHARED.name))
    if documented(any_api):
        assert_gateway(reply, 401, INVALID_KEY)
    else:
        assert_full_error(reply, 401, "AP-4010005")


async def test_the_api_takes_the_key_in_the_apikey_header(any_api: Api) -> None:
    integration = any_api.integration(SHARED.name)
    assert (await any_api.get(PROBE, integration=integration)).status == 200
    reply = await any_api.get(
        PROBE, role=None, headers=bearer(any_api.sandbox.keys["full"]), integration=integration
    )
    if documented(any_api):
        assert_gateway(reply, 401, NO_KEY)
    else:
        assert reply.status == 200  # ours: Bearer accepted in place of apikey


# ---- permissions apply; nothing tells which a key has ---------------------------------------------------


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
async def test_a_single_service_key_is_refused_other_services(any_api: Api, service: SandboxService) -> None:
    role = service_role(service.name)
    own = await any_api.get(probe(service), role=role, integration=any_api.integration(service.name))
    assert own.status == 200, own.text
    for other in SERVICES:
        if other is service:
            continue
        reply = await any_api.get(probe(other), role=role, integration=any_api.integration(other.name))
        if documented(any_api):
            assert_gateway(reply, 403, FORBIDDEN)
        else:
            assert f"{other.name}:read" in assert_full_error(reply, 403, "AP-4030001")["errorMessage"]


async def test_read_only_keys_cannot_write(any_api: Api) -> None:
    refused = await any_api.post(WEBHOOKS, role="readonly", json=hook_body())
    deleted = await any_api.delete(WEBHOOKS + "/x", role="readonly")
    for reply in (refused, deleted):
        if documented(any_api):
            assert_gateway(reply, 403, FORBIDDEN)
        else:
            assert_full_error(reply, 403, "AP-4030001")
    assert (await any_api.post(WEBHOOKS, json=hook_body())).status == 201


@pytest.mark.parametrize("service", UNSHARED, ids=[service.name for service in UNSHARED])
async def test_a_service_the_account_lacks_is_refused(any_api: Api, service: SandboxService) -> None:
    reply = await any_api.get(
        probe(service), role="service_disabled", integration=any_api.integration(service.name)
    )
    if documented(any_api):
        assert_gateway(reply, 403, FORBIDDEN)
    else:
        assert_full_error(reply, 403, "AP-4030002")


async def test_the_integrations_search_needs_read_on_the_filtered_category(any_api: Api) -> None:
    body = {"filter": {"and": [{"property": "/type", "operator": "=", "values": [OTHER.category]}]}}
    refused = await any_api.post(API + "/integrations/search", role=service_role(SHARED.name), json=body)
    if documented(any_api):
        assert (refused.status, refused.json) == (403, FORBIDDEN)
    else:
        assert_full_error(refused, 403, "AP-4030001")
    allowed = await any_api.post(API + "/integrations/search", role=service_role(OTHER.name), json=body)
    assert allowed.status == 200
    assert {item["type"] for item in allowed.json["data"]} == {OTHER.category}


def introspection(value: Any) -> list[str]:
    """Field names anywhere in a body that would tell a client what its key may do."""
    found = []
    if isinstance(value, dict):
        found += [name for name in value if name in ("permissions", "enabledServices", "rateLimits")]
        for item in value.values():
            found += introspection(item)
    elif isinstance(value, list):
        for item in value:
            found += introspection(item)
    return found


async def test_nothing_in_the_documented_profile_describes_a_keys_permissions(documented_api: Api) -> None:
    api = documented_api
    webhook = await api.post(WEBHOOKS, json=hook_body())
    assert webhook.status == 201
    replies = [
        webhook,
        await api.get("/v1/health", role=None, headers=bearer(api.sandbox.keys["readonly"])),
        await api.post(API + "/integrations/search", json={}),
        await api.get(WEBHOOKS),
        await api.get(WEBHOOKS + "/" + webhook.json["id"]),
        *[await api.get(probe(service), integration=api.integration(service.name)) for service in SERVICES],
    ]
    for reply in replies:
        assert reply.status in (200, 201), reply.text
        assert introspection(reply.json) == [], reply.text[:300]
        assert not any("permission" in name.lower() for name in reply.headers)
    for path, headers in (("/v1/auth/verify", bearer(api.sandbox.keys["full"])), (KEYS, {})):
        assert (await api.get(path, headers=headers)).status == 404


async def test_the_full_profile_still_describes_keys(api: Api) -> None:
    verify = await api.get("/v1/auth/verify", role=None, headers=bearer(api.sandbox.keys["readonly"]))
    assert verify.json["permissions"][SHARED.name] == ["read"]
    keys = await api.get(KEYS)
    assert all("permissions" in key for key in keys.json["data"])


# ---- category errors: the documented model, without our codes ----------------------------------------------


async def test_a_missing_or_unknown_integration(any_api: Api) -> None:
    missing = await any_api.get(PROBE)
    unknown = await any_api.get(PROBE, integration=str(uuid.uuid4()))
    if documented(any_api):
        assert_documented_error(missing, 400, "integrationId")
        assert_documented_error(unknown, 404)
    else:
        assert assert_full_error(missing, 400, "AP-4000002")["property"] == "integrationId"
        assert_full_error(unknown, 404, "AP-4040002")


@pytest.mark.parametrize(("param", "value"), [("limit", "0"), ("offset", "-1"), ("sort", "no_such_field")])
async def test_a_bad_list_parameter(any_api: Api, param: str, value: str) -> None:
    reply = await any_api.get(PROBE, integration=any_api.integration(SHARED.name), params={param: value})
    if documented(any_api):
        assert_documented_error(reply, 400, param)
    else:
        error = assert_full_error(reply, 400, "AP-4000001")
        assert error["property"] == param
        assert error["additionalInfo"] == [{"property": param, "reason": error["errorMessage"]}]


@pytest.mark.skipif(TOP_ITEM is None, reason="no service declares a top-level resource with items")
async def test_an_unknown_record(any_api: Api) -> None:
    assert TOP_ITEM is not None
    service, resource = TOP_ITEM
    reply = await any_api.get(
        API + resource.path + "/no-such-record", integration=any_api.integration(service.name)
    )
    if documented(any_api):
        assert "no-such-record" in assert_documented_error(reply, 404)["errorMessage"]
    else:
        assert_full_error(reply, 404, "AP-4040001")


async def test_an_invalid_body(any_api: Api) -> None:
    reply = await any_api.post(WEBHOOKS, json=hook_body(url=42))
    unknown_field = await any_api.post(WEBHOOKS, json=hook_body(colour="blue"))
    if documented(any_api):
        assert_documented_error(reply, 400, "url")
        assert_documented_error(unknown_field, 400, "colour")
    else:
        assert assert_full_error(reply, 400, "AP-4000001")["property"] == "url"
        assert assert_full_error(unknown_field, 400, "AP-4000001")["property"] == "colour"


async def test_a_body_over_the_size_limit(any_api: Api) -> None:
    reply = await any_api.post(
        WEBHOOKS, data=b"x" * (16 * 1024 * 1024 + 1), headers={"Content-Type": "application/json"}
    )
    if documented(any_api):
        assert (reply.status, reply.json) == (413, {"message": "Request size limit exceeded"})
    else:
        assert_full_error(reply, 413, "AP-4130001")


# ---- limits: the documented bucket, none of ours ----------------------------------------------------------


async def test_over_the_rate_limit(any_api: Api) -> None:
    any_api.sandbox.set_limits(rate_limit=2, rate_window=1000)
    integration = any_api.integration(SHARED.name)
    for _ in range(2):
        assert (await any_api.get(PROBE, integration=integration)).status == 200
    refused = await any_api.get(PROBE, integration=integration)
    assert refused.status == 429
    assert set(refused.json) == {"error"}
    error = refused.json["error"]
    assert set(error) == {"code", "message", "retry_after"}
    assert error["code"] == "rate_limit_exceeded"
    assert isinstance(error["retry_after"], int) and error["retry_after"] >= 1
    assert refused.headers["X-RateLimit-Limit"] == "2"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert all(name in refused.headers for name in RATE_HEADERS)
    if documented(any_api):
        assert "Retry-After" not in refused.headers
    else:
        assert refused.headers["Retry-After"] == str(error["retry_after"])


async def test_no_concurrency_cap_in_the_documented_profile(any_api: Api) -> None:
    any_api.sandbox.set_limits(max_concurrency=1)
    any_api.sandbox.set_faults(f"GET {PROBE}=latency:300")
    integration = any_api.integration(SHARED.name)
    replies = await asyncio.gather(*(any_api.get(PROBE, integration=integration) for _ in range(4)))
    statuses = sorted(reply.status for reply in replies)
    if documented(any_api):
        assert statuses == [200] * 4
        assert any_api.sandbox.max_in_flight[any_api.sandbox.key_id("full")] >= 2  # over the cap of 1
    else:
        assert 429 in statuses
        refused = next(reply for reply in replies if reply.status == 429)
        assert refused.json["error"]["code"] == "concurrency_limit_exceeded"


async def test_no_daily_quota_in_the_documented_profile(any_api: Api) -> None:
    any_api.sandbox.set_limits(daily_quota=2)
    integration = any_api.integration(SHARED.name)
    replies = [await any_api.get(PROBE, integration=integration) for _ in range(4)]
    if documented(any_api):
        assert [reply.status for reply in replies] == [200] * 4
    else:
        assert [reply.status for reply in replies[:2]] == [200, 200]
        assert_full_error(replies[2], 403, "AP-4030004")


async def test_which_answers_carry_the_rate_limit_headers(any_api: Api) -> None:
    integration = any_api.integration(SHARED.name)
    metered = [
        await any_api.get(PROBE, integration=integration),  # 200
        await any_api.get(PROBE),  # 400 from the endpoint
    ]
    gateway = [
        await any_api.get(PROBE, role="expired", integration=integration),  # 401
        await any_api.get(probe(OTHER), role=service_role(SHARED.name), integration=integration),  # 403
    ]
    for reply in metered:
        assert all(name in reply.headers for name in RATE_HEADERS), reply.status
    for reply in gateway:
        present = [name in reply.headers for name in RATE_HEADERS]
        assert present == [not documented(any_api)] * len(RATE_HEADERS), reply.status


async def test_a_refused_permission_takes_no_token_in_the_documented_profile(any_api: Api) -> None:
    """Kong's order: the permission (ACL) is checked before the rate limit; `full` checks it after."""
    any_api.sandbox.set_limits(rate_limit=1, rate_window=1000)
    role = service_role(SHARED.name)
    forbidden = await any_api.get(probe(OTHER), role=role, integration=any_api.integration(OTHER.name))
    assert forbidden.status == 403
    own = await any_api.get(PROBE, role=role, integration=any_api.integration(SHARED.name))
    assert own.status == (200 if documented(any_api) else 429)


# ---- injected faults look like the gateway's or the backend's failures ----------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (502, "An invalid response was received from the upstream server"),
        (503, "The upstream server is currently unavailable"),
        (504, "The upstream server is timed out"),
    ],
)
async def test_injected_upstream_failures(any_api: Api, status: int, message: str) -> None:
    any_api.sandbox.set_faults(f"GET {PROBE}={status}")
    reply = await any_api.get(PROBE, integration=any_api.integration(SHARED.name))
    if documented(any_api):
        assert (reply.status, reply.json) == (status, {"message": message})
    else:
        assert_full_error(reply, status, "AP-5000001")
    assert all(name in reply.headers for name in RATE_HEADERS)


async def test_an_injected_backend_error_and_429(any_api: Api) -> None:
    any_api.sandbox.set_faults(f"GET {PROBE}=500#1; GET {PROBE}=429:retry_after=2#1")
    integration = any_api.integration(SHARED.name)
    failed = await any_api.get(PROBE, integration=integration)
    limited = await any_api.get(PROBE, integration=integration)
    assert limited.status == 429
    assert limited.json["error"]["retry_after"] == 2
    if documented(any_api):
        assert_documented_error(failed, 500)
        assert "Retry-After" not in limited.headers
    else:
        assert_full_error(failed, 500, "AP-5000001")
        assert limited.headers["Retry-After"] == "2"


# ---- what the documented profile keeps --------------------------------------------------------------------


async def test_integrations_search_and_list_envelopes(any_api: Api) -> None:
    found = await any_api.post(
        API + "/integrations/search",
        json={
            "filter": {"and": [{"property": "/type", "operator": "=", "values": [SHARED.category]}]},
            "pagination": {"offset": 0, "limit": 999},
        },
    )
    assert found.status == 200
    assert set(found.json) == {"pagination", "data"}
    assert [item["id"] for item in found.json["data"]] == [
        item["id"] for item in any_api.sandbox.integrations(SHARED.name)
    ]
    listed = await any_api.get(
        PROBE,
        integration=any_api.integration(SHARED.name),
        params={"offset": "1", "limit": "2", "sort": "-id"},
    )
    assert listed.status == 200
    assert set(listed.json["pagination"]) == {"total", "offset", "limit", "previous", "next"}
    assert (listed.json["pagination"]["offset"], listed.json["pagination"]["previous"]) == (1, 0)
    ids = [record["id"] for record in listed.json["data"]]
    assert len(ids) == 2 and ids == sorted(ids, reverse=True)


async def test_webhooks_are_registered_and_delivered_signed(
    any_api: Api, webhook_receiver: WebhookReceiver
) -> None:
    secret = "whsec_profile_test"
    registered = await any_api.post(
        WEBHOOKS, json=hook_body(url=webhook_receiver.url + "/profile", secret=secret)
    )
    assert registered.status == 201, registered.text
    event = events()[0]
    integration = any_api.sandbox.integrations(SHARED.name)[0]["id"]
    any_api.sandbox.emit_event(event, integration, {"id": "record-1"})
    received = await webhook_receiver.next()
    timestamp = received.headers["x-unizo-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + received.body, hashlib.sha256)
    assert received.headers["x-unizo-signature"] == "v1=" + expected.hexdigest()
    assert received.headers["x-unizo-event-type"] == event
    assert received.payload["id"] == received.headers["x-unizo-delivery-id"]
    assert received.payload["integration"]["id"] == integration
