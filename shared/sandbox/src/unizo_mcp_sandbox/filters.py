"""Query filters of list endpoints: how one query parameter narrows the records before paging.

A resource declares `filters={"status": "status", "minCvss": at_least("cvss.score")}`: a plain string is
`equals(field)`. A malformed value is a 400 naming the parameter. Unknown parameters are ignored, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.timeutil import parse_iso

Record = Mapping[str, Any]
R = TypeVar("R", bound=Record)
DAY = 86_400


@attrs.frozen
class Filter:
    # the raw query value -> the value `matches` compares with; ValueError means a 400 on the parameter
    parse: Callable[[str], Any]
    # (record, parsed value, now as unix seconds) -> keep the record?
    matches: Callable[[Record, Any, float], bool]
    # a query value that keeps `record` (None when no value does), so generic tests can exercise the filter
    sample: Callable[[Record], str | None]


def value_at(record: Record, dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _values(record: Record, dotted: str) -> list[Any]:
    """The field's value, or its elements when it is a list; missing values are left out."""
    value = value_at(record, dotted)
    if value is None:
        return []
    return [item for item in value if item is not None] if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    # JSON spelling for booleans, so `hasDevices=true` matches True
    return ("true" if value else "false") if isinstance(value, bool) else str(value).lower()


def _lowered(raw: str) -> str:
    value = raw.strip().lower()
    if not value:
        raise ValueError("must not be empty")
    return value


def _number(raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise ValueError("must be a number") from None


def _instant(raw: str) -> float:
    try:
        return parse_iso(raw.strip())
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD) or an ISO-8601 date-time") from None


def _days(raw: str) -> int:
    try:
        days = int(raw.strip())
    except ValueError:
        raise ValueError("must be a whole number of days") from None
    if days < 0:
        raise ValueError("must not be negative")
    return days


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _as_instant(value: Any) -> float | None:
    try:
        return parse_iso(value) if isinstance(value, str) else None
    except ValueError:
        return None


def equals(field: str) -> Filter:
    """The field (or one element of a list field) equals the value, ignoring case."""
    return Filter(
        parse=_lowered,
        matches=lambda record, wanted, _: any(_text(value) == wanted for value in _values(record, field)),
        sample=lambda record: next((_text(value) for value in _values(record, field)), None),
    )


def search(*fields: str) -> Filter:
    """Any of the fields contains the value, ignoring case (a free-text `search` parameter)."""

    def matches(record: Record, wanted: str, _: float) -> bool:
        return any(wanted in _text(value) for field in fields for value in _values(record, field))

    def sample(record: Record) -> str | None:
        return next((_text(value) for field in fields for value in _values(record, field)), None)

    return Filter(parse=_lowered, matches=matches, sample=sample)


def _compared(
    field: str, parse: Callable[[str], float], read: Callable[[Any], float | None], *, low: bool
) -> Filter:
    def matches(record: Record, bound: float, _: float) -> bool:
        value = read(value_at(record, field))
        return value is not None and (value >= bound if low else value <= bound)

    def sample(record: Record) -> str | None:
        value = value_at(record, field)
        return str(value) if read(value) is not None else None

    return Filter(parse=parse, matches=matches, sample=sample)


def at_least(field: str) -> Filter:
    """A number field is at least the value (e.g. `cvssMin`)."""
    return _compared(field, _number, _as_number, low=True)


def at_most(field: str) -> Filter:
    """A number field is at most the value (e.g. `cvssMax`)."""
    return _compared(field, _number, _as_number, low=False)


def since(field: str) -> Filter:
    """A date-time field is at or after the value (e.g. `firstSeenAfter`)."""
    return _compared(field, _instant, _as_instant, low=True)


def until(field: str) -> Filter:
    """A date-time field is at or before the value (e.g. `lastSeenBefore`)."""
    return _compared(field, _instant, _as_instant, low=False)


def within_days(field: str) -> Filter:
    """A date-time field lies within the last N days of the sandbox clock (e.g. `lastLoginDays`)."""

    def matches(record: Record, days: int, now: float) -> bool:
        moment = _as_instant(value_at(record, field))
        return moment is not None and moment >= now - days * DAY

    def sample(record: Record) -> str | None:
        # seeded data is dated in the past: a generous window keeps any dated record
        return "36500" if _as_instant(value_at(record, field)) is not None else None

    return Filter(parse=_days, matches=matches, sample=sample)


def as_filter(declared: Filter | str) -> Filter:
    return equals(declared) if isinstance(declared, str) else declared


def narrow(
    records: Sequence[R], filters: Mapping[str, Filter], query: Mapping[str, str], now: float
) -> Sequence[R]:
    """The records every filter named in the query keeps; all values are checked before any is applied."""
    wanted = []
    for param, declared in filters.items():
        raw = query.get(param)
        if raw is None:
            continue
        try:
            wanted.append((declared, declared.parse(raw)))
        except ValueError as exc:
            raise invalid(param, f"{param} {exc}") from None
    if not wanted:
        return records
    return [record for record in records if all(f.matches(record, value, now) for f, value in wanted)]
