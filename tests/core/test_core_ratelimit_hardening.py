"""Hardening II (rate limits and retries), items 9-11, on the process limiter and on the shared one.

9. A Retry-After longer than the retry cap is remembered: calls fail at once, unsent, until then.
10. After a client-side timeout the slot is kept until the API can be assumed done (the sandbox test is
    tests/reliability/test_shared_limits_hardening.py).
11. A call that would queue longer than UNIZO_MAX_QUEUE_WAIT fails at once, unsent.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from coretest_support import FakeApi, FakeClock, Reply
from unizo_mcp_core.errors import RateLimitedError
from unizo_mcp_core.localstore import RELEASE_DELAY, LocalStore
from unizo_mcp_core.ratelimit import LocalRateLimitError, RateLimiter
from unizo_mcp_core.sharedlimits import SharedRateLimiter

PATH = "/api/v1/things"
LONG_429 = Reply(
    429,
    {"error": {"code": "rate_limit_exceeded", "message": "Rate limit exceeded", "retry_after": 60}},
    headers={"Retry-After": "60"},
)


def shared(
    path: Path, clock: FakeClock, *, per_minute: int = 100, concurrency: int = 5, **extra: float
) -> SharedRateLimiter:
    """A shared limiter on the store file `path`, its store on the fake clock's wall time."""
    return SharedRateLimiter(
        LocalStore(path, clock=clock.time),
        lambda: "k" * 40,
        per_minute=per_minute,
        daily_quota=100_000,
        concurrency=concurrency,
        clock=clock,
        margin=0.0,
        **extra,
    )


# --- 9: a long Retry-After is remembered --------------------------------------------------------------


async def test_long_retry_after_refuses_the_next_calls_unsent_until_it_ends(
    api: FakeApi, make_client
) -> None:
    clock = FakeClock()
    api.script("GET", PATH, LONG_429)  # the API would answer every call with its own 429
    client = make_client(clock=clock, UNIZO_MAX_RETRY_DELAY="10000")
    with pytest.raises(RateLimitedError, match="retry after 60 s"):
        await client.request("GET", "/things")
    for _ in range(3):
        with pytest.raises(LocalRateLimitError, match=r"rate limit allows the next call in 60 s") as info:
            await client.request("GET", "/things")
        assert info.value.retry_after == pytest.approx(60.0)
    assert len(api.seen(PATH)) == 1, "calls were sent during the server's pause"
    assert clock.sleeps == [], "a call sat out a pause longer than the retry cap"
    clock.advance(45)
    with pytest.raises(LocalRateLimitError, match=r"in 15 s"):
        await client.request("GET", "/things")
    clock.advance(15)
    api.script("GET", PATH, Reply(200, {"ok": True}))
    assert (await client.request("GET", "/things")).data == {"ok": True}


async def test_short_retry_after_is_still_waited_out(api: FakeApi, make_client) -> None:
    clock = FakeClock()
    short = Reply(429, {"error": {"code": "rate_limit_exceeded"}}, headers={"Retry-After": "2"})
    api.script("GET", PATH, short, Reply(200, {"ok": True}))
    client = make_client(clock=clock, UNIZO_MAX_RETRY_DELAY="10000")
    assert (await client.request("GET", "/things")).data == {"ok": True}
    assert clock.sleeps and max(clock.sleeps) == pytest.approx(2.0)


async def test_long_pause_is_shared_by_every_process_on_the_key(tmp_path: Path) -> None:
    clock = FakeClock()
    one, other = shared(tmp_path / "limits.db", clock), shared(tmp_path / "limits.db", clock)
    async with one.slot():
        pass
    one.block(60)  # process one got the 429
    await one.aclose()  # its store update is written
    with pytest.raises(LocalRateLimitError, match=r"allows the next call in 60 s"):
        async with other.slot():
            raise AssertionError("must not get a slot")
    clock.advance(60)
    async with other.slot():
        pass
    await other.aclose()


# --- 10: a timed-out call keeps its slot ---------------------------------------------------------


async def test_lingering_slot_is_held_then_released() -> None:
    lim = RateLimiter(per_minute=1000, daily_quota=1000, concurrency=1, margin=0.0)
    async with lim.slot() as slot:
        lim.linger(slot, 0.3)  # the call timed out; the API may still be working on it
    assert lim.held == 1 and lim.in_flight == 0
    started = time.monotonic()
    async with lim.slot():
        waited = time.monotonic() - started
    assert waited >= 0.25, f"the next call got the only slot after {waited:.2f} s"
    assert lim.held == 0


async def test_lingering_lease_is_held_by_the_store(tmp_path: Path) -> None:
    clock = FakeClock()
    one = shared(tmp_path / "limits.db", clock, concurrency=1, max_queue_wait=0.5)
    other = shared(tmp_path / "limits.db", clock, concurrency=1, max_queue_wait=0.5)
    async with one.slot() as slot:
        one.linger(slot, 5.0)
    await asyncio.sleep(2 * RELEASE_DELAY)  # the release is written with the next operation, or by then
    store = other.store
    assert isinstance(store, LocalStore) and store.leases("k" * 40) == 1
    with pytest.raises(LocalRateLimitError, match=r"all 1 concurrent requests"):
        async with other.slot():
            pass
    clock.advance(5.0)
    async with other.slot():
        pass
    await one.aclose()
    await other.aclose()


