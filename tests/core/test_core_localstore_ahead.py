"""The local store's calls without a transaction: tokens reserved ahead and a lease kept between calls.

See `localstore`'s docstring. A process's first call on a key, calls of processes
that take turns on it and calls near the bucket's or the day's limits take their token in the store;
whatever is reserved and not used goes back; processes never count the same send number twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest
from coretest_support import FakeClock
from unizo_mcp_core.errors import LocalQuotaExceededError
from unizo_mcp_core.localstore import AHEAD, CROWDED_FOR, KEEP, RELEASE_DELAY, LocalStore
from unizo_mcp_core.sharedlimits import SharedRateLimiter

FP = "k" * 40
RICH = {"per_minute": 1000, "daily_quota": 1_000_000}  # far from both limits: calls reserve ahead


def limiter_on(store: LocalStore, clock: FakeClock | None, **params: int) -> SharedRateLimiter:
    merged = {"concurrency": 2, "margin": 0.0, **RICH, **params}
    return SharedRateLimiter(store, lambda: FP, clock=clock, **merged)  # type: ignore[arg-type]


async def calls(limiter: SharedRateLimiter, n: int, answer: dict[str, str] | None = None) -> list[int]:
    """`n` calls one after the other; their send numbers. `answer`: the rate-limit headers each gets."""
    sent = []
    for _ in range(n):
        async with limiter.slot() as slot:
            sent.append(slot.seq)
            if answer is not None:
                limiter.observe(answer, slot)
    return sent


def transactions(store: LocalStore) -> list[str]:
    """From now on, a "BEGIN" for every transaction of `store` (opened already)."""
    assert store._db is not None
    begun: list[str] = []
    store._db.set_trace_callback(lambda sql: begun.append(sql) if sql.startswith("BEGIN") else None)
    return begun


def bucket(path: Path) -> tuple[float, int, int, int]:
    """The key's row as the other processes read it: tokens, seq, sent, used."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        row = db.execute("SELECT tokens, seq, sent, used FROM bucket WHERE key = ?", (FP,)).fetchone()
    return float(row[0]), int(row[1]), int(row[2]), int(row[3])


async def test_far_from_the_limits_one_transaction_serves_several_calls(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "limits.db")
    limiter = limiter_on(store, None)
    first = await calls(limiter, 1)  # the process's first call: it cannot know whether it is alone
    begun = transactions(store)
    later = await calls(limiter, 2 * (AHEAD + 1))
    # the second call reserves AHEAD tokens, which serve the next AHEAD calls; then the same again
    assert len(begun) == 2
    assert first + later == list(range(1, 2 * (AHEAD + 1) + 2)), "send numbers in order, none skipped"
    await limiter.aclose()


