"""RateLimiter with an injected clock: no test waits in real time."""

from __future__ import annotations

import asyncio

import pytest
from coretest_support import FakeApi, FakeClock, Reply, ServerBucket
from unizo_mcp_core.errors import LocalQuotaExceededError
from unizo_mcp_core.ratelimit import RateLimiter


def limiter(
    clock: FakeClock, *, per_minute: int = 60, daily: int = 10_000, concurrency: int = 5, margin: float = 0.0
):
    return RateLimiter(
        per_minute=per_minute, daily_quota=daily, concurrency=concurrency, clock=clock, margin=margin
    )


async def take(lim: RateLimiter, n: int) -> None:
    for _ in range(n):
        async with lim.slot():
            pass


async def test_burst_then_continuous_refill() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=60)
    await take(lim, 60)  # the whole burst at once
    assert clock.sleeps == []
    assert lim.tokens == pytest.approx(0.0)
    await take(lim, 1)  # then one token per second
    assert sum(clock.sleeps) == pytest.approx(1.0)
    clock.advance(0.5)
    assert lim.tokens == pytest.approx(0.5)
    clock.advance(1000)
    assert lim.tokens == 60  # never above the burst


async def test_sustained_rate_uses_the_whole_allowance() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=100, margin=0.2)
    start = clock.now()
    await take(lim, 1100)
    elapsed = clock.now() - start
    # 100 at once, then 1000 at 100/min = 600 s; the reserve shifts the schedule by 0.2 s, once
    assert 600.0 <= elapsed <= 600.0 + 0.2 + 1e-6
    used = 1100 / (100 + elapsed * 100 / 60)
    assert used >= 0.99


async def test_reserve_keeps_a_fraction_back() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=60, margin=0.5)
    await take(lim, 59)
    assert clock.sleeps == []
    await take(lim, 1)  # the 60th waits until the reserve (0.5 token) is there on top of it
    assert sum(clock.sleeps) == pytest.approx(0.5)


async def test_daily_quota_refuses_at_once_and_resets_at_utc_midnight() -> None:
    clock = FakeClock(wall=1_800_000_000.0)  # 2027-01-15 08:00 UTC
    lim = limiter(clock, per_minute=1000, daily=3)
    await take(lim, 3)
    assert lim.used_today == 3
    with pytest.raises(LocalQuotaExceededError) as info:
        async with lim.slot():
            raise AssertionError("must not get a slot")
    assert clock.sleeps == []  # refused without waiting
    message = info.value.message
    assert "UNIZO_DAILY_QUOTA" in message and "3 requests" in message and "not sent" in message
    assert "in 16 h 0 min" in message
    clock.advance(16 * 3600 - 1)
    with pytest.raises(LocalQuotaExceededError):
        await take(lim, 1)
    clock.advance(1)  # 00:00 UTC
    await take(lim, 1)
    assert lim.used_today == 1


async def test_quota_checked_again_after_waiting_for_a_token() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=1, daily=2)
    await take(lim, 1)
    waiting = asyncio.create_task(take(lim, 1))
    await asyncio.sleep(0)
    lim.exhaust_daily_quota()  # e.g. the server said AP-4030004 meanwhile
    with pytest.raises(LocalQuotaExceededError):
        await waiting


