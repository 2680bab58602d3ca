"""A server counts its own calls: an AI agent in a loop is the unusual activity an MCP user meets first.

Two limits, both off unless set (UNIZO_ALERT_REQUESTS_PER_HOUR, UNIZO_MAX_CALLS_PER_SESSION):

* requests per hour: crossing it logs a warning and sends the client an MCP log notification, once per
  hour; calls go on;
* calls per session (a streamable HTTP session; over stdio the server process, which serves one client):
  crossing it logs and notifies, and further calls of that session are refused with a clear tool error
  until the session ends.

Pure bookkeeping (the clock is injectable); the server sends what `record()` says.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

import attrs

__all__ = ["CallMonitor", "Verdict"]

HOUR = 3600.0


@attrs.frozen
class Verdict:
    """What to do with one call: refuse it (with `refusal`), and/or tell the client (`alert`)."""

    refusal: str | None = None
    alert: str | None = None


class CallMonitor:
    def __init__(
        self,
        *,
        per_hour: int | None,
        per_session: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_hour = per_hour
        self._per_session = per_session
        self._clock = clock
        self._recent: deque[float] = deque()
        self._alerted_at = -HOUR
        self._sessions: dict[str, int] = {}

    @property
    def enabled(self) -> bool:
        return self._per_hour is not None or self._per_session is not None

    def record(self, session: str) -> Verdict:
        """Count one call of `session`; say whether to refuse it and whether to alert."""
        alert = None
        now = self._clock()
        if self._per_hour is not None:
            self._recent.append(now)
            while self._recent and self._recent[0] <= now - HOUR:
                self._recent.popleft()
            if len(self._recent) > self._per_hour and now - self._alerted_at >= HOUR:
                self._alerted_at = now
                alert = (
                    f"{len(self._recent)} tool calls in the last hour, above UNIZO_ALERT_REQUESTS_PER_HOUR "
                    f"({self._per_hour}): check that no assistant is looping"
                )
        if self._per_session is None:
            return Verdict(alert=alert)
        count = self._sessions[session] = self._sessions.get(session, 0) + 1
        if count <= self._per_session:
            return Verdict(alert=alert)
        refusal = (
            f"this session has used its budget of {self._per_session} tool calls "
            "(UNIZO_MAX_CALLS_PER_SESSION); further calls are refused until the session ends"
        )
        if count == self._per_session + 1:
            alert = refusal if alert is None else f"{alert}; {refusal}"
        return Verdict(refusal=refusal, alert=alert)
