"""`RedisStore`: a key's limits shared by processes on several hosts, in Redis (`unizo-mcp-core[redis]`).

The same semantics as `localstore.LocalStore`, each operation one Lua script (atomic in Redis), with the
Redis server's clock (`TIME`) as the only clock, so hosts whose clocks differ still agree. Keys, with the
fingerprint `limit_key()` in a hash tag so that one key's data stays on one cluster slot:

    unizo-mcp:{<fp>}:bucket   hash: tokens, updated, seq (reserved), sent (sent or abandoned), not_before
                              (unix seconds of the Redis server);
                              expires once idle long enough to be full again
    unizo-mcp:{<fp>}:daily    the UTC day's request count; EXPIREAT the next 00:00 UTC
    unizo-mcp:{<fp>}:leases   sorted set: lease id -> expiry; expired members removed on every acquire

The client library is imported when the first operation runs (it takes a while to import). Connection,
timeout and server errors become `StoreUnavailable`; socket timeouts are short so that an unreachable
Redis costs a call little before the limiter falls back to limiting the process alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .errors import ConfigError
from .limitstore import Correction, Limits, Outcome, StoreUnavailable, Take, take_then_acquire

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisStore", "check_redis_available", "shown_url"]

SOCKET_TIMEOUT = 1.0  # seconds; an outage must not stall calls for long

_NOW = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

# KEYS: bucket, daily. ARGV: capacity, rate, reserve, quota, max_wait, max_block.
# Returns {outcome, wait (string: Lua numbers would be truncated to integers), seq, used}.
TAKE = (
    _NOW
    + """
local capacity, rate, reserve = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local quota, max_wait, max_block = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'seq', 'not_before')
local tokens = tonumber(b[1]) or capacity
local updated = tonumber(b[2]) or now
local seq = tonumber(b[3]) or 0
local not_before = tonumber(b[4]) or 0
if updated > now then updated = now end
tokens = math.min(capacity, tokens + (now - updated) * rate)
local blocked = not_before - now
if blocked > max_block then return {1, tostring(blocked), seq, 0} end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
local midnight = (math.floor(now / 86400) + 1) * 86400
if used >= quota then return {2, tostring(midnight - now), seq, used} end
local wait = math.max(blocked, 0)
local need = 1 + reserve - 1e-9
if tokens < need then wait = math.max(wait, (need - tokens) / rate) end
if wait > max_wait then return {3, tostring(wait), seq, used} end
tokens = tokens - 1
seq = seq + 1
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'updated', string.format('%.6f', now),
    'seq', seq, 'not_before', string.format('%.6f', not_before))
local idle = (capacity - tokens) / rate + math.max(blocked, 0) + 600
redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil(idle * 1000)))
used = redis.call('INCR', KEYS[2])
redis.call('EXPIREAT', KEYS[2], string.format('%d', midnight))
return {0, tostring(wait), seq, used}
"""
)

# KEYS: leases, bucket. ARGV: lease, ttl, concurrency. Returns the send number, or 0 when all are live.
ACQUIRE = (
    _NOW
    + """
local ttl, concurrency = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.6f', now))
if redis.call('ZCARD', KEYS[1]) >= concurrency then return 0 end
redis.call('ZADD', KEYS[1], string.format('%.6f', now + ttl), ARGV[1])
local keep = math.ceil(ttl * 1000) + 1000
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], string.format('%d', keep)) end
return redis.call('HINCRBY', KEYS[2], 'sent', 1)
"""
)

# KEYS: bucket.
ABANDON = """
return redis.call('HINCRBY', KEYS[1], 'sent', 1)
"""

# KEYS: leases. ARGV: lease, hold (0: end now; else expire in that many seconds).
RELEASE = (
    _NOW
    + """
local hold = tonumber(ARGV[2])
if hold <= 0 then return redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('ZADD', KEYS[1], 'XX', string.format('%.6f', now + hold), ARGV[1])
local keep = math.ceil(hold * 1000) + 1000
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], string.format('%d', keep)) end
return 1
"""
)

# KEYS: bucket. ARGV: capacity, rate, estimate, sent (the answered request's send number).
CORRECT = (
    _NOW
    + """
local capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local estimate, slot_sent = tonumber(ARGV[3]), tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'seq')
local tokens = tonumber(b[1]) or capacity
local updated = tonumber(b[2]) or now
local seq = tonumber(b[3]) or 0
if updated > now then updated = now end
tokens = math.min(capacity, tokens + (now - updated) * rate)
-- sent since that request, and reserved but not sent yet: all still to come off the server's count
estimate = estimate - math.max(seq - slot_sent, 0)
if estimate >= tokens then return 0 end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', estimate), 'updated', string.format('%.6f', now),
    'seq', seq)
local idle = (capacity - estimate) / rate + 600
if redis.call('PTTL', KEYS[1]) < idle * 1000 then
    redis.call('PEXPIRE', KEYS[1], string.format('%d', math.ceil(idle * 1000)))
end
return 1
"""
)

# KEYS: bucket. ARGV: seconds.
BLOCK = (
    _NOW
    + """
