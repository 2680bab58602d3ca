"""Where processes that use one key share its limits: the store interface, shared by every store.

A store keeps, per key, the token bucket, the UTC day's request count, the server's "not before" time and
the concurrency leases, and changes them only in atomic operations. Operations take durations, never
times: the store's own clock decides (this machine's for `LocalStore`, the Redis server's for
`redis_limits.RedisStore`), so processes whose clocks disagree still agree on the limits.

The key is never stored: only `limit_key(base_url, key)`, a SHA-256 fingerprint of the key and the API it
is used on.

The local store (SQLite, the default) is `localstore.LocalStore`; the Redis one `redis_limits.RedisStore`.
"""

from __future__ import annotations

import enum
import functools
import hashlib
from typing import Protocol

import attrs

__all__ = [
    "Correction",
    "LimitStore",
    "Limits",
    "Outcome",
    "StoreUnavailable",
    "Take",
    "limit_key",
    "take_then_acquire",
]


@functools.lru_cache(maxsize=16)  # asked for on every operation; a few keys per process
def limit_key(base_url: str, key: str) -> str:
    """The store's name for a key on an API: a SHA-256 fingerprint; the key itself is never stored."""
    digest = hashlib.sha256(f"unizo-mcp rate limits\0{base_url.rstrip('/')}\0{key}".encode())
    return digest.hexdigest()[:40]


@attrs.frozen
class Limits:
    """One process's view of a key's limits, sent with every operation (processes may differ)."""

    capacity: float  # the bucket's size (burst), tokens
    rate: float  # refill, tokens per second
    reserve: float  # tokens kept back against latency jitter
    quota: int  # requests per UTC day
    max_wait: float  # the longest wait for a token a call accepts (UNIZO_MAX_QUEUE_WAIT)
    max_block: float  # the longest server pause sat out rather than refused (UNIZO_MAX_RETRY_DELAY)


class Outcome(enum.IntEnum):
    GRANTED = 0  # a token is reserved: send after `wait`
    BLOCKED = 1  # the server's pause runs for `wait` more seconds, longer than `max_block`
    QUOTA = 2  # the day's quota is used up; `wait`: seconds to the next UTC day
    QUEUE = 3  # the next token comes in `wait` seconds, later than `max_wait`


@attrs.frozen
class Correction:
    """What an answer's `X-RateLimit-*` headers said (see `LimitStore.correct`)."""

    estimate: float
    sent: int
    limits: Limits


@attrs.frozen
class Take:
    outcome: Outcome
    wait: float
    seq: int = 0
    used: int = 0  # requests counted today, this one included


async def take_then_acquire(
    store: LimitStore, key: str, limits: Limits, lease: str, ttl: float, concurrency: int
) -> tuple[Take, int]:
    """`LimitStore.take_lease` as two operations, for a store that has no combined one."""
    take = await store.take(key, limits)
    if take.outcome is Outcome.GRANTED and take.wait <= 0:
        return take, await store.acquire(key, lease, ttl, concurrency)
    return take, 0


class StoreUnavailable(Exception):
    """The store cannot be used now (file, database or network failure); the message says why."""


class LimitStore(Protocol):
    """A key's shared limits. Every method is one atomic operation; failures raise StoreUnavailable."""

    @property
    def description(self) -> str:
        """What the store is, for log lines (no credentials)."""
        ...

    async def take(self, key: str, limits: Limits) -> Take:
        """Reserve a token and count the request for today, unless refused (see `Outcome`)."""
        ...

    async def acquire(self, key: str, lease: str, ttl: float, concurrency: int) -> int:
        """Take a concurrency lease that expires after `ttl` s, if fewer than `concurrency` are live, for
        a call whose token is reserved: its send number (`sent` after counting it), or 0 when all are live."""
        ...

    async def take_lease(
        self, key: str, limits: Limits, lease: str, ttl: float, concurrency: int
    ) -> tuple[Take, int]:
        """`take`, then `acquire` when the token is granted without a wait: the common call in one
        operation where the store can (`take_then_acquire` otherwise). (take, send number or 0)."""
        ...

    async def abandon(self, key: str) -> None:
        """A call whose token was reserved will not be sent (refused, cancelled): count it as sent."""
        ...

    async def release(
        self, key: str, lease: str, hold: float = 0.0, correction: Correction | None = None
    ) -> None:
        """End a lease now, or let it expire in `hold` s (the API may still be working on the request);
        and apply the `correction` its answer gave, if any (as `correct`, in the same operation)."""
        ...

    async def correct(self, key: str, estimate: float, sent: int, limits: Limits) -> None:
        """The server had `estimate` tokens after the request sent `sent`-th: lower ours to that, less
        the requests sent since and the tokens reserved but not sent yet, if that is fewer."""
        ...

    async def block(self, key: str, seconds: float) -> None:
        """Nothing may be sent for `seconds` (the server said so)."""
        ...

    async def exhaust(self, key: str, quota: int) -> None:
        """The server says the day's quota is used up."""
        ...

    async def aclose(self) -> None: ...