async def test_concurrency_cap() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=1000, concurrency=2)
    release = asyncio.Event()
    peak = 0
    entered = 0

    async def worker() -> None:
        nonlocal peak, entered
        async with lim.slot():
            entered += 1
            peak = max(peak, lim.in_flight)
            await release.wait()

    tasks = [asyncio.create_task(worker()) for _ in range(5)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert entered == 2 and lim.in_flight == 2
    release.set()
    await asyncio.gather(*tasks)
    assert peak == 2 and entered == 5 and lim.in_flight == 0


async def test_slot_released_on_error() -> None:
    lim = limiter(FakeClock(), concurrency=1)
    with pytest.raises(RuntimeError):
        async with lim.slot():
            raise RuntimeError("request failed")
    assert lim.in_flight == 0
    await asyncio.wait_for(take(lim, 1), 1)


def headers(
    limit: int | None = None, remaining: int | None = None, reset_after: float | None = None, reset=None
):
    out = {}
    if limit is not None:
        out["X-RateLimit-Limit"] = str(limit)
    if remaining is not None:
        out["X-RateLimit-Remaining"] = str(remaining)
    if reset_after is not None:
        out["X-RateLimit-Reset-After"] = str(reset_after)
    if reset is not None:
        out["X-RateLimit-Reset"] = str(reset)
    return out


async def test_server_with_fewer_tokens_lowers_ours() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=60)
    async with lim.slot() as slot:
        pass
    lim.observe(headers(60, 10, 0.5), slot)  # 10 whole tokens, half way to the 11th
    assert lim.tokens == pytest.approx(10.5)
    assert lim.status is not None and lim.status.remaining == 10


async def test_refill_since_sending_is_credited() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=60)
    async with lim.slot() as slot:
        pass
    assert lim.tokens == pytest.approx(59.0)
    clock.advance(0.5)  # the answer comes back half a second later
    lim.observe(headers(60, 59, 1.0), slot)  # in step with us: no correction
    assert lim.tokens == pytest.approx(59.5)
    lim.observe(headers(60, 10, 1.0), slot)  # someone else used the key: lowered, refill credited
    assert lim.tokens == pytest.approx(10.5)


async def test_server_with_more_tokens_does_not_raise_ours() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=60)
    await take(lim, 50)
    async with lim.slot() as slot:
        pass
    lim.observe(headers(60, 55, 0.0), slot)
    assert lim.tokens == pytest.approx(9.0)


async def test_remaining_zero_waits_for_reset_after() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=60)
    async with lim.slot() as slot:
        pass
    lim.observe(headers(60, 0, 0.8), slot)
    assert lim.tokens == pytest.approx(0.2)
    await take(lim, 1)
    assert sum(clock.sleeps) == pytest.approx(0.8)


async def test_tokens_taken_later_are_subtracted() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=60)
    async with lim.slot() as first:
        pass
    await take(lim, 3)  # three more requests sent before the first answer arrived
    lim.observe(headers(60, 20, 1.0), first)  # 20.0 tokens after the first, as the server saw it
    assert lim.tokens == pytest.approx(17.0)


async def test_reset_header_used_without_reset_after() -> None:
    clock = FakeClock(wall=1_800_000_000.0)
    lim = limiter(clock, per_minute=60)
    async with lim.slot() as slot:
        pass
    # full again in 59.5 s at 1 token/s: 0.5 tokens now
    lim.observe(headers(60, 0, reset=1_800_000_000 + 59.5), slot)
    assert lim.tokens == pytest.approx(0.5)


async def test_remaining_without_fraction_is_taken_as_is() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=60)
    async with lim.slot() as slot:
        pass
    lim.observe({"X-RateLimit-Remaining": "3"}, slot)
    assert lim.tokens == pytest.approx(3.0)


async def test_the_server_limit_is_followed_up_to_the_configured_one() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=100)
    async with lim.slot() as slot:
        pass
    lim.observe(headers(limit=30), slot)
    assert lim.per_minute == 30
    assert lim.tokens == 30
    clock.advance(1000)
    assert lim.tokens == 30
    # the API raised it again: so does ours, refilling at the new rate (a lowered limit is not for good)
    lim.observe(headers(limit=60), None)
    assert lim.per_minute == 60
    clock.advance(1000)
    assert lim.tokens == 60
    lim.observe(headers(limit=500), None)  # never above the configured limit
    assert lim.per_minute == 100


async def test_garbage_headers_are_ignored() -> None:
    lim = limiter(FakeClock(), per_minute=60)
    lim.observe(
        {"X-RateLimit-Remaining": "lots", "X-RateLimit-Reset-After": "-1", "X-RateLimit-Limit": "nan"}
    )
    assert lim.tokens == 60
    lim.observe({"Content-Type": "application/json"})
    assert lim.status is None