async def test_tokens_reserved_ahead_are_counted_at_once_and_given_back_unused(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "limits.db"
    limiter = limiter_on(LocalStore(path, clock=clock.time), clock)
    await calls(limiter, 3)  # the second reserved AHEAD tokens; the third used one of them
    tokens, seq, sent, used = bucket(path)
    assert (seq, sent, used) == (AHEAD + 2, AHEAD + 2, AHEAD + 2)  # the other processes count them as sent
    assert tokens == pytest.approx(1000 - AHEAD - 2)
    assert limiter.used_today == 3  # this process shows the calls it made
    await limiter.aclose()
    tokens, seq, sent, used = bucket(path)
    assert (seq, sent, used) == (3, 3, 3)
    assert tokens == pytest.approx(997)


async def test_near_half_the_bucket_every_call_takes_its_token_in_the_store(tmp_path: Path) -> None:
    clock = FakeClock()  # no refill: the bucket only empties
    path = tmp_path / "limits.db"
    store = LocalStore(path, clock=clock.time)
    limiter = limiter_on(store, clock, per_minute=60)
    await calls(limiter, 30)
    begun = transactions(store)
    await calls(limiter, 10)  # the bucket is at half its capacity or below from here on
    assert len(begun) == 10
    tokens, seq, sent, used = bucket(path)
    assert tokens == pytest.approx(20) and seq == sent == used == 40  # nothing held back
    await limiter.aclose()


async def test_near_the_days_quota_every_call_takes_its_token_in_the_store(tmp_path: Path) -> None:
    # two processes, a quota of 70 and a bucket of 60: between them they make all 70 calls, not one fewer
    # (a token reserved ahead and held by one would refuse the other) and not one more
    clock = FakeClock()  # the waits for tokens advance it
    path = tmp_path / "limits.db"
    one, two = (
        limiter_on(LocalStore(path, clock=clock.time), clock, per_minute=60, daily_quota=70) for _ in "12"
    )
    made, refused = 0, 0
    for index in range(90):
        try:
            made += len(await calls((one, two)[index // 7 % 2], 1))
        except LocalQuotaExceededError:
            refused += 1
    assert (made, refused) == (70, 20)
    assert bucket(path)[3] == 70
    await one.aclose()
    await two.aclose()


async def test_a_process_holds_no_tokens_of_the_days_last_bucket(tmp_path: Path) -> None:
    # a bucket far larger than what is left of the day: the other process gets every call that is left
    path = tmp_path / "limits.db"
    one, two = (limiter_on(LocalStore(path), None, daily_quota=70) for _ in "12")
    await calls(one, 66)
    assert len(await calls(two, 4)) == 4
    with pytest.raises(LocalQuotaExceededError):
        await calls(one, 1)
    await one.aclose()
    await two.aclose()


async def test_processes_taking_turns_on_a_key_take_one_token_per_call(tmp_path: Path) -> None:
    path = tmp_path / "limits.db"
    stores = [LocalStore(path), LocalStore(path)]
    limiters = [limiter_on(store, None) for store in stores]
    await calls(limiters[0], 1)
    await calls(limiters[1], 1)
    begun = [transactions(store) for store in stores]
    for turn in range(8):
        await calls(limiters[turn % 2], 1)
        _, seq, sent, used = bucket(path)
        assert seq == sent == used == turn + 3, "a token reserved ahead while another process uses the key"
    assert [len(b) for b in begun] == [4, 4]
    for limiter in limiters:
        await limiter.aclose()


async def test_after_another_process_used_the_key_nothing_is_reserved_for_a_while(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "limits.db"
    mine, other = LocalStore(path, clock=clock.time), LocalStore(path, clock=clock.time)
    limiter, theirs = limiter_on(mine, clock), limiter_on(other, clock)
    await calls(limiter, 1)
    await calls(theirs, 1)  # seen by this process at its next call
    begun = transactions(mine)
    await calls(limiter, 4)
    assert len(begun) == 4, "tokens reserved ahead although the key is shared"
    clock.advance(CROWDED_FOR)
    await calls(limiter, 4)  # alone for that long: the first reserves ahead again
    assert len(begun) == 5
    await limiter.aclose()
    await theirs.aclose()


async def test_processes_sharing_a_key_never_get_the_same_send_number(tmp_path: Path) -> None:
    path = tmp_path / "limits.db"
    one, two = (limiter_on(LocalStore(path), None) for _ in range(2))
    sent: list[int] = []
    for round_ in range(12):
        sent += await calls(one if round_ % 2 else two, round_ % 5 + 1)
        if round_ % 3 == 2:  # a pause: the process that called last gives its reserved tokens back
            await asyncio.sleep(2 * RELEASE_DELAY)
    assert len(sent) == len(set(sent)), sorted(sent)
    await one.aclose()
    await two.aclose()
    assert bucket(path)[3] == len(sent)  # the day's count: the calls made, reserved tokens given back


async def test_an_answer_with_little_left_sends_the_next_call_through_the_store(tmp_path: Path) -> None:
    path = tmp_path / "limits.db"
    store = LocalStore(path)
    limiter = limiter_on(store, None)
    await calls(limiter, 2)
    begun = transactions(store)
    await calls(limiter, 1, {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "900"})
    assert begun == [], "plenty left: the token reserved ahead serves"
    await calls(limiter, 1, {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "100"})
    await calls(limiter, 1)
    assert len(begun) == 1, "less than half left: the correction is written before the next call"
    assert bucket(path)[0] < 100
    await limiter.aclose()


async def test_a_kept_lease_is_taken_over_without_a_transaction_only_while_it_lasts(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "limits.db"
    store, other = LocalStore(path, clock=clock.time), LocalStore(path, clock=clock.time)
    limiter = limiter_on(store, clock, concurrency=1)
    await calls(limiter, 2)
    begun = transactions(store)
    await calls(limiter, 1)
    assert begun == [] and other.leases(FP) == 1  # the first call's lease, kept for the second
    clock.advance(KEEP + 0.01)  # the kept lease no longer lasts the whole lease time: written anew
    await calls(limiter, 1)
    assert len(begun) == 1
    await limiter.aclose()
    assert other.leases(FP) == 0
    await other.aclose()


async def test_giving_tokens_back_does_not_make_a_process_think_it_shares_the_key(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "limits.db")
    limiter = limiter_on(store, None)
    await calls(limiter, 3)  # the second reserved ahead
    await asyncio.sleep(2 * RELEASE_DELAY)  # a pause: the unused tokens go back (renumbered)
    begun = transactions(store)
    await calls(limiter, AHEAD + 1)
    assert len(begun) == 1, "its own give-back taken for another process's call"
    await limiter.aclose()


async def test_corrections_that_say_plenty_is_left_wait_for_the_next_transaction(tmp_path: Path) -> None:
    # calls a quarter of RELEASE_DELAY apart, each answer a correction: the release timer, which would end
    # the lease the next call takes over and give the reserved tokens back, is not kept running for
    # corrections alone: one transaction per AHEAD + 1 calls still
    store = LocalStore(tmp_path / "limits.db")
    limiter = limiter_on(store, None)
    await calls(limiter, 2)
    begun = transactions(store)
    answer = {"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "990"}
    for _ in range(2 * (AHEAD + 1)):
        await calls(limiter, 1, answer)
        await asyncio.sleep(RELEASE_DELAY / 4)
    assert len(begun) <= 3, len(begun)
    await limiter.aclose()


async def test_tokens_reserved_before_midnight_are_not_used_after_it(tmp_path: Path) -> None:
    # the new UTC day's count starts from zero: a call after midnight is counted in it, not in the old one
    day = 86_400
    clock = FakeClock(wall=20_000 * day - 0.5)
    path = tmp_path / "limits.db"
    store = LocalStore(path, clock=clock.time)
    limiter = limiter_on(store, clock)
    await calls(limiter, 2)  # the second reserved ahead, half a second before midnight
    clock.advance(0.6)
    begun = transactions(store)
    await calls(limiter, 1)
    assert len(begun) == 1
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT day, used FROM bucket").fetchone() == (20_000, 1 + AHEAD)
    await limiter.aclose()
