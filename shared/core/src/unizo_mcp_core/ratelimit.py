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
  with `Reset-After` makes the next request wait exactly that long. A lower `X-RateLimit-Limit`
  than configured lowers ours;
* a request past the daily quota raises `LocalQuotaExceededError` at once and is not sent;
* the concurrency cap is a semaphore taken before the token, so a request is sent as soon as it
  has its token.

The clock is injectable (`now()`, `time()`, `sleep()`) so tests run without real waiting.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Protocol

import attrs

from .errors import LocalQuotaExceededError
from .values import header_value, non_negative

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["Clock", "RateLimitStatus", "RateLimiter", "Slot", "SystemClock"]

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
    """Permission to send one request; `seq` orders the tokens taken, `taken_at` is when (monotonic)."""

    seq: int
    taken_at: float = 0.0


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
    ) -> None:
        """`per_minute` tokens per `window` seconds (a minute, as the API documents; shorter windows
        serve test servers); `margin`: seconds of refill kept in reserve against latency jitter."""
        if per_minute < 1 or daily_quota < 1 or concurrency < 1 or window <= 0:
            raise ValueError("per_minute, daily_quota and concurrency must be at least 1, window above 0")
        self._clock: Clock = clock or SystemClock()
        self._window = float(window)
        self._capacity = float(per_minute)
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
        self._status: RateLimitStatus | None = None

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock | None = None) -> RateLimiter:
        return cls(
            per_minute=settings.rate_limit,
            daily_quota=settings.daily_quota,
            concurrency=settings.max_concurrency,
            clock=clock,
            window=settings.rate_window,
        )

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
            wall = self._clock.time()
            left = (self._day + 1) * DAY - wall
            hours, minutes = int(left // 3600), int(left % 3600 // 60)
            raise LocalQuotaExceededError(
                f"The daily quota of {self._daily_quota} requests (UNIZO_DAILY_QUOTA) is used up; "
                f"it resets at 00:00 UTC, in {hours} h {minutes} min. The request was not sent"
            )

    async def _take_token(self) -> Slot:
        async with self._lock:
            while True:
                now = self._clock.now()
                self._refill(now)
                need = 1.0 + self._reserve - _EPSILON  # float rounding must not make us wait forever
                wait = self._blocked_until - now
                if self._tokens < need:
                    wait = max(wait, (need - self._tokens) / self._rate, _EPSILON)
                if wait <= 0:
                    self._check_quota()
                    self._tokens -= 1.0
                    self._used_today += 1
                    self._seq += 1
                    return Slot(self._seq, now)
                await self._clock.sleep(wait)

    # --- API -----------------------------------------------------------------------------------

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[Slot]:
        """Wait for a concurrency slot and a token, then yield; send the request inside.

        Raises LocalQuotaExceededError at once (nothing waited for, nothing sent) past the quota.
        """
        self._check_quota()
        async with self._semaphore:
            slot = await self._take_token()
            self._in_flight += 1
            try:
                yield slot
            finally:
                self._in_flight -= 1

    def observe(self, headers: Mapping[str, str], slot: Slot | None = None) -> None:
        """Adapt to the `X-RateLimit-*` headers of the answer to `slot`'s request."""
        limit = non_negative(header_value(headers, "X-RateLimit-Limit"))
        remaining = non_negative(header_value(headers, "X-RateLimit-Remaining"))
        reset = non_negative(header_value(headers, "X-RateLimit-Reset"))
        reset_after = non_negative(header_value(headers, "X-RateLimit-Reset-After"))
        if limit is None and remaining is None and reset is None and reset_after is None:
            return
        self._status = RateLimitStatus(
            limit=int(limit) if limit is not None else None,
            remaining=int(remaining) if remaining is not None else None,
            reset=reset,
            reset_after=reset_after,
            observed_at=self._clock.time(),
        )
        self._refill(self._clock.now())
        if limit is not None and 1 <= limit < self._capacity:
            self._capacity = float(limit)
            self._rate = limit / self._window
            self._tokens = min(self._tokens, self._capacity)
        if remaining is None:
            return
        server_rate = (limit / self._window) if limit else self._rate
        server_capacity = limit if limit else self._capacity
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
            full_in = max(reset - self._clock.time(), 0.0)
            estimate = min(max(server_capacity - full_in * server_rate, remaining), remaining + 1.0)
        if slot is not None:
            # The server answered at some moment after we sent; credit the refill since sending.
            # That over-credits by at most the one-way latency, which the reserve covers, and
            # keeps every answer from needlessly pushing the schedule back by the round trip.
            elapsed = max(self._clock.now() - slot.taken_at, 0.0)
            estimate = min(estimate + elapsed * server_rate, server_capacity)
            later = self._seq - slot.seq  # tokens taken after this one: maybe not counted yet
        else:
            later = self._in_flight
        estimate -= max(later, 0)
        if estimate < self._tokens:
            self._tokens = estimate

    def block(self, seconds: float) -> None:
        """Send nothing for `seconds` (the server said so, e.g. a 429's Retry-After)."""
        if seconds > 0:
            self._blocked_until = max(self._blocked_until, self._clock.now() + seconds)

    def exhaust_daily_quota(self) -> None:
        """The server reported the daily quota used up: refuse locally until the UTC day ends."""
        self._roll_day()
        self._used_today = max(self._used_today, self._daily_quota)
