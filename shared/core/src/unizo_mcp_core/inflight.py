"""The tool calls in flight, so that the end of stdin can wait for the writes among them.

When a client closes stdin, the SDK cancels every call still in flight. A read cancelled costs nothing,
but a write cancelled once its request went out leaves nobody knowing whether it was applied. So stdio
serving holds the end of input back until the writes in flight have their answers (or a bound has
passed), and each such write's outcome is logged: the client may no longer read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

__all__ = ["HANDOFF", "CallsInFlight"]

log = logging.getLogger("unizo_mcp.server")

# seconds for the calls read before the end of input to reach the server's handler: a moment of
# scheduling, bounded because a request the SDK refuses itself (before `initialize`, say) never does
HANDOFF = 1.0


class CallsInFlight:
    """How many tool calls have begun, how many writes are still in flight, and whether their client left."""

    def __init__(self) -> None:
        self.begun = 0
        self.writes = 0
        self.client_gone = False
        self._changed: asyncio.Event | None = None  # made by a waiter, in the loop that waits

    def begin(self) -> None:
        self.begun += 1
        self._notify()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        self.writes += 1
        try:
            yield
        finally:
            self.writes -= 1
            self._notify()

    async def drain(self, calls_read: int, bound: float) -> None:
        """The client closed stdin after `calls_read` tool calls: wait, at most `bound` seconds, for the
        writes among them to be answered."""
        self.client_gone = True
        await self._until(lambda: self.begun >= calls_read, min(bound, HANDOFF))
        if self.writes:
            log.info(
                "stdin closed with %d write(s) in flight: waiting up to %g s for their answers",
                self.writes,
                bound,
            )
            await self._until(lambda: self.writes == 0, bound)

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()

    async def _until(self, condition: Callable[[], bool], bound: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + bound
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self._changed = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
