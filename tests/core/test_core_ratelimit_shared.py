"""SharedRateLimiter and the local store (SQLite) in process: sharing, fingerprints, leases, falling back.

The real multi-process runs (stdio servers, Redis, kill -9) are tests/reliability/test_shared_limits.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import sqlite3
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from coretest_support import KEY, FakeClock
from unizo_mcp_core.errors import ConfigError, LocalQuotaExceededError
from unizo_mcp_core.limitstore import Limits, Outcome, StoreUnavailable, limit_key
from unizo_mcp_core.localstore import KEEP, RELEASE_DELAY, LocalStore, default_store_path
from unizo_mcp_core.ratelimit import RateLimiter
from unizo_mcp_core.settings import load_settings
from unizo_mcp_core.sharedlimits import PROBE_INTERVAL, SharedRateLimiter, make_limiter

FP = "k" * 40


def shared(store: LocalStore | FailingStore, clock: FakeClock | None, **extra: float) -> SharedRateLimiter:
    params = {"per_minute": 60, "daily_quota": 1000, "concurrency": 2, "margin": 0.0, **extra}
    return SharedRateLimiter(store, lambda: FP, clock=clock, **params)  # type: ignore[arg-type]


async def take(limiter: SharedRateLimiter, n: int) -> None:
    for _ in range(n):
        async with limiter.slot():
            pass


SMALL = Limits(capacity=10, rate=1, reserve=0, quota=100, max_wait=60, max_block=10)


def two_stores(path: Path, clock: FakeClock | None = None) -> tuple[LocalStore, LocalStore]:
    """Two processes' stores on one file, taking one token per transaction (the lease handover alone)."""
    if clock is None:
        return LocalStore(path, ahead=0), LocalStore(path, ahead=0)
    return LocalStore(path, clock=clock.time, ahead=0), LocalStore(path, clock=clock.time, ahead=0)


async def one_call_ended(
    path: Path, clock: FakeClock | None, concurrency: int
) -> tuple[LocalStore, LocalStore]:
    """Two processes' stores; the first made a call ("one-1", send number 1), whose release is pending."""
    one, other = two_stores(path, clock)
    assert (await one.take_lease(FP, SMALL, "one-1", 30.0, concurrency))[1] == 1
    await one.release(FP, "one-1")
    return one, other


async def test_two_limiters_on_one_store_share_one_bucket(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "limits.db"
    one, two = (
        shared(LocalStore(path, clock=clock.time), clock),
        shared(LocalStore(path, clock=clock.time), clock),
    )
    await take(one, 40)
    await take(two, 20)  # the burst of 60 is used up between them
    assert clock.sleeps == []
    await take(two, 1)
    assert sum(clock.sleeps) == pytest.approx(1.0)  # one token a second, for both
    assert one.used_today == 40 and two.used_today == 61
    await one.aclose()
    await two.aclose()


async def test_daily_quota_is_shared(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "limits.db"
    one = shared(LocalStore(path, clock=clock.time), clock, daily_quota=3)
    two = shared(LocalStore(path, clock=clock.time), clock, daily_quota=3)
    await take(one, 2)
    await take(two, 1)
    with pytest.raises(LocalQuotaExceededError, match="UNIZO_DAILY_QUOTA"):
        await take(one, 1)
    two.exhaust_daily_quota()
    await two.aclose()


async def test_concurrency_cap_is_shared(tmp_path: Path) -> None:
    path = tmp_path / "limits.db"
    one, two = (
        shared(LocalStore(path), None, per_minute=1000, max_queue_wait=30),  # the real clock: it polls
        shared(LocalStore(path), None, per_minute=1000, max_queue_wait=30),
    )
    release = asyncio.Event()
    peak = inside = 0

    async def worker(limiter: SharedRateLimiter) -> None:
        nonlocal peak, inside
        async with limiter.slot():
            inside += 1
            peak = max(peak, inside)
            await release.wait()
            inside -= 1

    tasks = [asyncio.create_task(worker(limiter)) for limiter in (one, two) for _ in range(3)]
    for _ in range(50):
        await asyncio.sleep(0.005)
    assert inside == 2, "more calls inside than the key's concurrency cap"
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert peak == 2
    await one.aclose()
    await two.aclose()


async def test_a_store_file_of_another_schema_is_rebuilt_not_given_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A file an earlier version wrote: same version number, a column missing (upgrades must not stop sharing).
    path = tmp_path / "limits.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.executescript(
            "CREATE TABLE bucket (key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated REAL NOT NULL,"
            " seq INTEGER, not_before REAL, day INTEGER, used INTEGER);"
            "CREATE TABLE lease (key TEXT, lease TEXT, expires REAL);"
            "INSERT INTO bucket VALUES ('old', 1.0, 0, 0, 0, 0, 0);"
            "PRAGMA user_version=1;"
        )
    clock = FakeClock()
    one, two = (
        shared(LocalStore(path, clock=clock.time), clock),
        shared(LocalStore(path, clock=clock.time), clock),
    )
    with caplog.at_level(logging.WARNING):
        await take(one, 60)
        await take(two, 1)  # the second process opens the rebuilt file and shares its bucket
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert sum(clock.sleeps) == pytest.approx(1.0)
    await one.aclose()
    await two.aclose()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] > 1
        assert "sent" in {row[1] for row in db.execute("PRAGMA table_info(bucket)")}


