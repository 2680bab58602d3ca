"""Load: 200 concurrent tool calls through one server against a sandbox limited to 5 concurrent requests.

The product's limit is 100 requests per minute; the window is scaled down to WINDOW seconds on both
sides (sandbox rate_window, client UNIZO_RATE_WINDOW), so the 100 calls after the burst are paced at
100/WINDOW per second and the test stays short.

Expected: never more than 5 requests in flight at the API, not a single 429, every call completes, and
the paced part runs at no less than 95% of the allowance. The achieved rate is computed from the
sandbox's own timestamps of the requests it received, not from the test's duration.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from security.support import listable, top_list
from servicekit import a_service

from .conftest import server_session, text_of

CALLS = 200
CONCURRENCY = 5
RATE = 100  # per window, on both sides: a 100-request burst, then RATE/WINDOW requests per second
WINDOW = 6.0  # seconds: the minute, scaled down
SKIP_AFTER_BURST = 3  # requests right after the burst, where the client keeps a small reserve


def api_view(sandbox: Any, path: str) -> str:
    """What the API saw on the key, to tell a client that sent too much from requests it did not send."""
    entries = [e for e in sandbox.requests() if e.key_id == sandbox.key_id("full")]
    others = sorted({f"{e.method} {e.path}" for e in entries if e.path != path})
    refused = [i for i, e in enumerate(entries) if e.status == 429]
    view = f"the API saw {len(entries)} requests on the key since the burst; other paths: {others or 'none'}"
    if refused:
        first = refused[0]  # every request before it was admitted
        elapsed = entries[first].timestamp - entries[0].timestamp
        allowed = RATE + RATE / WINDOW * elapsed
        view += (
            f"; first 429 was request #{first}, {elapsed:.2f} s after the first, with {first} admitted"
            f" before it where the bucket allows {allowed:.1f} by then (429s at {refused})"
        )
    return view


@pytest.mark.slow
async def test_200_concurrent_calls_within_the_limits(sandbox: Any) -> None:
    sandbox.set_limits(rate_limit=RATE, max_concurrency=CONCURRENCY, rate_window=WINDOW, daily_quota=100_000)
    env = {
        "UNIZO_RATE_LIMIT": str(RATE),
        "UNIZO_RATE_WINDOW": str(WINDOW),
        "UNIZO_MAX_CONCURRENCY": str(CONCURRENCY),
        "UNIZO_RETRY_ATTEMPTS": "0",  # a 429 would be a failed call, not hidden by a retry
    }
    spec = a_service(listable)
    tool = top_list(spec)
    path = "/api/v1" + tool.path
    async with server_session(sandbox, [spec], env=env) as session:
        args = {**session.scope(spec), "limit": 5}
        # hold each request a moment at the API so that concurrency really builds up
        sandbox.set_faults(f"GET {path}=latency:25")
        sandbox.clear_requests()
        results = await asyncio.gather(*(session.call(tool.name, args, timeout=120) for _ in range(CALLS)))

    failed = [text_of(r) for r in results if r.is_error]
    assert not failed, f"{len(failed)} of {CALLS} calls failed, e.g. {failed[0]}\n{api_view(sandbox, path)}"
    entries = [e for e in sandbox.requests() if e.path == path]
    assert len(entries) == CALLS, f"{len(entries)} requests for {CALLS} calls"
    assert sandbox.count_429s() == 0, "the API had to refuse requests with 429"
    in_flight = sandbox.max_in_flight[sandbox.key_id("full")]
    assert in_flight <= CONCURRENCY, f"{in_flight} requests in flight at the API (limit {CONCURRENCY})"
    assert in_flight >= 2, "the calls never overlapped: the scenario did not exercise concurrency"

    times = sorted(e.timestamp for e in entries)
    allowance = RATE / WINDOW  # requests per second once the burst is used up
    start = RATE + SKIP_AFTER_BURST  # index of the first request well inside the paced part
    paced = len(times) - 1 - start
    assert paced >= 20, "too few paced requests to measure a rate"
    achieved = paced / (times[-1] - times[start])
    ratio = achieved / allowance
    assert ratio >= 0.95, f"achieved {achieved:.3f}/s, {ratio:.1%} of the {allowance:.3f}/s allowance"
    # the whole run against the token bucket: burst plus refill over the time it took
    overall = len(times) / (RATE + allowance * (times[-1] - times[0]))
    assert overall >= 0.95, f"only {overall:.1%} of the allowance used over the whole run"
