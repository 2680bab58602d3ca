"""Client-side rate limiting per key: token bucket, daily quota, concurrency cap.

The API limits each key to UNIZO_RATE_LIMIT requests per minute (a token bucket refilled
continuously, burst = limit), UNIZO_DAILY_QUOTA per UTC day and UNIZO_MAX_CONCURRENCY at once.
`RateLimiter` mirrors all three so that, when the configured limits match the server's, the
client uses the whole allowance without ever receiving a 429:

* the bucket refills continuously like the server's; it keeps a small reserve (`margin` seconds
  of refill, 0.2 s by default) so that latency jitter between requests cannot make the server
  see two requests closer together than we spaced them. The reserve shifts the schedule once; it
  does not lower the sustained rate;
* every answer's `X-RateLimit-*` headers correct the estimate: when the server has fewer tokens
  than we think (another process on the same key, a restart) ours is lowered, and `Remaining: 0`
  with `Reset-After` makes the next request wait exactly that long. `X-RateLimit-Limit` is followed
  up to the configured limit: a lower one lowers ours, and a later higher one raises it again (never
  above UNIZO_RATE_LIMIT), so a limit the API lowered for a while does not throttle the process for good;
* a request past the daily quota raises `LocalQuotaExceededError` at once and is not sent;
* the concurrency cap is a semaphore taken before the token, so a request is sent as soon as it
  has its token;
* a call never queues for longer than `max_queue_wait` seconds (UNIZO_MAX_QUEUE_WAIT): one that would
  (by the tokens it must wait for, counting the calls queued before it) fails at once with
  `LocalRateLimitError` ("the key's rate limit allows the next call in N s"), sending nothing;
* a server's "not before" (`block()`, a 429's Retry-After) is remembered: waits up to `max_block_wait`
  (UNIZO_MAX_RETRY_DELAY) are sat out, and while a longer one runs every call fails at once the same way;
* after a client-side timeout the API may still be working on the request and counting it against the
  concurrency cap: `linger(slot, seconds)` keeps the slot taken that much longer after the call returns.

The clock is injectable (`now()`, `time()`, `sleep()`) so tests run without real waiting.
`sharedlimits.SharedRateLimiter` gives the same interface with the state shared between processes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from .errors import ExitCode, LocalQuotaExceededError, UnizoError
from .values import header_values, non_negative

if TYPE_CHECKING:
    from .settings import Settings

__all__ = [
    "Clock",
    "Limiter",
    "LocalRateLimitError",
    "RateLimitStatus",
    "RateLimiter",
    "ServerView",
    "Slot",
    "SystemClock",
    "blocked_error",
    "busy_error",
    "queue_error",
    "quota_error",
    "read_headers",
]

DAY = 86_400.0
_EPSILON = 1e-9
_NEARLY_WHOLE = 0.97


class Clock(Protocol):
    def now(self) -> float:
        """Monotonic seconds (for the bucket)."""
        ...

    def time(self) -> float:
        """Unix seconds (for the UTC day and `X-RateLimit-Reset`)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@attrs.frozen
class RateLimitStatus:
    """The last `X-RateLimit-*` headers the API sent (None where absent), and when (unix seconds)."""

    limit: int | None
    remaining: int | None
    reset: float | None
    reset_after: float | None
    observed_at: float


@attrs.frozen
class Slot:
    """Permission to send one request; `seq` orders the tokens taken, `taken_at` is when (monotonic).

    `lease` names the concurrency lease of a shared limiter's slot (None for a process-local one)."""

    seq: int
    taken_at: float = 0.0
    lease: str | None = None


class LocalRateLimitError(UnizoError):
    """The client-side rate limiter refused a call without sending it: waiting for the key's limits
    would take longer than allowed. `retry_after`: seconds until the next call may go."""

    exit_code = ExitCode.API
    default_hint = (
        "Call again after that wait: until then calls on this key are refused at once without reaching "
        "the API. Spread the calls out, or raise UNIZO_MAX_QUEUE_WAIT to let calls queue for longer."
    )


def _in(seconds: float) -> str:
    """A wait as a user reads it: whole seconds, rounded up (never "0 s")."""
    return f"{max(1, math.ceil(seconds - 1e-6))} s"


def blocked_error(wait: float) -> LocalRateLimitError:
    """The API asked (a 429's Retry-After) for a pause longer than the retry cap; it still runs."""
    return LocalRateLimitError(
        f"The request was not sent: the key's rate limit allows the next call in {_in(wait)} (after a "
        "429 the API asked to retry after that long, more than UNIZO_MAX_RETRY_DELAY allows waiting)",
        retry_after=wait,
    )