async def test_a_dead_process_lease_expires(tmp_path: Path) -> None:
    clock = FakeClock()
    store = LocalStore(tmp_path / "limits.db", clock=clock.time)
    limits = Limits(capacity=10, rate=1, reserve=0, quota=100, max_wait=60, max_block=10)
    await store.take(FP, limits)
    assert await store.acquire(FP, "dead-1", 32.0, 1) == 1  # its process is killed: never released
    assert await store.acquire(FP, "alive-1", 32.0, 1) == 0
    clock.advance(32.0)
    assert await store.acquire(FP, "alive-1", 32.0, 1) == 2
    await store.release(FP, "alive-1")  # a release also deletes the key's expired leases: no rows pile up
    await store.aclose()
    with contextlib.closing(sqlite3.connect(tmp_path / "limits.db")) as db:
        assert db.execute("SELECT lease FROM lease").fetchall() == []


async def test_a_call_costs_one_transaction_while_calls_keep_coming(tmp_path: Path) -> None:
    # A lease's release is written with the next call's take: the commits are most of a call's cost.
    store = LocalStore(tmp_path / "limits.db")
    limiter = shared(store, None, per_minute=1000)
    await take(limiter, 1)  # opens the file (schema, pragmas)
    assert store._db is not None
    commits: list[str] = []
    store._db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    await take(limiter, 10)
    assert len(commits) == 10
    await limiter.aclose()  # the last release is written on close
    assert len(commits) == 11
    with contextlib.closing(sqlite3.connect(tmp_path / "limits.db")) as db:
        assert db.execute("SELECT COUNT(*) FROM lease").fetchone()[0] == 0


ONE_CALL = ["BEGIN", "SELECT", "UPDATE", "INSERT", "COMMIT"]  # read the bucket, move the lease on, save


async def traced(path: Path) -> tuple[SharedRateLimiter, list[str]]:
    """A limiter on a local store that has made one call (its file is set up), and the statements it runs
    from now on."""
    store = LocalStore(path)
    limiter = shared(store, None, per_minute=1000)
    await take(limiter, 1)
    assert store._db is not None
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    return limiter, statements


