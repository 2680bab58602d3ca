"""Per-key request counts by hour and status, for `GET /api/v1/apiKeys/{id}/usage`."""

from __future__ import annotations

from collections import Counter
from typing import Any

HOUR = 3600


class UsageCounter:
    def __init__(self) -> None:
        # key id -> hour number -> status -> count
        self._hours: dict[str, dict[int, Counter[str]]] = {}

    def record(self, key_id: str, status: int, now: float) -> None:
        hours = self._hours.setdefault(key_id, {})
        hour = int(now // HOUR)
        hours.setdefault(hour, Counter())[str(status)] += 1
        for old in [h for h in hours if h <= hour - 24]:
            del hours[old]

    def last_24h(self, key_id: str, now: float) -> dict[str, Any]:
        first_hour = int(now // HOUR) - 23
        by_status: Counter[str] = Counter()
        for hour, counts in self._hours.get(key_id, {}).items():
            if hour >= first_hour:
                by_status.update(counts)
        return {"requests": sum(by_status.values()), "byStatus": dict(sorted(by_status.items()))}

    def clear(self) -> None:
        self._hours.clear()

    def to_state(self) -> dict[str, Any]:
        return {
            key_id: {str(hour): dict(counts) for hour, counts in hours.items()}
            for key_id, hours in self._hours.items()
        }

    def load_state(self, data: dict[str, Any]) -> None:
        self._hours = {
            key_id: {int(hour): Counter(counts) for hour, counts in hours.items()}
            for key_id, hours in data.items()
        }
