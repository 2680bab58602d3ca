"""The calls in flight at the end of stdin: the writes among them are waited for, within a bound."""

from __future__ import annotations

import asyncio

import pytest
from unizo_mcp_core.inflight import CallsInFlight


async def settle() -> None:
    """Let every task that can run, run."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_with_nothing_in_flight_the_end_is_not_held() -> None:
    calls = CallsInFlight()
    await asyncio.wait_for(calls.drain(0, bound=60), 30)
    assert calls.client_gone


async def test_the_end_waits_for_a_call_read_before_it_and_for_the_write_it_is() -> None:
    calls = CallsInFlight()
    drained = asyncio.create_task(calls.drain(1, bound=60))
    await settle()
    assert not drained.done()  # the call read before the end has not reached the handler yet
    calls.begin()
    with calls.write():
        await settle()
        assert not drained.done()  # a write in flight
    await asyncio.wait_for(drained, 30)


async def test_reads_do_not_hold_the_end(caplog: pytest.LogCaptureFixture) -> None:
    calls = CallsInFlight()
    calls.begin()  # a read: begun, never a write
    caplog.set_level("INFO", logger="unizo_mcp")
    await asyncio.wait_for(calls.drain(1, bound=60), 30)
    assert "in flight" not in caplog.text


async def test_the_wait_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    calls = CallsInFlight()
    caplog.set_level("INFO", logger="unizo_mcp")
    with calls.write():  # a write that never ends
        await asyncio.wait_for(calls.drain(0, bound=0.05), 30)
        assert calls.writes == 1
    assert "stdin closed with 1 write(s) in flight: waiting up to 0.05 s" in caplog.text
    # a call that never reaches the handler (one the SDK refused itself) holds the end no longer
    await asyncio.wait_for(CallsInFlight().drain(1, bound=0.05), 30)
