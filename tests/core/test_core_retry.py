"""Retry rules: the pure decision exhaustively, then each rule end to end over real HTTP."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import re
import socket
import ssl
import time

import pytest
from coretest_support import KEY, FakeApi, Reply, error_body
from hypothesis import given
from hypothesis import strategies as st
from unizo_mcp_core.errors import (
    BadRequestError,
    ConfigError,
    ConnectError,
    DnsError,
    InvalidResponseError,
    LocalQuotaExceededError,
    MissingKeyError,
    NotFoundError,
    ProxyError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TlsError,
)
from unizo_mcp_core.retry import (
    RetryPolicy,
    backoff_delay,
    decide_retry,
    parse_retry_after,
    server_hint,
)

POLICY = RetryPolicy(attempts=3, base_delay=1.0, max_delay=10.0)
NOW = 1_800_000_000.0


def http_date(when: float) -> str:
    return email.utils.formatdate(when, usegmt=True)


# --- parse_retry_after / server_hint ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5", 5.0),
        (" 12 ", 12.0),
        ("0.25", 0.25),
        ("0", 0.0),
        ("-3", None),  # a negative wait is no hint
        ("", None),
        ("   ", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_parse_retry_after_seconds(raw: str | None, expected: float | None) -> None:
    assert parse_retry_after(raw, now=NOW) == expected


def test_parse_retry_after_http_date() -> None:
    assert parse_retry_after(http_date(NOW + 30), now=NOW) == pytest.approx(30.0)
    assert parse_retry_after(http_date(NOW - 30), now=NOW) == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=NOW) == 0.0
    assert parse_retry_after("Thu, 01 Jan 2099 00:00:00 GMT", now=NOW) == pytest.approx(4070908800.0 - NOW)


def test_server_hint_order_on_429() -> None:
    body = {"error": {"code": "rate_limit_exceeded", "message": "slow down", "retry_after": 12}}
    both = {"Retry-After": "3", "X-RateLimit-Reset-After": "7"}
    assert server_hint(429, both, body, now=NOW) == 3.0
    assert server_hint(429, {"X-RateLimit-Reset-After": "7.5"}, body, now=NOW) == 7.5
    assert server_hint(429, {}, body, now=NOW) == 12.0
    assert server_hint(429, {}, {"retry_after": 4}, now=NOW) == 4.0
    assert server_hint(429, {}, None, now=NOW) is None
    assert server_hint(429, {"retry-after": "2"}, None, now=NOW) == 2.0  # header names are case-insensitive


def test_server_hint_on_other_statuses_only_retry_after() -> None:
    assert server_hint(503, {"Retry-After": "4"}, None, now=NOW) == 4.0
    assert server_hint(503, {"X-RateLimit-Reset-After": "7"}, {"error": {"retry_after": 9}}, now=NOW) is None
    assert server_hint(200, {"X-RateLimit-Reset-After": "0.5"}, None, now=NOW) is None


# --- backoff_delay ------------------------------------------------------------------------------


def test_backoff_delay_doubles_and_caps() -> None:
    assert backoff_delay(0, POLICY, rand=lambda: 1.0) == 1.0
    assert backoff_delay(0, POLICY, rand=lambda: 0.0) == 0.5
    assert backoff_delay(1, POLICY, rand=lambda: 1.0) == 2.0
    assert backoff_delay(3, POLICY, rand=lambda: 1.0) == 8.0
    assert backoff_delay(4, POLICY, rand=lambda: 1.0) == 10.0
    assert backoff_delay(60, POLICY, rand=lambda: 1.0) == 10.0


@given(
    attempt=st.integers(min_value=0, max_value=10),
    base=st.floats(min_value=0.001, max_value=60.0),
    extra=st.floats(min_value=0.0, max_value=600.0),
    r=st.floats(min_value=0.0, max_value=1.0),
)
def test_backoff_delay_bounds(attempt: int, base: float, extra: float, r: float) -> None:
    policy = RetryPolicy(attempts=10, base_delay=base, max_delay=base + extra)
    delay = backoff_delay(attempt, policy, rand=lambda: r)
    ceiling = min(policy.max_delay, base * 2**attempt)
    assert ceiling / 2 - 1e-9 <= delay <= ceiling + 1e-9 <= policy.max_delay + 1e-9


# --- decide_retry: what is retried ----------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retry_statuses_on_idempotent_requests(status: int) -> None:
    decision = decide_retry(0, status, idempotent=True, policy=POLICY, rand=lambda: 1.0)
    assert decision.retry is True
    assert decision.delay == 1.0
    assert str(status) in decision.reason


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 422, 500, 501, 505])
@pytest.mark.parametrize("idempotent", [True, False])
def test_other_statuses_never_retried(status: int, idempotent: bool) -> None:
    decision = decide_retry(0, status, idempotent=idempotent, policy=POLICY)
    assert decision.retry is False
    assert decision.delay == 0.0


@pytest.mark.parametrize("status", [502, 503, 504])
def test_non_idempotent_not_retried_on_5xx(status: int) -> None:
    decision = decide_retry(0, status, idempotent=False, policy=POLICY)
    assert decision.retry is False
    assert "non-idempotent" in decision.reason


def test_429_is_retried_for_non_idempotent_requests_too() -> None:
    # the API rejects the request before doing anything with it
    assert decide_retry(0, 429, idempotent=False, policy=POLICY).retry is True
    assert decide_retry(0, RateLimitedError("x", status=429), idempotent=False, policy=POLICY).retry is True


@pytest.mark.parametrize(
    ("failure", "sent", "get", "post"),
    [
        (ServerError("x", status=503), None, True, False),
        (ServerError("x", status=500), None, False, False),
        (NotFoundError("x", status=404), None, False, False),
        (BadRequestError("x", status=400), None, False, False),
        (MissingKeyError("x", status=401), None, False, False),
        (MissingKeyError("no key file"), None, False, False),
        (InvalidResponseError("x", status=200), None, True, False),
        (RequestTimeoutError("x"), None, True, False),
        (ConnectError("refused"), False, True, True),
        (ConnectError("disconnected"), True, True, False),
        (ConnectError("unknown"), None, True, False),
        (DnsError("x"), None, True, True),
        (ProxyError("proxy down"), False, True, True),
        (ProxyError("proxy 502", status=502), False, True, True),
        (ProxyError("bad proxy password", status=407), False, False, False),
        (TlsError("x"), False, False, False),
        (LocalQuotaExceededError("x"), None, False, False),
        (ConfigError("x"), None, False, False),
    ],
)
def test_retry_matrix(failure, sent: bool | None, get: bool, post: bool) -> None:
    assert decide_retry(0, failure, idempotent=True, policy=POLICY, sent=sent).retry is get
    assert decide_retry(0, failure, idempotent=False, policy=POLICY, sent=sent).retry is post


def test_attempts_are_counted() -> None:
    policy = RetryPolicy(attempts=2, base_delay=0.1, max_delay=1.0)
    assert decide_retry(0, 503, idempotent=True, policy=policy).retry
    assert decide_retry(1, 503, idempotent=True, policy=policy).retry
    final = decide_retry(2, 503, idempotent=True, policy=policy)
    assert final.retry is False and "gave up after 2 retries" in final.reason
    assert decide_retry(0, 503, idempotent=True, policy=RetryPolicy(attempts=0)).retry is False


# --- decide_retry: how long to wait ----------------------------------------------------------------


def test_server_hint_is_waited_exactly_without_jitter() -> None:
    error = RateLimitedError("slow down", status=429, retry_after=2.5)
    decision = decide_retry(0, error, idempotent=True, policy=POLICY, rand=lambda: 0.0)
    assert (decision.retry, decision.delay, decision.retry_after) == (True, 2.5, 2.5)
    zero = decide_retry(2, RateLimitedError("x", status=429, retry_after=0.0), idempotent=True, policy=POLICY)
    assert (zero.retry, zero.delay) == (True, 0.0)


def test_server_hint_on_503() -> None:
    decision = decide_retry(0, ServerError("x", status=503, retry_after=4.0), idempotent=True, policy=POLICY)
    assert (decision.retry, decision.delay) == (True, 4.0)


def test_explicit_hint_overrides_the_error_hint() -> None:
    error = RateLimitedError("x", status=429, retry_after=2.0)
    assert decide_retry(0, error, idempotent=True, policy=POLICY, retry_after=0.5).delay == 0.5
    assert decide_retry(0, 429, idempotent=True, policy=POLICY, retry_after=3.0).delay == 3.0


def test_hint_beyond_cap_ends_retries_at_once() -> None:
    error = RateLimitedError("x", status=429, retry_after=60.0)
    decision = decide_retry(0, error, idempotent=True, policy=POLICY)
    assert decision.retry is False
    assert decision.beyond_cap is True
    assert decision.retry_after == 60.0
    assert "60" in decision.reason and "UNIZO_MAX_RETRY_DELAY" in decision.reason
    # a hint equal to the cap is still waited
    assert decide_retry(0, 429, idempotent=True, policy=POLICY, retry_after=10.0).retry is True


def test_hint_does_not_make_a_non_retryable_failure_retryable() -> None:
    error = ServerError("x", status=500, retry_after=1.0)
    assert decide_retry(0, error, idempotent=True, policy=POLICY).retry is False
    post = ServerError("x", status=503, retry_after=1.0)
    assert decide_retry(0, post, idempotent=False, policy=POLICY).retry is False


def test_exponential_without_hint() -> None:
    delays = [decide_retry(a, 503, idempotent=True, policy=POLICY, rand=lambda: 1.0).delay for a in range(3)]
    assert delays == [1.0, 2.0, 4.0]


# --- end to end ---------------------------------------------------------------------------------------

PATH = "/api/v1/any/path"


@pytest.fixture
def retry_records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="unizo_mcp.retry")
    return caplog


def retries_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "unizo_mcp.retry" and ": retry " in r.getMessage()
    ]


async def test_429_with_retry_after_seconds(api: FakeApi, make_client, retry_records) -> None:
    api.script("GET", PATH, Reply(429, headers={"Retry-After": "0.01"}), Reply(200, {"data": [1]}))
    resp = await make_client().request("GET", "/any/path")
    assert resp.data == {"data": [1]}
    assert len(api.seen(PATH)) == 2
    (line,) = retries_logged(retry_records)
    assert "wait 0.01 s" in line


async def test_retry_after_beats_reset_after(api: FakeApi, make_client) -> None:
    # Reset-After 30 s would be beyond the 50 ms cap; Retry-After 0.01 wins, so the call succeeds
    api.script(
        "GET",
        PATH,
        Reply(429, headers={"Retry-After": "0.01", "X-RateLimit-Reset-After": "30"}),
        Reply(200, {"data": []}),
    )
    assert (await make_client().request("GET", "/any/path")).status == 200


async def test_429_with_past_http_date(api: FakeApi, make_client) -> None:
    api.script("GET", PATH, Reply(429, headers={"Retry-After": http_date(time.time() - 120)}), Reply(200, {}))
    assert (await make_client().request("GET", "/any/path")).status == 200
    assert len(api.seen(PATH)) == 2


async def test_http_date_beyond_cap_fails_fast(api: FakeApi, make_client) -> None:
    api.script(
        "GET",
        PATH,
        Reply(
            429,
            {"error": {"code": "rate_limit_exceeded", "message": "Rate limit exceeded"}},
            headers={"Retry-After": http_date(time.time() + 3600)},
        ),
    )
    with pytest.raises(RateLimitedError) as info:
        await make_client().request("GET", "/any/path")
    assert len(api.seen(PATH)) == 1
    assert info.value.retry_after is not None and 3500 < info.value.retry_after <= 3600
    assert re.search(r"retry after 3[56]\d\d s", info.value.message)
    assert info.value.message.startswith(f"GET {PATH} failed: Rate limit exceeded")


async def test_429_with_reset_after(api: FakeApi, make_client, retry_records) -> None:
    api.script("GET", PATH, Reply(429, headers={"X-RateLimit-Reset-After": "0.02"}), Reply(200, {}))
    assert (await make_client().request("GET", "/any/path")).status == 200
    (line,) = retries_logged(retry_records)
    assert "wait 0.02 s" in line


async def test_429_with_body_retry_after(api: FakeApi, make_client, retry_records) -> None:
    body = {"error": {"code": "rate_limit_exceeded", "message": "Rate limit exceeded", "retry_after": 0.03}}
    api.script("GET", PATH, Reply(429, body), Reply(200, {}))
    assert (await make_client().request("GET", "/any/path")).status == 200
    (line,) = retries_logged(retry_records)
    assert "wait 0.03 s" in line


async def test_body_retry_after_beyond_cap(api: FakeApi, make_client) -> None:
    body = {"error": {"code": "rate_limit_exceeded", "message": "Rate limit exceeded", "retry_after": 60}}
    api.script("GET", PATH, Reply(429, body))
    with pytest.raises(RateLimitedError) as info:
        await make_client().request("GET", "/any/path")
    assert len(api.seen(PATH)) == 1
    assert info.value.retry_after == 60
    assert "retry after 60 s" in info.value.message
    assert info.value.error_code == "rate_limit_exceeded"
    assert "retry after 60 s" in info.value.describe()


async def test_429_gives_up_after_the_configured_retries(api: FakeApi, make_client, retry_records) -> None:
    api.script("GET", PATH, Reply(429, headers={"Retry-After": "0"}))
    with pytest.raises(RateLimitedError) as info:
        await make_client(UNIZO_RETRY_ATTEMPTS="3").request("GET", "/any/path")
    assert len(api.seen(PATH)) == 4
    assert "gave up after 3 retries" in info.value.message
    assert len(retries_logged(retry_records)) == 3


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_gateway_errors_retried_for_get(api: FakeApi, make_client, status: int) -> None:
    api.script("GET", PATH, Reply(status, error_body("AP-5000001", "boom", status)), Reply(200, {"ok": 1}))
    assert (await make_client().request("GET", "/any/path")).data == {"ok": 1}
    assert len(api.seen(PATH)) == 2


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_idempotent_methods_retried(api: FakeApi, make_client, method: str) -> None:
    api.script(method, PATH, Reply(503), Reply(200, {}))
    await make_client().request(method, "/any/path")
    assert len(api.seen(PATH)) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 422, 500])
async def test_other_statuses_not_retried_end_to_end(api: FakeApi, make_client, status: int) -> None:
    api.script("GET", PATH, Reply(status, headers={"Retry-After": "0"}))
    with pytest.raises(Exception) as info:
        await make_client().request("GET", "/any/path")
    assert getattr(info.value, "status", None) == status
    assert len(api.seen(PATH)) == 1


async def test_post_not_retried_on_503(api: FakeApi, make_client) -> None:
    api.script("POST", PATH, Reply(503, error_body("AP-5000001", "unavailable", 503)), Reply(201, {}))
    with pytest.raises(ServerError):
        await make_client().request("POST", "/any/path", json={"name": "x"})
    assert len(api.seen(PATH)) == 1


async def test_post_marked_idempotent_is_retried_on_503(api: FakeApi, make_client) -> None:
    api.script("POST", PATH, Reply(503), Reply(200, {"data": []}))
    await make_client().request("POST", "/any/path", json={}, idempotent=True)
    assert len(api.seen(PATH)) == 2


async def test_post_not_retried_on_timeout(api: FakeApi, make_client, retry_records) -> None:
    api.script("POST", PATH, Reply(201, {}, delay=5.0))
    with pytest.raises(RequestTimeoutError) as info:
        await make_client(UNIZO_TIMEOUT="0.2").request("POST", "/any/path", json={"name": "x"})
    assert retries_logged(retry_records) == []
    assert len(api.seen(PATH)) <= 1
    assert "0.2 s" in info.value.message and "gave up" not in info.value.message


async def test_get_retried_on_timeout(api: FakeApi, make_client, retry_records) -> None:
    api.script("GET", PATH, Reply(200, {}, delay=5.0))
    with pytest.raises(RequestTimeoutError) as info:
        await make_client(UNIZO_TIMEOUT="0.2", UNIZO_RETRY_ATTEMPTS="1").request("GET", "/any/path")
    (line,) = retries_logged(retry_records)
    assert "(timeout)" in line
    assert "gave up after 1 retry" in info.value.message


async def test_post_not_retried_on_dropped_connection(api: FakeApi, make_client) -> None:
    api.script("POST", PATH, Reply(action="drop"), Reply(201, {}))
    with pytest.raises(ConnectError):
        await make_client().request("POST", "/any/path", json={"name": "x"})
    assert len(api.seen(PATH)) == 1


async def test_get_retried_on_dropped_connection(api: FakeApi, make_client) -> None:
    api.script("GET", PATH, Reply(action="drop"), Reply(200, {"ok": True}))
    assert (await make_client().request("GET", "/any/path")).data == {"ok": True}
    assert len(api.seen(PATH)) == 2


async def test_truncated_body_retried_for_get_only(api: FakeApi, make_client) -> None:
    api.script("GET", PATH, Reply(action="truncate"), Reply(200, {"whole": True}))
    assert (await make_client().request("GET", "/any/path")).data == {"whole": True}
    api.script("POST", PATH, Reply(action="truncate"), Reply(201, {}))
    with pytest.raises(InvalidResponseError):
        await make_client().request("POST", "/any/path", json={})
    assert len(api.seen(PATH)) == 3


async def test_invalid_json_retried_for_get(api: FakeApi, make_client) -> None:
    bad = Reply(200, body=b'{"data": [', headers={"Content-Type": "application/json"})
    api.script("GET", PATH, bad, Reply(200, {"data": []}))
    assert (await make_client().request("GET", "/any/path")).data == {"data": []}
    api.script("GET", PATH, bad)
    with pytest.raises(InvalidResponseError) as info:
        await make_client(UNIZO_RETRY_ATTEMPTS="1").request("GET", "/any/path")
    assert "not valid JSON" in info.value.message


async def test_zero_retry_attempts(api: FakeApi, make_client) -> None:
    api.script("GET", PATH, Reply(503))
    with pytest.raises(ServerError) as info:
        await make_client(UNIZO_RETRY_ATTEMPTS="0").request("GET", "/any/path")
    assert len(api.seen(PATH)) == 1
    assert "gave up" not in info.value.message


async def test_post_retried_when_connection_refused(
    server_ssl: ssl.SSLContext, make_client, retry_records
) -> None:
    """Bound but not listening: connections are refused until the server starts listening."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    late = FakeApi(server_ssl)
    late.script("POST", "/api/v1/tickets", Reply(201, {"id": "t1"}))
    refused = asyncio.Event()

    class Notice(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            refused.set()

    notice = Notice()
    logging.getLogger("unizo_mcp.retry").addHandler(notice)
    client = make_client(
        UNIZO_BASE_URL=f"https://127.0.0.1:{port}",
        UNIZO_RETRY_ATTEMPTS="10",
        UNIZO_RETRY_DELAY="20",
        UNIZO_MAX_RETRY_DELAY="100",
    )
    try:
        call = asyncio.create_task(client.request("POST", "/tickets", json={"name": "t"}))
        await asyncio.wait_for(refused.wait(), 20)
        await late.start(sock=sock)
        resp = await asyncio.wait_for(call, 20)
    finally:
        logging.getLogger("unizo_mcp.retry").removeHandler(notice)
        await late.stop()
    assert resp.status == 201 and resp.data == {"id": "t1"}
    assert len(late.seen("/api/v1/tickets")) == 1  # sent exactly once
    assert late.requests[0].headers["apikey"] == KEY
    assert any("ConnectError: the request was not sent" in line for line in retries_logged(retry_records))


async def test_post_refused_gives_up_after_retries(make_client, retry_records) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        port = sock.getsockname()[1]
        client = make_client(UNIZO_BASE_URL=f"https://127.0.0.1:{port}", UNIZO_RETRY_ATTEMPTS="2")
        with pytest.raises(ConnectError) as info:
            await client.request("POST", "/tickets", json={})
    finally:
        sock.close()
    assert len(retries_logged(retry_records)) == 2
    assert f"127.0.0.1:{port}" in info.value.message
    assert "gave up after 2 retries" in info.value.message


async def test_retry_log_lines_carry_no_headers_or_bodies(api: FakeApi, make_client, retry_records) -> None:
    api.script(
        "GET",
        PATH,
        Reply(503, {"secret-body": "do-not-log"}, headers={"X-Private": "hdr-value"}),
        Reply(200, {}),
    )
    await make_client().request("GET", "/any/path", integration_id="int-secret-9")
    (line,) = retries_logged(retry_records)
    assert line.startswith(f"GET {PATH}: retry 1 of 3 in ")
    for needle in (KEY, "do-not-log", "hdr-value", "int-secret-9", "apikey"):
        assert needle not in line


async def test_next_call_after_a_refused_long_hint_fails_at_once(api: FakeApi, make_client) -> None:
    # Hardening II, 9: the server's "not before" is remembered, not forgotten; the next call is refused
    # at once, unsent, with the wait (tests/core/test_core_ratelimit_hardening.py has the rest).
    from unizo_mcp_core.ratelimit import LocalRateLimitError

    body = {"error": {"code": "rate_limit_exceeded", "message": "Rate limit exceeded", "retry_after": 3600}}
    api.script("GET", PATH, Reply(429, body, headers={"Retry-After": "3600"}), Reply(200, {"ok": True}))
    client = make_client(UNIZO_RATE_LIMIT_BACKEND="process")
    with pytest.raises(RateLimitedError):
        await client.request("GET", "/any/path")
    with pytest.raises(LocalRateLimitError, match=r"allows the next call in 3600 s"):
        await asyncio.wait_for(client.request("GET", "/any/path"), 10)
    assert len(api.seen(PATH)) == 1