def queue_error(wait: float, max_wait: float, ahead: int | None = None) -> LocalRateLimitError:
    """Waiting for a token would take longer than UNIZO_MAX_QUEUE_WAIT."""
    queued = ""
    if ahead:
        queued = f"; {ahead} call{'s are' if ahead != 1 else ' is'} already waiting"
    return LocalRateLimitError(
        f"The request was not sent: the key's rate limit allows the next call in {_in(wait)}{queued}, "
        f"longer than UNIZO_MAX_QUEUE_WAIT ({max_wait:g} s)",
        retry_after=wait,
    )


def busy_error(concurrency: int, max_wait: float) -> LocalRateLimitError:
    """Every concurrency slot stayed taken for UNIZO_MAX_QUEUE_WAIT."""
    return LocalRateLimitError(
        f"The request was not sent: all {concurrency} concurrent requests the key allows "
        f"(UNIZO_MAX_CONCURRENCY) stayed busy for {max_wait:g} s (UNIZO_MAX_QUEUE_WAIT)",
        retry_after=1.0,
    )


def quota_error(quota: int, wall: float) -> LocalQuotaExceededError:
    """The daily quota is used up: when it resets, by the UTC day of `wall` (unix seconds)."""
    left = (math.floor(wall / DAY) + 1) * DAY - wall
    hours, minutes = int(left // 3600), int(left % 3600 // 60)
    return LocalQuotaExceededError(
        f"The daily quota of {quota} requests (UNIZO_DAILY_QUOTA) is used up; "
        f"it resets at 00:00 UTC, in {hours} h {minutes} min. The request was not sent"
    )


@attrs.frozen
class ServerView:
    """What one answer's `X-RateLimit-*` headers say: the status to show, the limit to follow (the
    API's, at most the configured one; None without the header), and the server's token count when it
    answered plus the refill since `slot` was sent (None when the headers give no count). Tokens taken
    after `slot` are not subtracted yet."""

    status: RateLimitStatus
    limit: float | None
    estimate: float | None


def read_headers(
    headers: Mapping[str, str],
    *,
    capacity: float,
    ceiling: float,
    window: float,
    wall: float,
    elapsed: float | None,
) -> ServerView | None:
    """Read an answer's rate-limit headers against our `capacity` per `window`; None without any.

    `ceiling`: the configured limit, which the API's `X-RateLimit-Limit` may lower but never raise.
    `elapsed`: seconds since the answered request was sent (None when unknown)."""
    names = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Reset-After")
    limit, remaining, reset, reset_after = map(non_negative, header_values(headers, *names))
    if limit is None and remaining is None and reset is None and reset_after is None:
        return None
    status = RateLimitStatus(
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset=reset,
        reset_after=reset_after,
        observed_at=wall,
    )
    follow = min(float(limit), ceiling) if limit is not None and limit >= 1 else None
    if remaining is None:
        return ServerView(status, follow, None)
    server_rate = (limit / window) if limit else capacity / window
    server_capacity = limit if limit else capacity
    # The server's fractional token count when it answered: Remaining is floored; Reset-After
    # (time to one more token) or Reset (time to a full bucket) give the fraction.
    # Without either, the floored Remaining is the safe estimate.
    estimate = remaining
    if reset_after is not None:
        fraction = min(max(1.0 - reset_after * server_rate, 0.0), 1.0)
        # A fraction this close to a whole token is ambiguous: servers that forgive a hair of
        # a token count it in Remaining already. Take the lower reading.
        estimate = remaining + fraction - (1.0 if fraction >= _NEARLY_WHOLE and remaining >= 1 else 0.0)
    elif reset is not None:
        full_in = max(reset - wall, 0.0)
        estimate = min(max(server_capacity - full_in * server_rate, remaining), remaining + 1.0)
    if elapsed is not None:
        # The server answered at some moment after we sent; credit the refill since sending.
        # That over-credits by at most the one-way latency, which the reserve covers, and
        # keeps every answer from needlessly pushing the schedule back by the round trip.
        estimate = min(estimate + max(elapsed, 0.0) * server_rate, server_capacity)
    return ServerView(status, follow, estimate)


class Limiter(Protocol):
    """What `UnizoClient` needs of a rate limiter (`RateLimiter`, `sharedlimits.SharedRateLimiter`)."""

    @property
    def status(self) -> RateLimitStatus | None: ...

    @property
    def used_today(self) -> int: ...

    def slot(self) -> AbstractAsyncContextManager[Slot]: ...

    def observe(self, headers: Mapping[str, str], slot: Slot | None = None) -> None: ...

    def block(self, seconds: float) -> None: ...

    def exhaust_daily_quota(self) -> None: ...

    def linger(self, slot: Slot, seconds: float) -> None: ...

    async def aclose(self) -> None: ...


def limits_of(settings: Settings) -> dict[str, Any]:
    """The limiter arguments the settings give (both limiters take them)."""
    return {
        "per_minute": settings.rate_limit,
        "daily_quota": settings.daily_quota,
        "concurrency": settings.max_concurrency,
        "window": settings.rate_window,
        "max_queue_wait": settings.max_queue_wait,
        "max_block_wait": settings.max_retry_delay_ms / 1000,
    }


class RateLimiter:
    """Token bucket (per minute) + daily quota + concurrency cap for one key."""

    def __init__(
        self,
        *,
        per_minute: int,
        daily_quota: int,
        concurrency: int,
        clock: Clock | None = None,
        margin: float = 0.2,
        window: float = 60.0,
        max_queue_wait: float = 60.0,
        max_block_wait: float = 10.0,
    ) -> None:
        """`per_minute` tokens per `window` seconds (a minute, as the API documents; shorter windows
        serve test servers); `margin`: seconds of refill kept in reserve against latency jitter;
        `max_queue_wait`: the longest a call may wait for its token or slot (UNIZO_MAX_QUEUE_WAIT);
        `max_block_wait`: the longest server-imposed pause (`block`) that is sat out rather than
        refused (UNIZO_MAX_RETRY_DELAY)."""
        if per_minute < 1 or daily_quota < 1 or concurrency < 1 or window <= 0:
            raise ValueError("per_minute, daily_quota and concurrency must be at least 1, window above 0")
        if max_queue_wait < 0 or max_block_wait < 0:
            raise ValueError("max_queue_wait and max_block_wait must not be negative")
        self._clock: Clock = clock or SystemClock()
        self._window = float(window)
        self._ceiling = self._capacity = float(per_minute)
        self._rate = per_minute / self._window
        self._margin = max(0.0, margin)
        self._tokens = self._capacity
        self._updated = self._clock.now()
        self._blocked_until = -math.inf
        self._daily_quota = daily_quota
        self._day = self._utc_day()
        self._used_today = 0
        self._concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)
        self._lock = asyncio.Lock()
        self._seq = 0
        self._in_flight = 0
        self._waiting = 0  # calls inside slot() that have no token yet
        self._held = 0  # slots kept after their call returned (linger)
        self._linger: dict[int, float] = {}
        self._max_queue_wait = float(max_queue_wait)
        self._max_block_wait = float(max_block_wait)
        self._status: RateLimitStatus | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None) -> RateLimiter:
        return cls(**limits_of(settings), clock=clock)

    # --- views ---------------------------------------------------------------------------------

    @property
    def per_minute(self) -> int:
        return int(self._capacity)

    @property
    def concurrency(self) -> int:
        return self._concurrency

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def held(self) -> int:
        """Slots still taken after their call returned, until the API is assumed done (`linger`)."""
        return self._held

    @property
    def daily_quota(self) -> int:
        return self._daily_quota

    @property
    def used_today(self) -> int:
        self._roll_day()
        return self._used_today

    @property
    def tokens(self) -> float:
        """Tokens available now by our estimate (may be negative after a server correction)."""
        self._refill(self._clock.now())
        return self._tokens

    @property
    def status(self) -> RateLimitStatus | None:
        """The last rate-limit headers seen, or None before any."""
        return self._status

    # --- internals -----------------------------------------------------------------------------

    @property
    def _reserve(self) -> float:
        return min(self._margin * self._rate, max(self._capacity - 1.0, 0.0))

    def _utc_day(self) -> int:
        return int(self._clock.time() // DAY)

    def _roll_day(self) -> None:
        day = self._utc_day()
        if day != self._day:
            self._day = day
            self._used_today = 0

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
            self._updated = now

    def _check_quota(self) -> None:
        self._roll_day()
        if self._used_today >= self._daily_quota:
            raise quota_error(self._daily_quota, self._clock.time())

    def _admit(self) -> float:
        """Refuse at once a call that could not get its token within the waits allowed; else its
        deadline (monotonic). Calls already queued go first, so each of them counts as a token."""
        now = self._clock.now()
        self._refill(now)
        blocked = self._blocked_until - now
        if blocked > self._max_block_wait:
            raise blocked_error(blocked)
        short = self._waiting + 1.0 + self._reserve - _EPSILON - self._tokens
        wait = max(blocked, short / self._rate if short > 0 else 0.0)
        if wait > self._max_queue_wait:
            raise queue_error(wait, self._max_queue_wait, self._waiting)
        return now + self._max_queue_wait

    async def _take_token(self, deadline: float) -> Slot:
        async with self._lock:
            while True:
                now = self._clock.now()
                self._refill(now)
                need = 1.0 + self._reserve - _EPSILON  # float rounding must not make us wait forever
                wait = self._blocked_until - now
                if wait > self._max_block_wait:
                    raise blocked_error(wait)
                if self._tokens < need:
                    wait = max(wait, (need - self._tokens) / self._rate, _EPSILON)
                if wait <= 0:
                    self._check_quota()
                    self._tokens -= 1.0
                    self._used_today += 1
                    self._seq += 1
                    return Slot(self._seq, now)
                # The server lowered our estimate since this call was admitted: still never past
                # the deadline (plus a second of slack for the estimate's rounding).
                if now + wait > deadline + 1.0:
                    raise queue_error(wait, self._max_queue_wait)
                await self._clock.sleep(wait)

    # --- API -----------------------------------------------------------------------------------

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Wait for a concurrency slot and a token, then yield; send the request inside.

        Raises at once, nothing waited for and nothing sent: LocalQuotaExceededError past the quota,
        LocalRateLimitError when the token would come later than UNIZO_MAX_QUEUE_WAIT allows or the
        API asked for a pause longer than UNIZO_MAX_RETRY_DELAY. A call that waited
        UNIZO_MAX_QUEUE_WAIT for a concurrency slot fails the same way.
        """
        self._check_quota()
        deadline = self._admit()
        self._waiting += 1
        queued = True
        try:
            try:
                async with asyncio.timeout(self._max_queue_wait):
                    await self._semaphore.acquire()
            except TimeoutError:
                raise busy_error(self._concurrency, self._max_queue_wait) from None
            try:
                slot = await self._take_token(deadline)
            except BaseException:
                self._semaphore.release()
                raise
            self._waiting -= 1
            queued = False
            self._in_flight += 1
            try:
                yield slot
            finally:
                self._in_flight -= 1
                self._release(self._linger.pop(slot.seq, 0.0))
        finally:
            if queued:
                self._waiting -= 1

    def _release(self, hold: float) -> None:
        if hold <= 0:
            self._semaphore.release()
            return
        self._held += 1

        def release() -> None:
            self._held -= 1
            self._semaphore.release()

        asyncio.get_running_loop().call_later(hold, release)

    def linger(self, slot: Slot, seconds: float) -> None:
        """Keep `slot`'s concurrency slot taken for `seconds` after its call returns: the call gave up
        (a client-side timeout) but the API may still be working on it and counting it."""
        if seconds > 0:
            self._linger[slot.seq] = max(seconds, self._linger.get(slot.seq, 0.0))

    def observe(self, headers: Mapping[str, str], slot: Slot | None = None) -> None:
        """Adapt to the `X-RateLimit-*` headers of the answer to `slot`'s request."""
        now = self._clock.now()
        view = read_headers(
            headers,
            capacity=self._capacity,
            ceiling=self._ceiling,
            window=self._window,
            wall=self._clock.time(),
            elapsed=now - slot.taken_at if slot is not None else None,
        )
        if view is not None:
            self.adopt(view, slot)

    def adopt(self, view: ServerView, slot: Slot | None = None) -> None:
        """`observe` with the headers already read (by a limiter that keeps this one as its fallback)."""
        self._status = view.status
        self._refill(self._clock.now())
        if view.limit is not None:
            self._capacity = view.limit
            self._rate = view.limit / self._window
            self._tokens = min(self._tokens, self._capacity)
        if view.estimate is None:
            return
        # tokens taken after this one: maybe not counted by the server yet
        later = self._seq - slot.seq if slot is not None else self._in_flight
        estimate = view.estimate - max(later, 0)
        if estimate < self._tokens:
            self._tokens = estimate

    def block(self, seconds: float) -> None:
        """Send nothing for `seconds` (the server said so, e.g. a 429's Retry-After). Calls wait out a
        pause up to `max_block_wait`; during a longer one they fail at once with LocalRateLimitError."""
        if seconds > 0:
            self._blocked_until = max(self._blocked_until, self._clock.now() + seconds)

    def exhaust_daily_quota(self) -> None:
        """The server reported the daily quota used up: refuse locally until the UTC day ends."""
        self._roll_day()
        self._used_today = max(self._used_today, self._daily_quota)

    async def aclose(self) -> None:
        """Nothing to close: the state lives in this process."""
