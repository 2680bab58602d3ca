"""Usage alerts (ours, `full` profile): a condition on a key's recorded usage, evaluated as requests arrive,
on reads and periodically; a transition fires a signed webhook to each of the alert's targets.

A condition is `metric operator threshold` over a window of whole minutes, e.g. api_requests > 1000 in the
last 3600 s. Without a key id an alert watches every key of its organization together.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from unizo_mcp_sandbox.timeutil import iso
from unizo_mcp_sandbox.usage import MINUTE, RETENTION

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
# metric -> what it counts; error_rate is a percentage of the window's requests
METRICS = {
    "api_requests": "requests",
    "api_errors": "answers with status 400 or above, and dropped requests",
    "error_rate": "errors as a percentage of requests (0 without requests)",
    "rate_limited": "answers with status 429",
    "forbidden": "answers with status 403",
    "server_errors": "answers with status 500 or above",
}
MIN_WINDOW = MINUTE
MAX_WINDOW = RETENTION
FIRED, RESOLVED = "alert:fired", "alert:resolved"


def metric_value(metric: str, by_status: dict[str, int]) -> float:
    """The metric over a window, from its counts by status."""
    requests = sum(by_status.values())
    errors = sum(n for status, n in by_status.items() if int(status) >= 400 or int(status) == 0)
    if metric == "api_requests":
        return float(requests)
    if metric == "api_errors":
        return float(errors)
    if metric == "error_rate":
        return round(100.0 * errors / requests, 2) if requests else 0.0
    if metric == "rate_limited":
        return float(by_status.get("429", 0))
    if metric == "forbidden":
        return float(by_status.get("403", 0))
    if metric == "server_errors":
        return float(sum(n for status, n in by_status.items() if int(status) >= 500))
    raise ValueError(f"unknown metric {metric!r}")


def window_text(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@attrs.define
class Alert:
    id: str
    name: str
    organization_id: str
    metric: str
    operator: str
    threshold: float
    window_seconds: int
    created_at: float
    key_id: str | None = None
    # each {"type": "webhook", "url": ..., "secret": ...}; the secret is never shown again
    notify: list[dict[str, str]] = attrs.field(factory=list)
    state: str = "ok"  # "ok" or "firing"
    last_value: float | None = None
    last_evaluated_at: float | None = None
    last_fired_at: float | None = None
    fired_count: int = 0

    @property
    def expression(self) -> str:
        unit = "%" if self.metric == "error_rate" else ""
        return f"{self.metric} {self.operator} {self.threshold:g}{unit}/{window_text(self.window_seconds)}"

    def condition(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "operator": self.operator,
            "threshold": self.threshold,
            "windowSeconds": self.window_seconds,
        }

    def public_view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "condition": self.condition(),
            "expression": self.expression,
            "keyId": self.key_id,
            "notify": [{"type": target["type"], "url": target["url"]} for target in self.notify],
            "state": self.state,
            "lastValue": self.last_value,
            "lastEvaluatedAt": iso(self.last_evaluated_at) if self.last_evaluated_at is not None else None,
            "lastFiredAt": iso(self.last_fired_at) if self.last_fired_at is not None else None,
            "firedCount": self.fired_count,
            "organization": {"id": self.organization_id},
            "createdAt": iso(self.created_at),
        }

    def evaluate(self, value: float, now: float) -> str | None:
        """Record `value`; the event to send when the state changed (FIRED or RESOLVED), else None."""
        firing = OPERATORS[self.operator](value, self.threshold)
        self.last_value, self.last_evaluated_at = value, now
        if firing and self.state != "firing":
            self.state, self.last_fired_at = "firing", now
            self.fired_count += 1
            return FIRED
        if not firing and self.state == "firing":
            self.state = "ok"
            return RESOLVED
        return None

    def payload(self, event: str, key_ids: Iterable[str]) -> dict[str, Any]:
        """The `data` of the webhook delivery."""
        return {
            "alert": self.public_view(),
            "event": event,
            "value": self.last_value,
            "threshold": self.threshold,
            "keyIds": sorted(key_ids),
        }


class AlertStore:
    def __init__(self) -> None:
        self.alerts: dict[str, Alert] = {}

    def of_organization(self, organization_id: str) -> list[Alert]:
        return [alert for alert in self.alerts.values() if alert.organization_id == organization_id]

    def clear(self) -> None:
        self.alerts.clear()

    def to_state(self) -> list[dict[str, Any]]:
        return [attrs.asdict(alert) for alert in self.alerts.values()]

    def load_state(self, entries: list[dict[str, Any]]) -> None:
        self.alerts = {entry["id"]: Alert(**entry) for entry in entries}