async def test_a_call_is_three_statements_while_calls_keep_coming(tmp_path: Path) -> None:
    # The ended call's lease is handed to the next one, and its answer's correction applied to the bucket
    # the take reads anyway: read the bucket, move the lease on, save the bucket.
    limiter, statements = await traced(tmp_path / "limits.db")
    for _ in range(5):
        async with limiter.slot() as slot:  # each answer lowers the shared estimate: a correction
            limiter.observe({"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "500"}, slot)
    assert [sql.split()[0] for sql in statements] == ONE_CALL * 5, statements
    await limiter.aclose()
    with contextlib.closing(sqlite3.connect(tmp_path / "limits.db")) as db:
        assert db.execute("SELECT COUNT(*) FROM lease").fetchone()[0] == 0
        tokens = db.execute("SELECT tokens FROM bucket").fetchone()[0]
    assert tokens <= 500  # the corrections were written, the last one on close


async def test_the_server_limit_is_followed_up_to_the_configured_one(tmp_path: Path) -> None:
    # A limit the API lowered for a while must not throttle the process until it restarts.
    store = LocalStore(tmp_path / "limits.db", ahead=0)
    limiter = shared(store, None, per_minute=100)
    for limit, followed in (("30", 30), ("60", 60), ("500", 100)):
        async with limiter.slot() as slot:
            limiter.observe({"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": "20"}, slot)
        assert limiter.per_minute == followed, limit
    await limiter.aclose()


async def test_calls_that_keep_coming_keep_handing_their_lease_over(tmp_path: Path) -> None:
    # Calls a fifth of RELEASE_DELAY apart, for several times RELEASE_DELAY: every release is handed to the
    # next call; none is written on its own by the timer (which would end the lease the next call could take).
    limiter, statements = await traced(tmp_path / "limits.db")
    for _ in range(20):
        await take(limiter, 1)
        await asyncio.sleep(RELEASE_DELAY / 5)
    assert [sql.split()[0] for sql in statements] == ONE_CALL * 20
    await limiter.aclose()


async def test_a_handed_over_lease_expires_a_lease_time_after_the_new_call_took_it(tmp_path: Path) -> None:
    clock = FakeClock()
    one, other = await one_call_ended(tmp_path / "limits.db", clock, 1)
    clock.advance(20.0)
    assert (await one.take_lease(FP, SMALL, "one-2", 30.0, 1))[1] == 2  # one-1 handed over
    assert other.leases(FP) == 1
    clock.advance(20.0)  # one-1's own lease time is over; the call that took it over is not
    assert other.leases(FP) == 1
    assert await other.acquire(FP, "other-1", 30.0, 1) == 0
    await one.release(FP, "one-2")
    await one.aclose()
    assert await other.acquire(FP, "other-1", 30.0, 1) == 3
    await other.aclose()


async def test_a_lease_deleted_meanwhile_is_not_handed_over_but_taken_anew(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "limits.db"
    one, other = await one_call_ended(path, clock, 2)
    clock.advance(31.0)  # this process is paused for longer than the lease time
    await other.acquire(FP, "other-1", 30.0, 2)
    await other.release(FP, "other-1")
    await other.aclose()  # its release deletes the key's expired leases: one-1 is gone
    take, sent = await one.take_lease(FP, SMALL, "one-2", 30.0, 2)
    assert take.outcome is Outcome.GRANTED and sent == 3
    assert one.leases(FP) == 1
    await one.release(FP, "one-2")
    await one.aclose()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*) FROM lease").fetchone()[0] == 0


async def test_a_release_reaches_the_other_processes_without_another_call(tmp_path: Path) -> None:
    one, other = await one_call_ended(tmp_path / "limits.db", None, 1)  # the last call for a while
    await asyncio.sleep(2 * RELEASE_DELAY)
    assert other.leases(FP) == 0
    assert await other.acquire(FP, "other-1", 30.0, 1) == 2  # the only slot is free for the other process
    await one.aclose()
    await other.aclose()


async def test_a_release_that_cannot_be_written_is_dropped_and_its_lease_expires(tmp_path: Path) -> None:
    clock = FakeClock()
    one, other = await one_call_ended(tmp_path / "limits.db", clock, 1)

    def unavailable() -> sqlite3.Connection:
        raise StoreUnavailable("the disk is gone")

    one._connect = unavailable  # type: ignore[method-assign]
    await asyncio.sleep(2 * RELEASE_DELAY)  # the write fails in the background, quietly
    assert one._releases == [] and other.leases(FP) == 1
    clock.advance(30.0 + KEEP)  # the lease time asked for, and the time it is kept for the next call
    assert other.leases(FP) == 0  # as a killed process's lease
    await other.aclose()


def _open_and_take(path: Path, start: Any, answers: Any) -> None:
    """One process of test_servers_started_together_all_share_a_new_store."""

    async def take_one() -> str:
        store = LocalStore(path)
        limits = Limits(capacity=100, rate=10, reserve=0, quota=1000, max_wait=60, max_block=10)
        try:
            await store.take_lease(FP, limits, f"{os.getpid()}-1", 30.0, 100)
            return "shared"
        except StoreUnavailable as error:
            return str(error)
        finally:
            await store.aclose()

    start.wait()
    answers.put(asyncio.run(take_one()))


def test_servers_started_together_all_share_a_new_store(tmp_path: Path) -> None:
    # Switching a new file to WAL mode is refused at once ("database is locked") while another process
    # does it: servers started together fell back to limiting alone (429s in the bench's figure 7).
    context = multiprocessing.get_context("fork")
    for attempt in range(12):
        path = tmp_path / f"limits-{attempt}.db"
        start, answers = context.Barrier(4), context.Queue()
        processes = [context.Process(target=_open_and_take, args=(path, start, answers)) for _ in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(30)
        got = [answers.get(timeout=5) for _ in processes]
        assert got == ["shared"] * 4, f"attempt {attempt + 1}: {got}"


async def test_the_key_is_stored_only_as_a_fingerprint_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "cache" / "limits.db"
    limiter = SharedRateLimiter(
        LocalStore(path),
        lambda: limit_key("https://api.unizo.ai", KEY),
        per_minute=60,
        daily_quota=10,
        concurrency=1,
    )
    await take(limiter, 3)
    await limiter.aclose()
    for file in path.parent.iterdir():
        assert KEY.encode() not in file.read_bytes(), f"the key is in {file.name}"
    if sys.platform != "win32":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert limit_key("https://api.unizo.ai", KEY) != limit_key("https://staging.unizo.ai", KEY)


async def test_correction_counts_requests_in_send_order(tmp_path: Path) -> None:
    clock = FakeClock()
    store = LocalStore(tmp_path / "limits.db", clock=clock.time)
    limits = Limits(capacity=10, rate=1, reserve=0, quota=100, max_wait=60, max_block=10)
    for _ in range(4):
        assert (await store.take(FP, limits)).outcome is Outcome.GRANTED  # 6 tokens left, 4 reserved
    first = await store.acquire(FP, "a", 30, 5)  # the first request sent
    # it was answered with 2 tokens left: the three other reservations still come off that
    await store.correct(FP, 2.0, first, limits)
    granted = await store.take(FP, limits)
    assert granted.wait == pytest.approx(2.0)  # -1 tokens: two seconds to one whole token
    # an answer as expected lowers nothing
    await store.correct(FP, 100.0, first, limits)
    assert (await store.take(FP, limits)).wait == pytest.approx(3.0)
    await store.aclose()


class FailingStore(LocalStore):
    """A local store that fails while `down` is set, as a Redis outage would."""

    down = False

    def _connect(self):  # type: ignore[no-untyped-def]
        if self.down:
            raise StoreUnavailable("connection refused")
        return super()._connect()


async def test_store_outage_falls_back_with_one_warning_then_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    store = FailingStore(tmp_path / "limits.db", clock=clock.time, ahead=0)  # every call uses the store
    limiter = shared(store, clock)
    caplog.set_level(logging.INFO, "unizo_mcp.ratelimit")
    await take(limiter, 2)
    assert limiter.shared
    store.down = True
    await take(limiter, 5)  # served all the same, by the process limiter
    assert not limiter.shared and limiter.fallback.used_today == 5
    warnings = [r for r in caplog.records if "no longer shared" in r.getMessage()]
    assert len(warnings) == 1 and "connection refused" in warnings[0].getMessage()
    store.down = False
    await take(limiter, 1)  # within the probe interval: still alone
    assert not limiter.shared
    clock.advance(PROBE_INTERVAL)
    await take(limiter, 1)
    assert limiter.shared
    assert sum("shared again" in r.getMessage() for r in caplog.records) == 1
    await limiter.aclose()


def test_backend_setting_picks_the_limiter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"UNIZO_API_KEY": KEY}
    default = make_limiter(load_settings("svc", env))
    assert isinstance(default, SharedRateLimiter) and isinstance(default.store, LocalStore)
    assert default.store.path == tmp_path.parent / default.store.path.relative_to(tmp_path.parent)
    assert default.store.path == default_store_path()
    process = make_limiter(load_settings("svc", {**env, "UNIZO_RATE_LIMIT_BACKEND": "process"}))
    assert isinstance(process, RateLimiter)
    assert isinstance(make_limiter(load_settings("svc", env), clock=FakeClock()), RateLimiter)
    redis_url = load_settings("svc", {**env, "UNIZO_RATE_LIMIT_BACKEND": "redis://:s3cret-pw@cache:6379/2"})
    limiter = make_limiter(redis_url)
    assert isinstance(limiter, SharedRateLimiter)
    assert "s3cret-pw" not in limiter.store.description and "cache:6379/2" in limiter.store.description
    monkeypatch.setitem(sys.modules, "redis", None)  # the [redis] extra not installed
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "redis" else object())
    with pytest.raises(ConfigError, match=r"unizo-mcp-core\[redis\]"):
        make_limiter(redis_url)


def test_store_path_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG_CACHE_HOME is the Linux cache directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "unizo-mcp" / "limits.sqlite3"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # not absolute: ignored, as the spec says
    assert default_store_path() == Path.home() / ".cache" / "unizo-mcp" / "limits.sqlite3"
