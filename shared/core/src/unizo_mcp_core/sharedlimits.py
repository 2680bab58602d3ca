"""One key's limits shared by every process that uses it (UNIZO_RATE_LIMIT_BACKEND).

`make_limiter(settings)` gives the client its limiter:

* `process`: `ratelimit.RateLimiter`, this process alone (the behaviour before shared limits);
* `local` (the default): `SharedRateLimiter` over `localstore.LocalStore`, a SQLite file in the user's
  cache directory: the servers of one machine that use the same key share one token bucket, daily
  quota and concurrency cap;
* `redis://...`: `SharedRateLimiter` over `redis_limits.RedisStore`, for servers on several hosts.

`SharedRateLimiter` has the process limiter's interface and rules (a reserve against jitter, fail at
once past UNIZO_MAX_QUEUE_WAIT or during a server pause longer than UNIZO_MAX_RETRY_DELAY, slots kept
after a timeout, `X-RateLimit-*` headers lower the shared estimate). A call:

1. reserves a token in the store (`take`): the store answers with the wait until that token, or refuses
   (quota, a server pause, a wait past UNIZO_MAX_QUEUE_WAIT) and nothing is sent;
2. sleeps that wait;
3. takes a concurrency lease in the store, polling while all are live (one poller per process), which
   expires on its own UNIZO_TIMEOUT + LEASE_GRACE seconds later (the local store adds `localstore.KEEP`,
   the time the next call may take it over without a transaction): a process killed mid-request cannot
   hold a slot for longer;
4. sends, then ends the lease (or, after a timeout, lets it expire UNIZO_TIMEOUT seconds later).

When the store fails (Redis down, the cache directory unwritable) calls are limited by a process-local
`RateLimiter` instead, with one warning logged; the store is tried again every PROBE_INTERVAL seconds and
a line is logged when limits are shared again. Nothing the store does can make a call fail.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

from .limitstore import Correction, Limits, LimitStore, Outcome, StoreUnavailable, Take, limit_key
from .ratelimit import (
    DAY,
    Clock,
    Limiter,
    RateLimiter,
    RateLimitStatus,
    Slot,
    SystemClock,
    blocked_error,
    busy_error,
    limits_of,
    queue_error,
    quota_error,
    read_headers,
)

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["LEASE_GRACE", "PROBE_INTERVAL", "SharedRateLimiter", "make_limiter"]

log = logging.getLogger("unizo_mcp.ratelimit")

LEASE_GRACE = 2.0  # seconds a lease outlives UNIZO_TIMEOUT: the time to read and hand back an answer
PROBE_INTERVAL = 2.0  # seconds between tries of a failed store
POLL_INTERVAL = 0.02  # seconds between tries for a concurrency lease while all are live


def make_limiter(settings: Settings, *, clock: Clock | None = None) -> Limiter:
    """The limiter UNIZO_RATE_LIMIT_BACKEND asks for (ConfigError when it cannot be had).

    An injected clock other than the system's (tests, simulations) gets the process limiter: a store is
    shared with other processes, which cannot follow a clock of this process's own."""
    backend = settings.rate_limit_backend
    if backend == "process" or (clock is not None and not isinstance(clock, SystemClock)):
        return RateLimiter.from_settings(settings, clock=clock)
    store: LimitStore
    if backend == "local":
        from .localstore import LocalStore  # SQLite is loaded only for the store that uses it

        store = LocalStore()
    else:
        from .redis_limits import RedisStore  # raises ConfigError without the redis extra

        store = RedisStore(backend)
    return SharedRateLimiter.from_settings(settings, store, clock=clock)


