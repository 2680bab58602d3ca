"""Command-line values, checked before anything is sent: durations, expiry dates, permissions, IP ranges, ids.

Each parser raises `ConfigError` (exit code 2) with the value, what is wrong and an example that works.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from unizo_mcp_core.errors import ConfigError

from . import api

UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86_400,
    "day": 86_400,
    "days": 86_400,
    "w": 604_800,
    "wk": 604_800,
    "week": 604_800,
    "weeks": 604_800,
}
_DURATION = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)?\s*(?P<unit>[A-Za-z]+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SCOPE = re.compile(r"[a-z][a-z0-9_]*")


def parse_duration(text: str, *, what: str, allow_zero: bool = False, maximum: float | None = None) -> float:
    """`90d`, `24h`, `10m`, `30s`, `2w`, `1.5h`, `10 minutes` (also `0` when `allow_zero`) -> seconds."""
    value = text.strip().lower()
    if allow_zero and value in ("0", "0s"):
        return 0.0
    match = _DURATION.fullmatch(value)
    example = "such as 30s, 10m, 24h, 7d or 2w"
    if match is None or match["unit"] not in UNITS:
        if value.isdigit():
            raise ConfigError(
                f"{what} {text!r} has no unit: write {value}m, {value}h or {value}d ({example})"
            )
        if match is not None and match["unit"] in ("mo", "month", "months", "y", "year", "years"):
            raise ConfigError(f"{what} {text!r}: months and years vary in length; use days (90d) or a date")
        raise ConfigError(f"{what} {text!r} is not a duration: expected a number and a unit, {example}")
    seconds = float(match["number"] or 1) * UNITS[match["unit"]]
    if seconds <= 0 and not allow_zero:
        raise ConfigError(f"{what} {text!r} must be longer than zero")
    if maximum is not None and seconds > maximum:
        raise ConfigError(f"{what} {text!r} is longer than the {format_duration(maximum)} allowed")
    return seconds


def format_duration(seconds: float) -> str:
    """3600 -> "1h", 5400 -> "1h 30m", 86400 * 7 -> "7d"."""
    left = round(seconds)
    if left == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)):
        if left >= size:
            parts.append(f"{left // size}{unit}")
            left %= size
    return " ".join(parts)


def parse_expiry(text: str, *, now: datetime | None = None) -> datetime:
    """`--expires`: a duration from now (`90d`, `12w`, `36h`), a date (`2027-01-31`, midnight UTC) or an
    ISO-8601 date-time. Must be in the future."""
    moment = now or datetime.now(UTC)
    value = text.strip()
    when: datetime | None = None
    if _DATE.fullmatch(value) or "T" in value or ":" in value:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"--expires {text!r} is not a date: use YYYY-MM-DD, an ISO-8601 date-time or a duration (90d)"
            ) from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    else:
        when = moment + timedelta(seconds=parse_duration(value, what="--expires"))
    if when <= moment:
        raise ConfigError(f"--expires {text!r} is in the past: a key must expire in the future")
    return when.astimezone(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_permissions(values: Iterable[str]) -> dict[str, list[str]]:
    """`--permissions scope:action[,action...]`, repeatable; `scope:*` is every action; the next
    `scope:` in the same value starts another scope (`a:read,b:read`).

    A scope is a service name or `platform` (account administration); the API checks which exist.
    """
    found: dict[str, list[str]] = {}
    given = False
    for value in values:
        scope: str | None = None
        for raw in value.split(","):
            token = raw.strip()
            if not token:
                continue
            given = True
            if ":" in token:
                scope, _, action = token.partition(":")
                scope = scope.strip().lower()
                if not _SCOPE.fullmatch(scope):
                    raise ConfigError(
                        f"--permissions {value!r}: {scope!r} is not a service name (lower-case letters, "
                        "digits and _), e.g. --permissions <service>:read,write"
                    )
                found.setdefault(scope, [])
            else:
                action = token
            if scope is None:
                raise ConfigError(
                    f"--permissions {value!r}: name the service before its actions, as <service>:<action>"
                    f"[,<action>...], e.g. <service>:read,write; actions are {', '.join(api.ACTIONS)}"
                )
            action = action.strip().lower()
            if not action:
                continue
            actions = list(api.ACTIONS) if action in ("*", "all") else [action]
            for item in actions:
                if item not in api.ACTIONS:
                    raise ConfigError(
                        f"--permissions {value!r}: unknown action {item!r} for {scope}; actions are "
                        f"{', '.join(api.ACTIONS)} (or * for all three)"
                    )
                if item not in found[scope]:
                    found[scope].append(item)
    if not given:
        raise ConfigError("--permissions is empty: give at least one <service>:<action>, e.g. <service>:read")
    empty = [scope for scope, actions in found.items() if not actions]
    if empty:
        raise ConfigError(f"--permissions: no action for {empty[0]}; write {empty[0]}:read (or :read,write)")
    return {scope: [a for a in api.ACTIONS if a in actions] for scope, actions in found.items()}


def parse_networks(values: Iterable[str]) -> list[str]:
    """`--ip-allow`: IP addresses or CIDR ranges, repeatable or comma-separated."""
    networks: list[str] = []
    for value in values:
        for raw in value.split(","):
            token = raw.strip()
            if not token:
                continue
            try:
                network = str(ipaddress.ip_network(token, strict=False))
            except ValueError:
                raise ConfigError(
                    f"--ip-allow {token!r} is not an IP address or CIDR range (like 203.0.113.7, 10.0.0.0/8)"
                ) from None
            if network not in networks:
                networks.append(network)
    return networks
