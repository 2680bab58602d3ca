"""Sandbox faults against one MCP server: each scenario states its expected outcome and checks it.

Outcomes are read from the tool results and from the sandbox's record of what it received (status,
correlationId, timestamps), never from how long the test took.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from typing import Any

import pytest
from mcp import MCPError
from security.support import listable, top_list
from servicekit import a_service, installed, is_get, is_list, tools_where

from .conftest import Session, server_session, text_of

SPEC = a_service(listable)  # the service whose list tool the single-tool scenarios call (the core's logic)
TOP = top_list(SPEC)
TOP_PATH = "/api/v1" + TOP.path


async def read_calls(session: Session) -> list[tuple[str, dict[str, Any]]]:
    """A mix of list and get calls on every service, with real ids (found before any fault is set): its
    first list tool, its first get tool and its first list tool under a parent."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for spec in installed().values():
        chosen = [top_list(spec)] if listable(spec) else []
        if spec.discovery:  # an account-level service has nothing seeded under its lists to get
            chosen += tools_where(spec, is_get)[:1]
            chosen += tools_where(spec, lambda t: is_list(t) and bool(t.path_params()))[:1]
        for tool in chosen:
            calls.append((tool.name, await session.args(spec, tool)))
    return calls


def by_correlation(entries: list[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for entry in entries:
        groups[entry.correlation_id].append(entry)
    return groups


async def test_30_percent_503_on_reads_every_call_succeeds(sandbox: Any) -> None:
    """Expected: every call succeeds within the retry budget; each call got exactly one 200.

    The budget is 8 retries: a call fails only if 9 tries in a row get a 503 (0.3^9, about 2e-5), so the
    outcome does not hang on the particular sequence the sandbox's seeded faults produce.
    """
    env = {
        "UNIZO_RETRY_ATTEMPTS": "8",
        "UNIZO_RETRY_DELAY": "5",
        "UNIZO_MAX_RETRY_DELAY": "50",
        "UNIZO_RATE_LIMIT": "10000",  # this scenario is about 503s, not about the per-minute limit
    }
    sandbox.set_limits(rate_limit=10_000)
    async with server_session(sandbox, env=env) as session:
        calls = await read_calls(session) * 6
        sandbox.clear_requests()
        sandbox.set_faults("GET /api/v1/*=503@0.3")
        results = [await session.call(tool, args) for tool, args in calls]
    failed = [f"{tool}: {text_of(r)}" for (tool, _), r in zip(calls, results, strict=True) if r.is_error]
    assert not failed, "\n".join(failed)
    entries = sandbox.requests()
    statuses = [e.status for e in entries]
    assert statuses.count(503) >= len(calls) * 0.15, (
        f"only {statuses.count(503)} 503s: the fault did not fire"
    )
    groups = by_correlation(entries)
    assert len(groups) == len(calls)
    for correlation_id, group in groups.items():
        assert [e.status for e in group][-1] == 200 and [e.status for e in group].count(200) == 1, (
            correlation_id,
            [e.status for e in group],
        )
        assert set(e.status for e in group[:-1]) <= {503}


RETRY_AFTER = 0.2  # seconds


async def test_429_storm_waits_as_told_and_succeeds(sandbox: Any) -> None:
    """Expected: 10 simultaneous calls all get 429 Retry-After: 0.2, wait at least that long, then succeed."""
    async with server_session(sandbox) as session:
        args = session.scope(SPEC)
        sandbox.clear_requests()
        sandbox.set_faults(f"GET /api/v1/*=429:retry_after={RETRY_AFTER}#10")
        results = await asyncio.gather(*(session.call(TOP.name, args) for _ in range(10)))
    assert all(not r.is_error for r in results), [text_of(r) for r in results if r.is_error]
    groups = by_correlation(sandbox.requests())
    assert sum(e.status == 429 for g in groups.values() for e in g) == 10
    for group in groups.values():
        statuses = [e.status for e in group]
        assert statuses[-1] == 200, statuses
        for refused, retry in itertools.pairwise(group):
            if refused.status == 429:
                # the retry came no sooner than Retry-After (a lower bound from the sandbox's own clock)
                assert retry.timestamp - refused.timestamp >= 0.95 * RETRY_AFTER, (refused, retry)


async def test_retry_after_beyond_cap_is_a_clear_error_and_nothing_hangs(sandbox: Any) -> None:
    """Expected: Retry-After of an hour (cap 2 s) is reported at once, not waited; later calls don't hang."""
    async with server_session(sandbox) as session:
        args = session.scope(SPEC)
        sandbox.clear_requests()
        sandbox.set_faults("GET /api/v1/*=429:retry_after=3600#1")
        result = await session.call(TOP.name, args)
        assert result.is_error
        text = text_of(result)
        assert "429" in text and "rate limit" in text.lower() and "3600" in text, text
        assert len(sandbox.requests()) == 1, "a Retry-After beyond the cap was retried"
        # the API is fine again: the next call must not sit out the hour inside the tool call
        sandbox.set_faults(None)
        try:
            later = await session.call(TOP.name, args, timeout=15)
        except MCPError as exc:
            pytest.fail(f"the call after the refused Retry-After hung inside the server: {exc}")
        text = text_of(later)
        assert not later.is_error or ("rate limit" in text.lower() and "retry after" in text.lower()), text


async def test_latency_past_the_timeout_names_the_timeout(sandbox: Any) -> None:
    """Expected: a timeout error naming UNIZO_TIMEOUT and its value; the server keeps serving."""
    env = {"UNIZO_TIMEOUT": "0.5", "UNIZO_RETRY_ATTEMPTS": "1"}
    async with server_session(sandbox, [SPEC], env=env) as session:
        args = session.scope(SPEC)
        sandbox.set_faults(f"GET {TOP_PATH}=latency:700")
        result = await session.call(TOP.name, args, timeout=30)
        assert result.is_error
        text = text_of(result)
        assert "UNIZO_TIMEOUT" in text and "0.5 s" in text, text
        sandbox.set_faults(None)
        assert not (await session.call(TOP.name, args)).is_error
    # the sandbox is still sitting out the abandoned requests: let them finish (they hold concurrency
    # slots of the key) so that the next test starts clean
    for _ in range(300):
        if sum(1 for e in sandbox.requests() if e.fault == "latency") >= 2:
            break
        await asyncio.sleep(0.05)


FAULT_MESSAGES = {
    "drop": "closed the connection",
    "truncate": "truncated",
    "nonjson": "not valid JSON",
}


async def test_dropped_connections_and_bad_bodies(sandbox: Any) -> None:
    """Expected: a one-off fault is retried away; a persistent one is a clear error; the server keeps
    serving."""
    problems = []
    async with server_session(sandbox, [SPEC]) as session:
        args = session.scope(SPEC)
        for kind, message in FAULT_MESSAGES.items():
            sandbox.set_faults(f"GET {TOP_PATH}={kind}#1")
            once = await session.call(TOP.name, args)
            if once.is_error:
                problems.append(f"one {kind} was not retried away: {text_of(once)}")
            sandbox.set_faults(f"GET {TOP_PATH}={kind}")
            always = await session.call(TOP.name, args)
            text = text_of(always)
            if not always.is_error:
                problems.append(f"a persistent {kind} was returned as a success: {text[:200]}")
            elif message not in text or "gave up after 3 retries" not in text:
                problems.append(f"{kind}: unclear error: {text}")
            sandbox.set_faults(None)
            after = await session.call(TOP.name, args)
            if after.is_error:
                problems.append(f"after {kind} the server did not recover: {text_of(after)}")
        assert (await session.client.list_tools()).tools, "the server stopped serving"
    assert not problems, "\n".join(problems)
