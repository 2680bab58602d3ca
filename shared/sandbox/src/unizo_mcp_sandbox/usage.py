"""Per-key request counts by minute, service and status: `GET /api/v1/apiKeys/{id}/usage` and the alerts.

Counts are kept per minute for `RETENTION` (seven days), so a usage window (`since`) or an alert window can
be any whole number of minutes up to that. Every endpoint and field built from them is ours
(docs/api-contract.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

MINUTE = 60
HOUR = 3600
RETENTION = 7 * 86_400  # seconds of usage kept per key: the longest usage and alert window
# the service of requests no service's permission guards (the integrations search, unknown routes)
OTHER = "other"

Bucket = Counter[tuple[str, str]]  # (service, status) -> count


def is_error(status: str) -> bool:
    """4xx and 5xx answers, and requests that got none (a dropped connection is recorded as 0)."""
    code = int(status)
    return code >= 400 or code == 0


def _pair(name: str) -> tuple[str, str]:
    service, _, status = name.rpartition(" ")
    return service, status


class UsageCounter:
    def __init__(self) -> None:
        # key id -> minute number -> (service, status) -> count
        self._minutes: dict[str, dict[int, Bucket]] = {}
        self._pruned_at: dict[str, int] = {}

    def record(self, key_id: str, status: int, now: float, service: str = OTHER) -> None:
        minutes = self._minutes.setdefault(key_id, {})
        minute = int(now // MINUTE)
        minutes.setdefault(minute, Counter())[(service, str(status))] += 1
        if self._pruned_at.get(key_id) != minute:  # at most once a minute per key
            self._pruned_at[key_id] = minute
            oldest = minute - RETENTION // MINUTE
            for old in [m for m in minutes if m <= oldest]:
                del minutes[old]

    def _buckets(
        self, key_ids: Iterable[str], first_minute: int, last_minute: int
    ) -> Iterator[tuple[int, Bucket]]:
        for key_id in key_ids:
            for minute, counts in self._minutes.get(key_id, {}).items():
                if first_minute <= minute <= last_minute:
                    yield minute, counts

    def last_24h(self, key_id: str, now: float) -> dict[str, Any]:
        """The answer without `since`: the current hour and the 23 before it, by status."""
        first = (int(now // HOUR) - 23) * (HOUR // MINUTE)
        by_status: Counter[str] = Counter()
        for _, counts in self._buckets([key_id], first, int(now // MINUTE)):
            for (_, status), count in counts.items():
                by_status[status] += count
        return {"requests": sum(by_status.values()), "byStatus": dict(sorted(by_status.items()))}

    def by_status(self, key_ids: Iterable[str], since: float, now: float) -> dict[str, int]:
        """Counts by status from `since` to `now` (what an alert's metric is computed from)."""
        counts: Counter[str] = Counter()
        for _, bucket in self._buckets(key_ids, int(since // MINUTE), int(now // MINUTE)):
            for (_, status), count in bucket.items():
                counts[status] += count
        return dict(counts)

    def window(self, key_ids: Iterable[str], since: float, now: float) -> dict[str, Any]:
        """Requests, errors, by status, by service and every hour (zeros included) from `since` to `now`."""
        first, last = int(since // MINUTE), int(now // MINUTE)
        by_status: Counter[str] = Counter()
        by_service: dict[str, Counter[str]] = {}
        hours: dict[int, Counter[str]] = {
            hour: Counter() for hour in range(int(since // HOUR), int(now // HOUR) + 1)
        }
        for minute, counts in self._buckets(key_ids, first, last):
            hour = hours.setdefault(minute * MINUTE // HOUR, Counter())
            for (service, status), count in counts.items():
                kind = "errors" if is_error(status) else "ok"
                by_status[status] += count
                by_service.setdefault(service, Counter())[kind] += count
                hour[kind] += count
        errors = sum(count for status, count in by_status.items() if is_error(status))

        def totals(counts: Counter[str]) -> dict[str, int]:
            return {"requests": counts["ok"] + counts["errors"], "errors": counts["errors"]}

        return {
            "requests": sum(by_status.values()),
            "errors": errors,
            "byStatus": dict(sorted(by_status.items())),
            "byService": {service: totals(counts) for service, counts in sorted(by_service.items())},
            "byHour": [{"hour": hour * HOUR, **totals(counts)} for hour, counts in sorted(hours.items())],
        }

    def clear(self) -> None:
        self._minutes.clear()
        self._pruned_at.clear()

    def to_state(self) -> dict[str, Any]:
        return {
            "minutes": {
                key_id: {
                    str(minute): {f"{service} {status}": count for (service, status), count in counts.items()}
                    for minute, counts in minutes.items()
                }
                for key_id, minutes in self._minutes.items()
            }
        }

    def load_state(self, data: dict[str, Any]) -> None:
        """This format, or the earlier one (key id -> hour -> status -> count; service unknown)."""
        self.clear()
        if "minutes" in data:
            for key_id, minutes in data["minutes"].items():
                self._minutes[key_id] = {
                    int(minute): Counter({_pair(name): count for name, count in counts.items()})
                    for minute, counts in minutes.items()
                }
            return
        for key_id, hours in data.items():
            self._minutes[key_id] = {
                int(hour) * (HOUR // MINUTE): Counter({(OTHER, status): n for status, n in counts.items()})
                for hour, counts in hours.items()
            }
