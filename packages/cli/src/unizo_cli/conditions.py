"""The alert condition grammar of `unizo alerts create --condition`:

    condition  = metric comparison threshold window
    metric     = api_requests | api_errors | error_rate | rate_limited | forbidden | server_errors
    comparison = ">" | ">=" | "<" | "<=" | "==" | "!="          ("=" is read as "==")
    threshold  = number ["k"] ["%"]                             (1000, 1.5k, 2_000, 5%; % for error_rate only)
    window     = ("/" | "per" | "in" | "over" | "every") [number] unit
    unit       = s | m | h | d | w, or their words (sec, min, minute, hour, day, week, plural or not)

    api_requests > 1000/hour      api_errors >= 50 per 10m      error_rate > 5% over 15 minutes

The window is a whole number of minutes, one minute to seven days (the usage the API keeps). A bad condition
is a ConfigError that points at the place it went wrong.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from unizo_mcp_core.errors import ConfigError

from . import api
from .parsing import UNITS, format_duration

_SEPARATORS = ("/", "per", "in", "over", "every")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_NUMBER = re.compile(r"[0-9][0-9_,]*(?:\.[0-9]+)?|\.[0-9]+")
_SPACE = re.compile(r"\s*")


@dataclass(frozen=True)
class Condition:
    metric: str
    operator: str
    threshold: float
    window_seconds: int

    def text(self) -> str:
        unit = "%" if self.metric in api.PERCENT_METRICS else ""
        return f"{self.metric} {self.operator} {self.threshold:g}{unit}/{window_text(self.window_seconds)}"

    def body(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "operator": self.operator,
            "threshold": self.threshold,
            "windowSeconds": self.window_seconds,
        }


def window_text(seconds: int) -> str:
    """3600 -> "1h", 5400 -> "90m", 604800 -> "7d": one unit, as the grammar reads it."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class ConditionError(ConfigError):
    """A condition that does not parse; the message shows where."""

    def __init__(self, text: str, position: int, reason: str) -> None:
        pointer = " " * position + "^"
        super().__init__(
            f"Bad --condition: {reason}\n    {text}\n    {pointer}",
            hint='Example: --condition "api_requests > 1000/hour" (see unizo alerts create --help).',
        )
        self.position = position
        self.reason = reason


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> int:
        """Past the blanks; the position reached."""
        match = _SPACE.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos
        return self.pos

    def take(self, pattern: re.Pattern[str]) -> str | None:
        self.skip()
        match = pattern.match(self.text, self.pos)
        if match is None or not match.group():
            return None
        self.pos = match.end()
        return match.group()

    def take_literal(self, *options: str) -> str | None:
        self.skip()
        for option in sorted(options, key=len, reverse=True):
            if self.text.startswith(option, self.pos):
                self.pos += len(option)
                return option
        return None

    def fail(self, reason: str, at: int | None = None) -> ConditionError:
        self.skip()
        return ConditionError(self.text, self.pos if at is None else at, reason)


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def parse_condition(text: str) -> Condition:
    scan = _Scanner(text)
    metrics = sorted(api.METRICS)
    known = ", ".join(metrics)

    start = scan.skip()
    metric = scan.take(_WORD)
    if metric is None:
        raise scan.fail(f"expected a metric first, one of {known}")
    if metric.lower() not in api.METRICS:
        raise scan.fail(
            f"unknown metric {metric!r}{_suggest(metric.lower(), metrics)}; metrics: {known}", start
        )
    metric = metric.lower()

    operator = scan.take_literal(*api.OPERATORS, "=", "=>", "=<")
    if operator is None:
        raise scan.fail(f"expected a comparison after {metric}: one of {', '.join(api.OPERATORS)}")
    if operator in ("=>", "=<"):
        raise scan.fail(f"write {operator[::-1]}, not {operator}", scan.pos - 2)
    operator = "==" if operator == "=" else operator

    at = scan.skip()
    number = scan.take(_NUMBER)
    if number is None:
        found = scan.take(_WORD)
        what = f", not {found!r}" if found else ""
        raise scan.fail(f"expected a threshold number after {operator}{what}", at)
    try:
        threshold = float(number.replace("_", "").replace(",", ""))
    except ValueError:
        raise scan.fail(f"{number!r} is not a number", at) from None
    if scan.text.startswith(("k", "K"), scan.pos):
        scan.pos += 1
        threshold *= 1000
    if scan.take_literal("%"):
        if metric not in api.PERCENT_METRICS:
            raise scan.fail(f"% applies to error_rate only; {metric} is a count", scan.pos - 1)
        threshold = float(threshold)
    if metric in api.PERCENT_METRICS and threshold > 100:
        raise scan.fail(f"{metric} is a percentage: the threshold must be 0 to 100", at)
    if threshold != int(threshold) and metric not in api.PERCENT_METRICS:
        raise scan.fail(f"{metric} counts requests: the threshold must be a whole number", at)

    scan.skip()
    if scan.pos >= len(text):
        raise scan.fail("missing the window: add /hour, /10m, per 5 minutes or over 1d")
    separator = scan.take_literal("/") or scan.take(_WORD)
    if separator is None or separator.lower() not in _SEPARATORS:
        raise scan.fail(
            "expected the window after the threshold: /hour, per 10m or over 15 minutes",
            scan.pos - len(separator or ""),
        )

    at = scan.skip()
    count_text = scan.take(_NUMBER)
    count = float(count_text.replace("_", "").replace(",", "")) if count_text else 1.0
    unit_at = scan.skip()
    unit = scan.take(re.compile(r"[A-Za-z]+"))
    if unit is None:
        raise scan.fail("expected a window unit: s, m, h, d, w (or second, minute, hour, day, week)")
    if unit.lower() not in UNITS:
        units = sorted(UNITS, key=lambda u: (UNITS[u], len(u)))
        raise scan.fail(
            f"unknown window unit {unit!r}{_suggest(unit.lower(), units)}; use m, h, d or w", unit_at
        )
    seconds = count * UNITS[unit.lower()]

    scan.skip()
    if scan.pos < len(text):
        raise scan.fail(f"unexpected {text[scan.pos :]!r} after the window")
    if seconds % 60 or seconds < api.MIN_WINDOW:
        raise scan.fail("the window must be a whole number of minutes, at least one minute", at)
    if seconds > api.MAX_WINDOW:
        raise scan.fail(
            f"the window can be at most {format_duration(api.MAX_WINDOW)} (the usage the API keeps)", at
        )
    return Condition(metric, operator, threshold, int(seconds))