local until_ = now + tonumber(ARGV[1])
local not_before = tonumber(redis.call('HGET', KEYS[1], 'not_before') or '0')
if not_before >= until_ then return 0 end
redis.call('HSET', KEYS[1], 'not_before', string.format('%.6f', until_))
local keep = math.ceil(tonumber(ARGV[1]) * 1000) + 600000
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], string.format('%d', keep)) end
return 1
"""
)

# KEYS: daily. ARGV: quota.
EXHAUST = (
    _NOW
    + """
local quota = tonumber(ARGV[1])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used < quota then redis.call('SET', KEYS[1], quota) end
redis.call('EXPIREAT', KEYS[1], string.format('%d', (math.floor(now / 86400) + 1) * 86400))
return 1
"""
)


def shown_url(url: str) -> str:
    """The URL without its password, for log lines."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else "***@"
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def check_redis_available() -> None:
    """ConfigError unless the Redis client library (`unizo-mcp-core[redis]`) is installed."""
    if importlib.util.find_spec("redis") is None:
        raise ConfigError(
            "UNIZO_RATE_LIMIT_BACKEND names a Redis server, but the Redis client library is not installed",
            hint='pip install "unizo-mcp-core[redis]", or set UNIZO_RATE_LIMIT_BACKEND=local.',
        )


class RedisStore:
    """A `LimitStore` in Redis; see the module docstring."""

    def __init__(self, url: str, *, prefix: str = "unizo-mcp") -> None:
        check_redis_available()
        self._url = url
        self._prefix = prefix
        self._client: Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scripts: dict[str, AsyncScript] = {}

    @property
    def description(self) -> str:
        return f"Redis at {shown_url(self._url)}"

    def _redis(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:  # connections belong to one event loop
            from redis.asyncio import Redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            self._client = Redis.from_url(
                self._url,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=SOCKET_TIMEOUT,
                retry=Retry(NoBackoff(), 1),  # once, on a fresh connection: a restarted server
                decode_responses=True,
            )
            self._loop = loop
            self._scripts = {
                name: self._client.register_script(source)
                for name, source in (
                    ("take", TAKE),
                    ("acquire", ACQUIRE),
                    ("abandon", ABANDON),
                    ("release", RELEASE),
                    ("correct", CORRECT),
                    ("block", BLOCK),
                    ("exhaust", EXHAUST),
                )
            }
        return self._client

    def _key(self, key: str, part: str) -> str:
        return f"{self._prefix}:{{{key}}}:{part}"

    async def _run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        from redis.exceptions import RedisError

        client = self._redis()
        try:
            return await self._scripts[script](keys=keys, args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            # Start afresh next time: pooled connections to a restarted server would fail one by one.
            self._client = None
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await client.aclose()
            raise StoreUnavailable(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None

    async def take(self, key: str, limits: Limits) -> Take:
        outcome, wait, seq, used = await self._run(
            "take",
            [self._key(key, "bucket"), self._key(key, "daily")],
            [limits.capacity, limits.rate, limits.reserve, limits.quota, limits.max_wait, limits.max_block],
        )
        return Take(Outcome(int(outcome)), float(wait), int(seq), int(used))

    async def take_lease(
        self, key: str, limits: Limits, lease: str, ttl: float, concurrency: int
    ) -> tuple[Take, int]:
        return await take_then_acquire(self, key, limits, lease, ttl, concurrency)

    async def acquire(self, key: str, lease: str, ttl: float, concurrency: int) -> int:
        keys = [self._key(key, "leases"), self._key(key, "bucket")]
        return int(await self._run("acquire", keys, [lease, ttl, concurrency]))

    async def abandon(self, key: str) -> None:
        await self._run("abandon", [self._key(key, "bucket")], [])

    async def release(
        self, key: str, lease: str, hold: float = 0.0, correction: Correction | None = None
    ) -> None:
        if correction is not None:
            await self.correct(key, correction.estimate, correction.sent, correction.limits)
        await self._run("release", [self._key(key, "leases")], [lease, max(hold, 0.0)])

    async def correct(self, key: str, estimate: float, sent: int, limits: Limits) -> None:
        args = [limits.capacity, limits.rate, estimate, sent]
        await self._run("correct", [self._key(key, "bucket")], args)

    async def block(self, key: str, seconds: float) -> None:
        await self._run("block", [self._key(key, "bucket")], [seconds])

    async def exhaust(self, key: str, quota: int) -> None:
        await self._run("exhaust", [self._key(key, "daily")], [quota])

    async def leases(self, key: str) -> int:
        """Live leases of `key` (for tests and diagnostics)."""
        client = self._redis()
        now = await client.time()
        return int(await client.zcount(self._key(key, "leases"), f"({now[0]}.{now[1]:06d}", "+inf"))

    async def aclose(self) -> None:
        client, self._client = self._client, None
        self._scripts = {}
        if client is not None and self._loop is asyncio.get_running_loop():
            from redis.exceptions import RedisError

            with contextlib.suppress(RedisError, OSError):
                await client.aclose()
