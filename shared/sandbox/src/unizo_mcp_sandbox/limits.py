"""Per-key limits: a token bucket per window, a fixed UTC-day quota and a cap on simultaneous requests.

The bucket starts full and refills continuously (burst = limit), so a client that sends at most `limit`
requests in any window never sees a 429, whatever the phase of its window.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import attrs

from unizo_mcp_sandbox.clock import Clock
from unizo_mcp_sandbox.config import LimitSettings
from unizo_mcp_sandbox.errors import QUOTA_EXHAUSTED, ApiError, TooManyRequests, format_seconds
from unizo_mcp_sandbox.timeutil import DAY, iso, next_utc_midnight

# Clock skew and network jitter can land a perfectly paced request a hair early; forgive that much.
TOKEN_TOLERANCE = 0.02


class TokenBucket:
    def __init__(self, capacity: int, refill_per_second: float, now: float) -> None:
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self.tokens = float(capacity)
        self.updated = now

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.capacity), self.tokens + elapsed * self.refill_per_second)
        self.updated = max(self.updated, now)

    def try_take(self, now: float) -> bool:
        self.refill(now)
        if self.tokens < 1.0 - TOKEN_TOLERANCE:
            return False
        self.tokens = max(0.0, self.tokens - 1.0)
        return True

    def seconds_until_token(self) -> float:
        """Until the whole-token count goes up by one (0 when full)."""
        if self.tokens >= self.capacity:
            return 0.0
        return (math.floor(self.tokens) + 1.0 - self.tokens) / self.refill_per_second

    def seconds_until_full(self) -> float:
        return max(0.0, (self.capacity - self.tokens) / self.refill_per_second)


@attrs.frozen
class RateSnapshot:
    limit: int
    remaining: int
    reset_at: int  # unix seconds when the bucket is full again
    reset_after: float  # seconds until one more token

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
            "X-RateLimit-Reset-After": format_seconds(round(self.reset_after, 3)),
        }


@attrs.define
class DailyCount:
    day: int
    count: int = 0


class RateLimiter:
    """`bucket_only`: enforce the per-window bucket alone (Unizo documents it), not the daily quota nor
    the concurrency cap (ours); the documented profile's limiter."""

    def __init__(self, settings: LimitSettings, clock: Clock, *, bucket_only: bool = False) -> None:
        self.clock = clock
        self.settings = settings
        self.bucket_only = bucket_only
        self._buckets: dict[str, TokenBucket] = {}
        self._daily: dict[str, DailyCount] = {}
        self._admitted: defaultdict[str, int] = defaultdict(int)
        self._arrived: defaultdict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = {}

    def configure(self, settings: LimitSettings) -> None:
        """New limits start with full buckets; daily counts carry on."""
        self.settings = settings
        self._buckets.clear()

    def reset(self, settings: LimitSettings) -> None:
        self.configure(settings)
        self._daily.clear()
        self.max_in_flight.clear()

    def _bucket(self, key_id: str) -> TokenBucket:
        bucket = self._buckets.get(key_id)
        if bucket is None:
            bucket = TokenBucket(
                self.settings.rate_limit, self.settings.refill_per_second, self.clock.monotonic()
            )
            self._buckets[key_id] = bucket
        return bucket

    def _today(self, key_id: str) -> DailyCount:
        day = int(self.clock.time() // DAY)
        daily = self._daily.get(key_id)
        if daily is None or daily.day != day:
            daily = self._daily[key_id] = DailyCount(day)
        return daily

    def snapshot(self, key_id: str | None) -> RateSnapshot:
        """The headers' view of a key's bucket, without taking a token. No key: a full bucket."""
        now = self.clock.time()
        if key_id is None:
            return RateSnapshot(self.settings.rate_limit, self.settings.rate_limit, math.ceil(now), 0.0)
        bucket = self._bucket(key_id)
        bucket.refill(self.clock.monotonic())
        return RateSnapshot(
            limit=self.settings.rate_limit,
            remaining=int(bucket.tokens + TOKEN_TOLERANCE),
            reset_at=math.ceil(now + bucket.seconds_until_full()),
            reset_after=bucket.seconds_until_token(),
        )

    def admit(self, key_id: str) -> None:
        """Take a slot and a token, or raise the quota (403) or limit (429) answer. Pair with `release`."""
        daily = self._today(key_id)
        if not self.bucket_only and daily.count >= self.settings.daily_quota:
            resets = next_utc_midnight(self.clock.time())
            raise ApiError(
                403,
                QUOTA_EXHAUSTED,
                f"Daily request quota of {self.settings.daily_quota} exhausted; it resets at {iso(resets)}",
            )
        if not self.bucket_only and self._admitted[key_id] >= self.settings.max_concurrency:
            raise TooManyRequests(
                "concurrency_limit_exceeded",
                f"More than {self.settings.max_concurrency} simultaneous requests for this API key",
                retry_after=1,
            )
        bucket = self._bucket(key_id)
        if not bucket.try_take(self.clock.monotonic()):
            wait = max(1, math.ceil(bucket.seconds_until_token()))
            raise TooManyRequests(
                "rate_limit_exceeded",
                f"Rate limit of {self.settings.rate_limit} requests per "
                f"{format_seconds(self.settings.rate_window)} seconds exceeded",
                retry_after=wait,
            )
        daily.count += 1
        self._admitted[key_id] += 1

    def release(self, key_id: str) -> None:
        self._admitted[key_id] -= 1

    def arrive(self, key_id: str) -> None:
        """Count every request of a key while it is being answered, rejected ones included."""
        self._arrived[key_id] += 1
        self.max_in_flight[key_id] = max(self.max_in_flight.get(key_id, 0), self._arrived[key_id])

    def depart(self, key_id: str) -> None:
        self._arrived[key_id] -= 1

    def to_state(self) -> dict[str, Any]:
        return {key_id: [daily.day, daily.count] for key_id, daily in self._daily.items()}

    def load_state(self, data: dict[str, Any]) -> None:
        self._daily = {key_id: DailyCount(int(day), int(count)) for key_id, (day, count) in data.items()}
