"""A bounded log of the requests the sandbox received, for tests that check what a client really sent.

Key values are never recorded, only the id of the key that authenticated.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import attrs

DEFAULT_CAPACITY = 10_000
DROPPED = 0  # status recorded when a fault closed the connection without an answer
CLIENT_CLOSED_REQUEST = 499  # the client disconnected before its request was read (nginx's code)


@attrs.frozen
class RecordedRequest:
    method: str
    raw_path: str  # as sent on the request line, query string included, still percent-encoded
    path: str  # decoded path, no query string
    status: int
    integration_id: str | None
    key_id: str | None = None
    correlation_id: str | None = None
    fault: str | None = None
    timestamp: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "rawPath": self.raw_path,
            "path": self.path,
            "status": self.status,
            "integrationId": self.integration_id,
            "keyId": self.key_id,
            "correlationId": self.correlation_id,
            "fault": self.fault,
            "timestamp": self.timestamp,
        }


class RequestRecorder:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: deque[RecordedRequest] = deque(maxlen=capacity)

    def add(self, entry: RecordedRequest) -> None:
        self._entries.append(entry)

    def entries(self) -> list[RecordedRequest]:
        return list(self._entries)

    def clear(self) -> None:
        self._entries.clear()