async def test_block_delays_everyone() -> None:
    clock = FakeClock()
    lim = limiter(clock, per_minute=60)
    lim.block(5.0)
    await take(lim, 2)
    assert sum(clock.sleeps) == pytest.approx(5.0)


def test_invalid_configuration() -> None:
    with pytest.raises(ValueError):
        RateLimiter(per_minute=0, daily_quota=1, concurrency=1)


# --- against a server that enforces the same bucket -----------------------------------------------


async def test_client_never_gets_429_and_uses_the_allowance(api: FakeApi, make_client) -> None:
    clock = FakeClock()
    api.bucket = ServerBucket(60, clock)
    client = make_client(
        clock=clock, UNIZO_RATE_LIMIT="60", UNIZO_MAX_CONCURRENCY="5", UNIZO_RETRY_ATTEMPTS="0"
    )
    start = clock.now()

    async def worker(n: int) -> None:
        for _ in range(n):
            await client.request("GET", "/any/path")

    await asyncio.gather(*(worker(30) for _ in range(5)))  # 150 requests
    elapsed = clock.now() - start
    assert api.bucket.rejected == 0
    assert api.bucket.accepted == 150
    allowance = 60 + elapsed * 60 / 60
    assert 150 / allowance >= 0.95
    status = client.rate_limit_status
    assert status is not None and status.limit == 60


async def test_client_adapts_when_another_consumer_used_the_bucket(api: FakeApi, make_client) -> None:
    clock = FakeClock()
    api.bucket = ServerBucket(60, clock, tokens=3)  # someone else spent most of the minute
    client = make_client(
        clock=clock, UNIZO_RATE_LIMIT="60", UNIZO_MAX_CONCURRENCY="1", UNIZO_RETRY_ATTEMPTS="0"
    )
    for _ in range(10):
        await client.request("GET", "/any/path")
    assert api.bucket.rejected == 0
    assert clock.now() > 1000.0 + 6  # it had to wait for refills


async def test_429_blocks_the_limiter_for_the_hint(api: FakeApi, make_client) -> None:
    clock = FakeClock()
    body = {"error": {"code": "rate_limit_exceeded", "message": "Rate limit exceeded", "retry_after": 0.01}}
    api.script("GET", "/api/v1/any/path", Reply(429, body, headers={"Retry-After": "0.01"}), Reply(200, {}))
    client = make_client(clock=clock)
    await client.request("GET", "/any/path")
    assert any(s == pytest.approx(0.01, abs=1e-3) for s in clock.sleeps)


async def test_nearly_whole_fraction_takes_the_lower_reading() -> None:
    # 0.99 tokens reported as Remaining 1 by a tolerant server, with 0.01 token to go: 0.99, not 1.99
    clock = FakeClock()
    lim = limiter(clock, per_minute=60)
    async with lim.slot() as slot:
        pass
    lim.observe(headers(60, 1, 0.01), slot)
    assert lim.tokens == pytest.approx(0.99)


async def test_custom_window() -> None:
    clock = FakeClock()
    lim = RateLimiter(per_minute=10, daily_quota=100, concurrency=5, clock=clock, margin=0.0, window=1.0)
    await take(lim, 12)
    assert sum(clock.sleeps) == pytest.approx(0.2)


async def test_window_from_settings_spreads_the_allowance() -> None:
    from unizo_mcp_core.settings import load_settings

    settings = load_settings(
        "demo", {"UNIZO_API_KEY": "k-123456", "UNIZO_RATE_LIMIT": "10", "UNIZO_RATE_WINDOW": "2"}
    )
    clock = FakeClock()
    lim = RateLimiter.from_settings(settings, clock=clock)
    await take(lim, 11)
    # 10 per 2 s refills 5 tokens a second; one token over the burst plus the 0.2 s reserve (one
    # token) is 0.4 s of waiting. Over the default minute it would be 12 s.
    assert sum(clock.sleeps) == pytest.approx(0.4, abs=0.01)
