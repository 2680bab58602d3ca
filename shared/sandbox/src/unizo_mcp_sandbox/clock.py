"""The sandbox's notion of time, with an offset tests can advance instead of sleeping."""

from __future__ import annotations

import time


class Clock:
    """Wall and monotonic time shifted by the same offset, so limits, quotas and expiry move together."""

    def __init__(self) -> None:
        self._offset = 0.0

    def time(self) -> float:
        return time.time() + self._offset

    def monotonic(self) -> float:
        return time.monotonic() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset += seconds

    def reset(self) -> None:
        self._offset = 0.0
