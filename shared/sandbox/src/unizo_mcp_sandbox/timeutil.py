"""ISO-8601 UTC timestamps as the API writes them (`2026-11-20T13:45:12Z`)."""

from __future__ import annotations

from datetime import UTC, datetime

DAY = 86_400.0


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    """Accepts `Z` or an explicit offset; a naive value is taken as UTC. Raises ValueError."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def next_utc_midnight(epoch: float) -> float:
    return (epoch // DAY + 1) * DAY
