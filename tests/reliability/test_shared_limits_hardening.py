"""Hardening II, item 10, against the sandbox (it counts the requests in flight per key, answered or not).

A client-side timeout used to free a concurrency slot the API still counted: with 3.5 s of latency, a 2 s
timeout and 5 calls, the 5 retries arrived while the 5 abandoned requests were still being served, and got
5 concurrency 429s. The slot is now kept until the API can be assumed done (the timeout again).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from unizo_mcp_core.registry import discover_services

from .conftest import server_session, text_of
from .test_shared_limits import LIST_PATH, LIST_TOOL, SERVICE

CONCURRENCY = 5


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["process", "local"])
async def test_timed_out_calls_keep_their_slots_until_the_api_is_done(backend: str, sandbox: Any) -> None:
    sandbox.set_limits(rate_limit=10_000, max_concurrency=CONCURRENCY, daily_quota=100_000)
    env = {
        "UNIZO_RATE_LIMIT": "10000",
        "UNIZO_MAX_CONCURRENCY": str(CONCURRENCY),
        "UNIZO_TIMEOUT": "2",
        "UNIZO_RATE_LIMIT_BACKEND": backend,
    }
    async with server_session(sandbox, (discover_services()[SERVICE],), env=env) as session:
        args = {"integration_id": session.integration(SERVICE), "limit": 5}
        # the first five requests take 3.5 s at the API: each call times out once, then is retried
        sandbox.set_faults(f"GET {LIST_PATH}=latency:3500#{CONCURRENCY}")
        sandbox.clear_requests()
        results = await asyncio.gather(
            *(session.call(LIST_TOOL, args, timeout=60) for _ in range(CONCURRENCY))
        )

    failed = [text_of(r) for r in results if r.is_error]
    assert not failed, f"{len(failed)} of {CONCURRENCY} calls failed, e.g. {failed[0]}"
    assert sandbox.count_429s() == 0, "retries reached the API while it still served the timed-out requests"
    assert sandbox.max_in_flight[sandbox.key_id("full")] <= CONCURRENCY
    entries = [e for e in sandbox.requests() if e.path == LIST_PATH]
    assert len(entries) == 2 * CONCURRENCY  # each call: one timed out, one answered
