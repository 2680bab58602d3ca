"""Fault injection: the spec grammar, each kind of fault over HTTPS, determinism, and the admin endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from unizo_mcp_sandbox.faults import FaultInjector, FaultRule, FaultSpecError, parse_spec
from unizo_mcp_sandbox.recording import DROPPED
from unizo_mcp_sandbox.testclient import sandbox_client
from unizo_mcp_sandbox.testing import SandboxHandle, start_sandbox

from .support import KEYS, PROBE, SHARED, WEBHOOKS, Api, hook_body


def test_spec_grammar() -> None:
    rules = parse_spec(
        "GET /api/v1/things/*=503@0.3; POST */parts=drop_after#1\n*/events=latency:2500 ;"
        " *=429:retry_after=2@0.5; put /x=truncate; *=nonjson@0.2#3"
    )
    assert rules == [
        FaultRule("GET", "/api/v1/things/*", "503", {}, 0.3, None),
        FaultRule("POST", "*/parts", "drop_after", {}, 1.0, 1),
        FaultRule("*", "*/events", "latency", {"ms": 2500.0}, 1.0, None),
        FaultRule("*", "*", "429", {"retry_after": 2.0}, 0.5, None),
        FaultRule("PUT", "/x", "truncate", {}, 1.0, None),
        FaultRule("*", "*", "nonjson", {}, 0.2, 3),
    ]
    assert parse_spec(None) == [] and parse_spec("  ;  ") == []
    assert parse_spec("*=latency:ms=5")[0].params == {"ms": 5.0}


@pytest.mark.parametrize(
    "spec",
    [
        "*",
        "*=418",
        "*=503@1.5",
        "*=503#0",
        "*=latency",
        "*=latency:fast",
        "*=drop:3",
        "api=503",
        "*=503@x",
        "*=429:wait=1",
    ],
)
def test_bad_specs_are_rejected(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_spec(spec)


@given(st.text(max_size=60))
def test_any_text_parses_or_fails_cleanly(spec: str) -> None:
    with contextlib.suppress(FaultSpecError):
        parse_spec(spec)


def test_rules_match_method_and_path_and_stop_at_the_first_failure() -> None:
    injector = FaultInjector(
        seed=1, spec="GET */things=latency:10; GET */things=latency:5; GET */things=503; *=500"
    )
    plan = injector.plan("GET", "/api/v1/x/things")
    assert (plan.latency_ms, plan.rule.kind if plan.rule else None) == (15.0, "503")
    assert injector.plan("POST", "/api/v1/x/things").rule == FaultRule("*", "*", "500")


def test_same_seed_same_faults() -> None:
    def outcomes(seed: int) -> list[bool]:
        injector = FaultInjector(seed=seed, spec="*=503@0.5")
        return [injector.plan("GET", "/a").rule is not None for _ in range(40)]

    assert outcomes(7) == outcomes(7)
    assert outcomes(7) != outcomes(8)
    assert 5 < sum(outcomes(7)) < 35


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_injected_statuses_have_unizo_error_bodies(api: Api, status: int) -> None:
    api.sandbox.set_faults(f"GET {PROBE}={status}")
    reply = await api.get(PROBE, integration=api.integration(SHARED.name))
    assert reply.status == status
    assert reply.error["errorCode"] == "AP-5000001"
    assert reply.error["statusCode"] == status
    assert "X-RateLimit-Remaining" in reply.headers
    assert api.sandbox.requests()[-1].fault == str(status)


@pytest.mark.parametrize(("given", "header", "body"), [("2", "2", 2), ("0.25", "0.25", 0.25)])
async def test_injected_429_carries_the_given_retry_after(
    api: Api, given: str, header: str, body: float
) -> None:
    api.sandbox.set_faults(f"*=429:retry_after={given}")
    reply = await api.get(PROBE, integration=api.integration(SHARED.name))
    assert reply.status == 429
    assert reply.headers["Retry-After"] == header
    assert reply.json == {
        "error": {
            "code": "rate_limit_exceeded",
            "message": reply.json["error"]["message"],
            "retry_after": body,
        }
    }


async def test_latency_delays_the_answer(api: Api) -> None:
    api.sandbox.set_faults(f"*{PROBE}=latency:250")
    started = time.monotonic()
    reply = await api.get(PROBE, integration=api.integration(SHARED.name))
    assert reply.status == 200
    assert time.monotonic() - started >= 0.24
    assert api.sandbox.requests()[-1].fault == "latency"


@pytest.fixture
async def fresh_connections(sandbox: SandboxHandle) -> AsyncIterator[Api]:
    """A session that never reuses connections, so a dropped one is not silently retried by aiohttp."""
    async with sandbox_client(sandbox, force_close=True) as client:
        yield client


async def webhook_count(api: Api) -> int:
    return int((await api.get(WEBHOOKS)).json["pagination"]["total"])


async def test_drop_closes_the_connection_before_the_handler(fresh_connections: Api) -> None:
    api = fresh_connections
    api.sandbox.set_faults("POST */webhooks=drop")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post(WEBHOOKS, json=hook_body())
    api.sandbox.set_faults(None)
    assert await webhook_count(api) == 0
    dropped = [entry for entry in api.sandbox.requests() if entry.method == "POST"]
    assert [(entry.status, entry.fault) for entry in dropped] == [(DROPPED, "drop")]


async def test_drop_after_keeps_the_write_but_loses_the_answer(fresh_connections: Api) -> None:
    api = fresh_connections
    api.sandbox.set_faults("POST */webhooks=drop_after#1")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post(WEBHOOKS, json=hook_body(0))
    assert await webhook_count(api) == 1
    assert (await api.post(WEBHOOKS, json=hook_body(1))).status == 201  # #1: only once
    assert await webhook_count(api) == 2


async def test_aiohttp_retries_a_dropped_get_once(fresh_connections: Api) -> None:
    """Worth knowing when counting requests in reliability tests: idempotent requests are resent once."""
    api = fresh_connections
    api.sandbox.set_faults(f"GET {PROBE}=drop")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.get(PROBE, integration=api.integration(SHARED.name))
    assert [entry.status for entry in api.sandbox.requests() if entry.path == PROBE] == [DROPPED, DROPPED]


async def test_truncate_sends_half_the_promised_body(api: Api) -> None:
    api.sandbox.set_faults("*=truncate")
    headers = {"apikey": api.sandbox.keys["full"], "integrationId": api.integration(SHARED.name)}
    async with api.session.get(api.sandbox.base_url + PROBE, headers=headers) as response:
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()


async def test_nonjson_replaces_the_body_with_html(api: Api) -> None:
    api.sandbox.set_faults("*=nonjson")
    reply = await api.get(PROBE, integration=api.integration(SHARED.name))
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    assert reply.text.startswith("<html>")
    assert "X-RateLimit-Limit" in reply.headers


async def test_probabilistic_faults_repeat_after_reset(api: Api, unlimited: SandboxHandle) -> None:
    integration = api.integration(SHARED.name)

    async def pattern() -> list[int]:
        api.sandbox.set_faults(f"GET {PROBE}=503@0.5")
        return [(await api.get(PROBE, integration=integration)).status for _ in range(24)]

    first = await pattern()
    assert set(first) == {200, 503}
    assert await pattern() == first


async def test_count_limits_how_often_a_rule_fires(api: Api) -> None:
    api.sandbox.set_faults(f"GET {PROBE}=503#2")
    integration = api.integration(SHARED.name)
    assert [(await api.get(PROBE, integration=integration)).status for _ in range(4)] == [
        503,
        503,
        200,
        200,
    ]


async def test_rules_only_hit_their_method_and_path(api: Api) -> None:
    api.sandbox.set_faults("POST */webhooks=503")
    assert (await api.get(WEBHOOKS)).status == 200
    assert (await api.post(KEYS, json={"name": "unaffected", "permissions": {}})).status == 201
    assert (await api.post(WEBHOOKS, json=hook_body())).status == 503


async def test_admin_endpoints_set_show_and_clear_faults(api: Api) -> None:
    admin = {"x-sandbox-admin-token": api.sandbox.admin_token}
    put = await api.put("/_sandbox/faults", role=None, headers=admin, json={"spec": "*/health=503"})
    assert (put.status, put.json) == (200, {"spec": "*/health=503"})
    assert (await api.get("/health", role=None)).status == 503
    text = await api.put(
        "/_sandbox/faults", role=None, headers={**admin, "Content-Type": "text/plain"}, data="*/health=502"
    )
    assert text.json == {"spec": "*/health=502"}
    assert (await api.get("/_sandbox/faults", role=None, headers=admin)).json == {"spec": "*/health=502"}
    bad = await api.put("/_sandbox/faults", role=None, headers=admin, json={"spec": "*=teapot"})
    assert (bad.status, bad.error["property"]) == (400, "spec")
    assert (await api.call("DELETE", "/_sandbox/faults", role=None, headers=admin)).status == 204
    assert (await api.get("/health", role=None)).status == 200


async def test_admin_endpoints_need_the_admin_token(api: Api) -> None:
    missing = await api.put("/_sandbox/faults", role=None, json={"spec": "*=503"})
    assert (missing.status, missing.error["errorCode"]) == (401, "AP-4010001")
    wrong = await api.put(
        "/_sandbox/faults", headers={"x-sandbox-admin-token": "nope"}, json={"spec": "*=503"}
    )
    assert (wrong.status, wrong.error["errorCode"]) == (401, "AP-4010003")
    api_key_is_not_enough = await api.post("/_sandbox/reset", role="full")
    assert api_key_is_not_enough.status == 401
    assert (await api.get("/health", role=None)).status == 200


async def test_startup_faults_come_back_after_reset(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path, faults="GET /health=504") as handle:
        async with sandbox_client(handle) as api:
            assert (await api.get("/health", role=None)).status == 504
            handle.set_faults(None)
            assert (await api.get("/health", role=None)).status == 200
            handle.reset()
            assert (await api.get("/health", role=None)).status == 504


async def test_a_write_whose_client_gave_up_during_latency_still_happens(api: Api) -> None:
    writer = (await api.post(KEYS, json={"name": "w", "permissions": {"platform": ["write"]}})).json
    api.sandbox.set_faults("POST */webhooks=latency:300#1")
    post = asyncio.create_task(api.post(WEBHOOKS, key=writer["key"], json=hook_body()))
    for _ in range(500):  # until the sandbox has the request, then give up on it like a timed-out client
        if writer["id"] in api.sandbox.max_in_flight:
            break
        await asyncio.sleep(0.01)
    post.cancel()
    with pytest.raises(asyncio.CancelledError):
        await post
    for _ in range(200):  # the sandbox finishes the request after the client left
        if any((entry.method, entry.path) == ("POST", WEBHOOKS) for entry in api.sandbox.requests()):
            break
        await asyncio.sleep(0.05)
    assert await webhook_count(api) == 1


def test_a_client_leaving_mid_body_is_logged_as_499(sandbox: SandboxHandle) -> None:
    host, port = sandbox.base_url.removeprefix("https://").split(":")
    head = (
        f"POST {WEBHOOKS} HTTP/1.1\r\nHost: {host}\r\napikey: {sandbox.keys['full']}\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    raw = socket.create_connection((host, int(port)))
    with raw, sandbox.ssl_context().wrap_socket(raw, server_hostname=host) as tls:
        tls.sendall(head.encode() + b'{"name": "cut')
        time.sleep(0.1)  # let the sandbox start waiting for the rest of the body
    for _ in range(100):
        entries = [entry for entry in sandbox.requests() if entry.path == WEBHOOKS]
        if entries:
            break
        time.sleep(0.05)
    assert [entry.status for entry in entries] == [499]