class SharedRateLimiter:
    """A key's limits kept in a `LimitStore`; see the module docstring."""

    def __init__(
        self,
        store: LimitStore,
        key: Callable[[], str],
        *,
        per_minute: int,
        daily_quota: int,
        concurrency: int,
        clock: Clock | None = None,
        margin: float = 0.2,
        window: float = 60.0,
        max_queue_wait: float = 60.0,
        max_block_wait: float = 10.0,
        lease_ttl: float = 30.0 + LEASE_GRACE,
        linger: float = 30.0,
    ) -> None:
        """`key()`: the store's name for the key now (`limit_key`; a rotated key is another key);
        `lease_ttl`: how long a lease lives unless ended (longer than any request can take)."""
        self._fallback = RateLimiter(
            per_minute=per_minute,
            daily_quota=daily_quota,
            concurrency=concurrency,
            clock=clock,
            margin=margin,
            window=window,
            max_queue_wait=max_queue_wait,
            max_block_wait=max_block_wait,
        )
        self._store = store
        self._key = key
        self._clock: Clock = clock or SystemClock()
        self._window = float(window)
        self._ceiling = self._capacity = float(per_minute)
        self._margin = max(0.0, margin)
        self._daily_quota = daily_quota
        self._concurrency = concurrency
        self._max_queue_wait = float(max_queue_wait)
        self._max_block_wait = float(max_block_wait)
        self._lease_ttl = float(lease_ttl)
        self._semaphore = asyncio.Semaphore(concurrency)
        self._poll_lock = asyncio.Lock()
        self._lingering: dict[str, float] = {}
        self._open: dict[str, Correction | None] = {}  # leases in use, and what their answer said
        self._tasks: set[asyncio.Task[None]] = set()
        self._status: RateLimitStatus | None = None
        self._not_before = -math.inf  # monotonic; the server's pause as this process knows it
        self._exhausted_day: int | None = None
        self._used_today = 0
        self._used_day = -1
        self._in_flight = 0
        self._failed_at: float | None = None  # monotonic time the store last failed; None when healthy
        self._lease_prefix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}-"
        self._lease_count = 0
        self._limits_built: Limits | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, store: LimitStore, *, clock: Clock | None = None
    ) -> SharedRateLimiter:
        base_url = settings.base_url
        return cls(
            store,
            lambda: limit_key(base_url, settings.key()),
            **limits_of(settings),
            clock=clock,
            lease_ttl=settings.timeout + LEASE_GRACE,
        )

    # --- views ---------------------------------------------------------------------------------

    @property
    def store(self) -> LimitStore:
        return self._store

    @property
    def fallback(self) -> RateLimiter:
        """The process-local limiter used while the store is unavailable."""
        return self._fallback

    @property
    def shared(self) -> bool:
        """False while the store is unavailable and calls are limited by this process alone."""
        return self._failed_at is None

    @property
    def per_minute(self) -> int:
        return int(self._capacity)

    @property
    def concurrency(self) -> int:
        return self._concurrency

    @property
    def daily_quota(self) -> int:
        return self._daily_quota

    @property
    def in_flight(self) -> int:
        return self._in_flight + self._fallback.in_flight

    @property
    def used_today(self) -> int:
        """Requests counted today: the store's count at this process's last call, or this process's own."""
        today = int(self._clock.time() // DAY)
        shared = self._used_today if self._used_day == today else 0
        return max(shared, self._fallback.used_today)

    @property
    def status(self) -> RateLimitStatus | None:
        return self._status

    # --- the store, and falling back without it -----------------------------------------------------

    @property
    def _limits(self) -> Limits:
        """The limits sent with every operation; built again only when the server's limit changed them."""
        if self._limits_built is None or self._limits_built.capacity != self._capacity:
            rate = self._capacity / self._window
            self._limits_built = Limits(
                capacity=self._capacity,
                rate=rate,
                reserve=min(self._margin * rate, max(self._capacity - 1.0, 0.0)),
                quota=self._daily_quota,
                max_wait=self._max_queue_wait,
                max_block=self._max_block_wait,
            )
        return self._limits_built

    def _use_store(self) -> bool:
        return self._failed_at is None or self._clock.now() - self._failed_at >= PROBE_INTERVAL

    def _failed(self, error: StoreUnavailable) -> None:
        if self._failed_at is None:
            log.warning(
                "Rate limits are no longer shared with the other processes using this key: %s is "
                "unavailable (%s). This process limits its own calls until it is back (tried every %g s)",
                self._store.description,
                error,
                PROBE_INTERVAL,
            )
        self._failed_at = self._clock.now()

    def _worked(self) -> None:
        if self._failed_at is not None:
            self._failed_at = None
            log.warning("Rate limits are shared again through %s", self._store.description)

    async def _quietly(self, operation: Coroutine[Any, Any, None]) -> None:
        try:
            await operation
        except StoreUnavailable as error:
            self._failed(error)
        else:
            self._worked()

    def _spawn(self, operation: Coroutine[Any, Any, None]) -> None:
        """Run a store update in the background: observe(), block() and the rest are not awaited."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            operation.close()
            return
        task = loop.create_task(self._quietly(operation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- API -----------------------------------------------------------------------------------

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """As `RateLimiter.slot`, with the limits shared through the store (or not, while it fails)."""
        now = self._clock.now()
        if self._not_before - now > self._max_block_wait:
            raise blocked_error(self._not_before - now)
        if self._exhausted_day == int(self._clock.time() // DAY):
            raise quota_error(self._daily_quota, self._clock.time())
        slot = None
        if self._use_store():
            try:
                slot = await self._enter()
            except StoreUnavailable as error:
                self._failed(error)
        if slot is None:
            async with self._fallback.slot() as local:
                yield local
            return
        self._in_flight += 1
        assert slot.lease is not None
        self._open[slot.lease] = None
        try:
            yield slot
        finally:
            self._in_flight -= 1
            await self._exit(slot)

    async def _enter(self) -> Slot:
        """Reserve a token, wait for it, then take a lease; raises the refusals and StoreUnavailable.

        The common case (a free local slot, no pause, a token ready) is one store operation: token and
        lease together (`LimitStore.take_lease`)."""
        key = self._key()
        entered = self._clock.now()
        if not self._semaphore.locked() and self._not_before <= entered:
            await self._semaphore.acquire()  # free: does not wait
            try:
                lease = self._next_lease()
                take, sent = await self._store.take_lease(
                    key, self._limits, lease, self._lease_ttl, self._concurrency
                )
                self._settle(take)
            except BaseException:
                self._semaphore.release()
                raise
            if sent:
                return Slot(sent, self._clock.now(), lease)
            self._semaphore.release()  # a token to wait for, or every lease taken: the path below
        else:
            take = await self._store.take(key, self._limits)
            self._settle(take)
        deadline = entered + self._max_queue_wait
        try:
            if take.wait > 0:
                await self._clock.sleep(take.wait)
            local_pause = self._not_before - self._clock.now()  # a 429 seen here while this call waited
            if local_pause > self._max_block_wait:
                raise blocked_error(local_pause)
            if local_pause > 0:
                await self._clock.sleep(local_pause)
            lease, sent = await self._lease(key, deadline)
        except BaseException:
            self._spawn(self._store.abandon(key))  # reserved, never sent: keeps `correct` in step
            raise
        # `seq` is the send number: answers are matched with the requests sent after them
        return Slot(sent, self._clock.now(), lease)

    def _settle(self, take: Take) -> None:
        """Note a `take`'s answer; raise its refusal, if it is one."""
        self._worked()
        self._count(take)
        if take.outcome is Outcome.BLOCKED:
            raise blocked_error(take.wait)
        if take.outcome is Outcome.QUOTA:
            raise quota_error(self._daily_quota, self._clock.time())
        if take.outcome is Outcome.QUEUE:
            raise queue_error(take.wait, self._max_queue_wait)

    def _next_lease(self) -> str:
        self._lease_count += 1
        return f"{self._lease_prefix}{self._lease_count}"

    def _count(self, take: Take) -> None:
        if take.outcome in (Outcome.GRANTED, Outcome.QUOTA):
            self._used_today = take.used
            self._used_day = int(self._clock.time() // DAY)

    async def _lease(self, key: str, deadline: float) -> tuple[str, int]:
        """A concurrency lease: this process's slot first (no polling past its own cap), then the store's."""
        try:
            async with asyncio.timeout(max(deadline - self._clock.now(), 0.0)):
                await self._semaphore.acquire()
        except TimeoutError:
            raise busy_error(self._concurrency, self._max_queue_wait) from None
        try:
            lease = self._next_lease()
            async with self._poll_lock:  # one poller per process
                while not (sent := await self._store.acquire(key, lease, self._lease_ttl, self._concurrency)):
                    if self._clock.now() >= deadline:
                        raise busy_error(self._concurrency, self._max_queue_wait)
                    await self._clock.sleep(POLL_INTERVAL)
            return lease, sent
        except BaseException:
            self._semaphore.release()
            raise

    async def _exit(self, slot: Slot) -> None:
        assert slot.lease is not None
        hold = self._lingering.pop(slot.lease, 0.0)
        correction = self._open.pop(slot.lease, None)
        try:
            await self._store.release(self._key(), slot.lease, hold, correction)
        except StoreUnavailable as error:
            self._failed(error)  # the lease expires on its own
        finally:
            self._semaphore.release()

    def linger(self, slot: Slot, seconds: float) -> None:
        """Keep the slot's lease for `seconds` after its call returns (see `RateLimiter.linger`)."""
        if slot.lease is None:
            self._fallback.linger(slot, seconds)
        elif seconds > 0:
            self._lingering[slot.lease] = max(seconds, self._lingering.get(slot.lease, 0.0))

    def observe(self, headers: Mapping[str, str], slot: Slot | None = None) -> None:
        """Adapt the shared estimate to the `X-RateLimit-*` headers of the answer to `slot`'s request."""
        if slot is not None and slot.lease is None:  # a call the fallback limited
            self._fallback.observe(headers, slot)
            self._status = self._fallback.status
            return
        now = self._clock.now()
        view = read_headers(
            headers,
            capacity=self._capacity,
            ceiling=self._ceiling,
            window=self._window,
            wall=self._clock.time(),
            elapsed=now - slot.taken_at if slot is not None else None,
        )
        if view is None:
            return
        self._fallback.adopt(view)  # keeps the fallback ready with the server's view
        self._status = view.status
        if view.limit is not None:
            self._capacity = view.limit
        if view.estimate is None or slot is None or slot.lease is None:
            return
        correction = Correction(view.estimate, slot.seq, self._limits)
        if slot.lease in self._open:  # written with the lease's release: one operation, not two
            self._open[slot.lease] = correction
        else:
            self._spawn(self._store.correct(self._key(), view.estimate, slot.seq, self._limits))

    def block(self, seconds: float) -> None:
        """Send nothing for `seconds`, in every process on the key (see `RateLimiter.block`)."""
        if seconds <= 0:
            return
        self._fallback.block(seconds)
        self._not_before = max(self._not_before, self._clock.now() + seconds)
        self._spawn(self._store.block(self._key(), seconds))

    def exhaust_daily_quota(self) -> None:
        """The server says the day's quota is used up: refuse until the UTC day ends, in every process."""
        self._fallback.exhaust_daily_quota()
        self._exhausted_day = int(self._clock.time() // DAY)
        self._spawn(self._store.exhaust(self._key(), self._daily_quota))

    async def aclose(self) -> None:
        """Finish the pending store updates and close the store (it reopens if used again)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        with suppress(StoreUnavailable):
            await self._store.aclose()