async def test_timeout_keeps_the_slot_for_the_timeout_again(api: FakeApi, make_client) -> None:
    api.script("GET", PATH, Reply(200, {"slow": True}, delay=1.5), Reply(200, {"ok": True}))
    client = make_client(
        UNIZO_TIMEOUT="0.5", UNIZO_MAX_CONCURRENCY="1", UNIZO_RETRY_ATTEMPTS="1", UNIZO_RETRY_DELAY="1"
    )
    started = time.monotonic()
    resp = await client.request("GET", "/things")
    elapsed = time.monotonic() - started
    assert resp.data == {"ok": True}
    # timed out at 0.5 s, then the only slot stayed taken another 0.5 s before the retry was sent
    assert elapsed >= 0.95, f"the retry was sent {elapsed:.2f} s after the first attempt"


# --- 11: no queueing past UNIZO_MAX_QUEUE_WAIT ------------------------------------------------------


async def _storm(limiter: RateLimiter | SharedRateLimiter, calls: int) -> tuple[list, list]:
    """`calls` calls at once on the real clock: when each was sent, and when and how each refusal came."""
    start = time.monotonic()
    sent: list[float] = []
    refused: list[tuple[float, LocalRateLimitError]] = []

    async def call() -> None:
        try:
            async with limiter.slot():
                sent.append(time.monotonic() - start)
        except LocalRateLimitError as error:
            refused.append((time.monotonic() - start, error))

    await asyncio.gather(*(call() for _ in range(calls)))
    return sent, refused


@pytest.mark.parametrize("backend", ["process", "local"])
async def test_500_calls_at_100_per_minute_fail_fast_past_the_queue_wait(
    backend: str, tmp_path: Path
) -> None:
    # The product's 100 per minute and 60 s of queueing, with the minute scaled down to WINDOW seconds.
    window = 3.0
    limits = {"per_minute": 100, "daily_quota": 100_000, "concurrency": 5, "margin": 0.0}
    if backend == "process":
        limiter: RateLimiter | SharedRateLimiter = RateLimiter(**limits, window=window, max_queue_wait=window)
    else:
        limiter = SharedRateLimiter(
            LocalStore(tmp_path / "limits.db"),
            lambda: "k" * 40,
            **limits,
            window=window,
            max_queue_wait=window,
        )
    sent, refused = await _storm(limiter, 500)
    # the burst of 100, then 100 more in the window that UNIZO_MAX_QUEUE_WAIT allows
    assert 195 <= len(sent) <= 225, len(sent)  # 200, and the refill while 500 calls arrive (a loaded CPU)
    assert max(sent) <= window + 1.5, f"a call waited {max(sent):.1f} s"
    assert len(refused) == 500 - len(sent)
    # refused at once, not after queueing: one that waited its turn would have waited the queue wait out
    # (a bound of 1 s once failed on a loaded machine, for the time 500 calls take through the store)
    slowest = max(at for at, _ in refused)
    assert slowest < window, f"a refused call waited {slowest:.1f} s, the queue wait, before it was refused"
    message = refused[-1][1].message
    assert "allows the next call in" in message and f"UNIZO_MAX_QUEUE_WAIT ({window:g} s)" in message, message
    assert all(e.retry_after is not None and e.retry_after > window for _, e in refused)
    await limiter.aclose()


async def test_queue_wait_is_configurable(make_settings) -> None:
    clock = FakeClock()
    settings = make_settings(UNIZO_MAX_QUEUE_WAIT="6", UNIZO_RATE_LIMIT="60", UNIZO_MAX_RETRY_DELAY="10000")
    assert settings.max_queue_wait == 6.0
    limiter = RateLimiter.from_settings(settings, clock=clock)
    admitted = refused = 0
    for _ in range(100):  # one after another: each waits its turn, none past 6 s from its start
        started = clock.now()
        try:
            async with limiter.slot():
                admitted += 1
        except LocalRateLimitError:
            refused += 1
        assert clock.now() - started <= 6.0
    assert admitted == 100 and refused == 0
    with pytest.raises(LocalRateLimitError, match=r"UNIZO_MAX_QUEUE_WAIT \(6 s\)"):
        limiter.block(7.0)  # a pause within the retry cap, but longer than the queue wait
        async with limiter.slot():
            pass


async def test_refused_call_costs_no_token_and_no_quota() -> None:
    clock = FakeClock()
    lim = RateLimiter(
        per_minute=60, daily_quota=1000, concurrency=5, clock=clock, margin=0.0, max_queue_wait=1
    )
    sent, refused = await _storm(lim, 70)
    assert 60 <= len(sent) <= 62 and len(refused) == 70 - len(sent)
    assert lim.used_today == len(sent)
