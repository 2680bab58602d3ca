"""Two stateless streamable-HTTP replicas, many users' keys per request, limits shared through Redis.

The deployment the README describes: `--transport streamable-http --auth per-request --stateless` on two
ports, both with UNIZO_RATE_LIMIT_BACKEND pointing at one real redis-server. Requests without a session go
to one replica, then the other, each carrying the same key: the key's allowance (the sandbox's limits,
the window scaled down) holds across both, with no 429 and never more than the cap in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx2
import pytest
from servers.helpers import script

from .test_shared_limits import (
    CONCURRENCY,
    LIST_PATH,
    LIST_TOOL,
    RATE,
    SERVICE,
    WINDOW,
    RedisServer,
    limit_sandbox,
    redis_server,  # noqa: F401  (the fixture)
)

pytestmark = pytest.mark.slow
SERVING = re.compile(r"serving MCP over streamable HTTP at (http://\S+/mcp)")
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@contextlib.asynccontextmanager
async def replica(env: Mapping[str, str]) -> AsyncIterator[str]:
    from unizo_mcp_core.registry import package_name

    process = await asyncio.create_subprocess_exec(
        script(package_name(SERVICE)),
        *("--transport", "streamable-http", "--port", "0", "--auth", "per-request", "--stateless"),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
    )
    assert process.stderr is not None
    seen: list[str] = []
    url = None
    while url is None:
        line = await asyncio.wait_for(process.stderr.readline(), 60)
        assert line, "the replica exited: " + "\n".join(seen)
        seen.append(line.decode().rstrip())
        if found := SERVING.search(seen[-1]):
            url = found.group(1)

    async def drain() -> None:
        assert process.stderr is not None
        while line := await process.stderr.readline():
            seen.append(line.decode().rstrip())

    reader = asyncio.create_task(drain())
    try:
        yield url
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)
        await reader
        assert not any("no longer shared" in line for line in seen), "a replica fell back to limiting alone"


async def call(http: httpx2.AsyncClient, url: str, key: str, integration: str, number: int) -> str | None:
    """One tools/call without a session: None on success, else what went wrong."""
    body = {
        "jsonrpc": "2.0",
        "id": number,
        "method": "tools/call",
        "params": {"name": LIST_TOOL, "arguments": {"integration_id": integration, "limit": 5}},
    }
    answer = await http.post(url, json=body, headers={**HEADERS, "Authorization": f"Bearer {key}"})
    if answer.status_code != 200:
        return f"HTTP {answer.status_code}: {answer.text[:300]}"
    text = answer.text
    payload = text.split("data: ", 1)[1] if text.startswith("event:") or "\ndata: " in text else text
    import json

    message: dict[str, Any] = json.loads(payload.strip().splitlines()[0])
    result = message.get("result", {})
    if "error" in message or result.get("isError"):
        return str(message.get("error") or result.get("content"))
    return None


async def test_two_stateless_replicas_share_the_key_allowance_through_redis(
    sandbox: Any,
    tmp_path: Path,
    redis_server: RedisServer,  # noqa: F811
) -> None:
    limit_sandbox(sandbox)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        **{k: v for k, v in sandbox.env("full").items() if k != "UNIZO_API_KEY"},  # keys come per request
        "UNIZO_RATE_LIMIT": str(RATE),
        "UNIZO_RATE_WINDOW": str(WINDOW),
        "UNIZO_MAX_CONCURRENCY": str(CONCURRENCY),
        "UNIZO_DAILY_QUOTA": "1000000",
        "UNIZO_RATE_LIMIT_BACKEND": redis_server.url,
        "UNIZO_RETRY_ATTEMPTS": "0",  # a 429 would be a failed call, not hidden by a retry
    }
    key = sandbox.keys["full"]
    integration = str(sandbox.integrations(SERVICE)[0]["id"])
    calls = RATE + RATE // 2  # the burst, then paced
    async with (
        replica(env) as first,
        replica(env) as second,
        httpx2.AsyncClient(timeout=120) as http,
    ):
        urls = itertools.cycle([first, second])
        # each replica verifies the key once; then both start from a full bucket, as the API does
        assert await call(http, first, key, integration, 0) is None
        assert await call(http, second, key, integration, 0) is None
        redis_server.command("FLUSHALL")
        limit_sandbox(sandbox)
        sandbox.clear_requests()
        results = await asyncio.gather(
            *(call(http, next(urls), key, integration, n + 1) for n in range(calls))
        )
    failed = [r for r in results if r is not None]
    assert not failed, f"{len(failed)} of {calls} calls failed, e.g. {failed[0]}"
    entries = [e for e in sandbox.requests() if e.path == LIST_PATH]
    assert len(entries) == calls
    assert sandbox.count_429s() == 0, "the API had to refuse requests with 429: the replicas did not share"
    in_flight = sandbox.max_in_flight[sandbox.key_id("full")]
    assert in_flight <= CONCURRENCY, f"{in_flight} requests in flight at the API (limit {CONCURRENCY})"
    # never more than the allowance: the burst plus the refill over the time the calls took
    times = sorted(e.timestamp for e in entries)
    assert len(times) <= RATE + (times[-1] - times[0]) * RATE / WINDOW + 1
