"""Rate limit, daily quota, concurrency cap: answers, headers, and "a paced client never sees 429"."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unizo_mcp_sandbox.clock import Clock
from unizo_mcp_sandbox.config import LimitSettings
from unizo_mcp_sandbox.errors import ApiError, TooManyRequests
from unizo_mcp_sandbox.limits import RateLimiter

from .support import PROBE, SHARED, Api


class ManualClock(Clock):
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        super().__init__()
        self.now = start

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


async def test_every_api_answer_carries_rate_limit_headers(api: Api) -> None:
    before = time.time()
    ok = await api.get(PROBE, integration=api.integration(SHARED.name))
    assert ok.status == 200
    assert ok.headers["X-RateLimit-Limit"] == "100"
    assert ok.headers["X-RateLimit-Remaining"] == "99"
    assert int(ok.headers["X-RateLimit-Reset"]) >= math.floor(before)
    assert 0 < float(ok.headers["X-RateLimit-Reset-After"]) <= 0.6
    for failed in (
        await api.get(PROBE),  # 400, no integrationId
        await api.get("/api/v1/nowhere"),  # 404
        await api.get(PROBE, role="expired"),  # 401, no key to count against
    ):
        assert failed.status >= 400
        assert failed.headers["X-RateLimit-Limit"] == "100"
        assert "X-RateLimit-Remaining" in failed.headers
        assert "X-RateLimit-Reset-After" in failed.headers


async def test_over_the_limit_answers_429_with_retry_after(api: Api) -> None:
    api.sandbox.set_limits(rate_limit=5, rate_window=1000)
    integration = api.integration(SHARED.name)
    remaining = []
    for _ in range(5):
        reply = await api.get(PROBE, integration=integration)
        assert reply.status == 200
        remaining.append(reply.headers["X-RateLimit-Remaining"])
    assert remaining == ["4", "3", "2", "1", "0"]
    refused = await api.get(PROBE, integration=integration)
    assert refused.status == 429
    error = refused.json["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert 190 <= error["retry_after"] <= 200  # one token every 1000/5 s, less what refilled meanwhile
    assert refused.headers["Retry-After"] == str(error["retry_after"])
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert api.sandbox.count_429s("full") == 1
    assert (await api.get(PROBE, role="readonly", integration=integration)).status == 200  # per key
    api.sandbox.advance_clock(error["retry_after"])
    assert (await api.get(PROBE, integration=integration)).status == 200


async def test_a_client_paced_at_the_limit_never_sees_429(api: Api) -> None:
    api.sandbox.set_limits(rate_limit=10, rate_window=10)
    integration = api.integration(SHARED.name)
    statuses = []
    for _ in range(10):  # the full burst first, then one request per refill interval
        statuses.append((await api.get(PROBE, integration=integration)).status)
    for _ in range(25):
        api.sandbox.advance_clock(1.0)
        statuses.append((await api.get(PROBE, integration=integration)).status)
    assert statuses == [200] * 35


async def test_daily_quota_is_a_403_that_says_when_it_resets(api: Api) -> None:
    api.sandbox.set_limits(daily_quota=3)
    integration = api.integration(SHARED.name)
    for _ in range(3):
        assert (await api.get(PROBE, integration=integration)).status == 200
    refused = await api.get(PROBE, integration=integration)
    assert refused.status == 403
    assert refused.error["errorCode"] == "AP-4030004"
    assert "resets at" in refused.error["errorMessage"]
    assert refused.error["errorMessage"].endswith("T00:00:00Z")
    assert "X-RateLimit-Limit" in refused.headers
    api.sandbox.advance_clock(86_400)
    assert (await api.get(PROBE, integration=integration)).status == 200


async def test_concurrency_cap_answers_its_own_429(api: Api) -> None:
    api.sandbox.set_limits(max_concurrency=2)
    api.sandbox.set_faults(f"GET {PROBE}=latency:800")
    integration = api.integration(SHARED.name)
    await asyncio.gather(*(api.get("/health", role=None) for _ in range(4)))  # four warm connections
    replies = await asyncio.gather(*(api.get(PROBE, integration=integration) for _ in range(4)))
    assert sorted(reply.status for reply in replies) == [200, 200, 429, 429]
    refused = [reply for reply in replies if reply.status == 429]
    assert all(reply.json["error"]["code"] == "concurrency_limit_exceeded" for reply in refused)
    assert all(reply.headers["Retry-After"] == "1" for reply in refused)
    assert api.sandbox.max_in_flight[api.sandbox.key_id("full")] >= 3


async def test_limits_can_change_at_runtime_and_reset_restores_them(api: Api) -> None:
    api.sandbox.set_limits(rate_limit=7, daily_quota=50, max_concurrency=3, rate_window=2.5)
    assert api.sandbox.limits() == LimitSettings(7, 50, 3, 2.5)
    verify = await api.get(
        "/v1/auth/verify", role=None, headers={"Authorization": "Bearer " + api.sandbox.keys["full"]}
    )
    assert verify.json["rateLimits"] == {"perMinute": 7, "perDay": 50, "concurrency": 3, "windowSeconds": 2.5}
    api.sandbox.reset()
    assert api.sandbox.limits() == LimitSettings()


def test_bucket_refills_continuously() -> None:
    clock = ManualClock()
    limiter = RateLimiter(LimitSettings(rate_limit=4, rate_window=2.0), clock)
    for _ in range(4):
        limiter.admit("k")
        limiter.release("k")
    with pytest.raises(TooManyRequests) as refused:
        limiter.admit("k")
    assert refused.value.retry_after == 1  # 0.5 s rounds up to whole seconds
    snapshot = limiter.snapshot("k")
    assert (snapshot.remaining, snapshot.reset_after) == (0, 0.5)
    clock.now += 0.5
    limiter.admit("k")
    assert limiter.snapshot("k").reset_at == math.ceil(clock.now + 2.0)


def test_quota_counts_per_utc_day() -> None:
    clock = ManualClock(
        start=1_800_000_000.0 - 1_800_000_000.0 % 86_400 + 86_399
    )  # one second before midnight
    limiter = RateLimiter(LimitSettings(rate_limit=100, daily_quota=1), clock)
    limiter.admit("k")
    limiter.release("k")
    with pytest.raises(ApiError) as refused:
        limiter.admit("k")
    assert refused.value.code == "AP-4030004"
    clock.now += 1
    limiter.admit("k")


@st.composite
def paced_schedules(draw: st.DrawFn) -> tuple[int, float, list[float]]:
    """Arrival times where no window of `window` seconds holds more than `limit` requests."""
    limit = draw(st.integers(1, 20))
    window = draw(st.sampled_from([0.5, 1.0, 60.0]))
    gaps = draw(st.lists(st.floats(0, window / 2, allow_nan=False), min_size=1, max_size=200))
    accepted: list[float] = []
    moment = 0.0
    for gap in gaps:
        moment += gap
        if sum(1 for earlier in accepted if earlier > moment - window) < limit:
            accepted.append(moment)
    return limit, window, accepted


@settings(max_examples=200, deadline=None)
@given(paced_schedules())
def test_any_schedule_within_the_limit_is_admitted(schedule: tuple[int, float, list[float]]) -> None:
    limit, window, arrivals = schedule
    clock = ManualClock(start=0.0)
    limiter = RateLimiter(LimitSettings(rate_limit=limit, rate_window=window), clock)
    for moment in arrivals:
        clock.now = moment
        limiter.admit("k")
        limiter.release("k")
