"""Small value conversions several modules need, each written once: header lookup, numbers from
headers, query-string values. Standard library only."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["header_value", "header_values", "non_negative", "query_value"]


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts and multidicts; surrounding space removed."""
    value = headers.get(name)
    if value is None:
        return header_values(headers, name)[0]
    return value.strip() if isinstance(value, str) else None


def header_values(headers: Mapping[str, str], *names: str) -> tuple[str | None, ...]:
    """Several headers at once, as `header_value` finds each: one pass over the headers, whatever their
    case (a lookup by name per header scans them all for every header that is absent)."""
    wanted = {name.lower(): index for index, name in enumerate(names)}
    found: list[str | None] = [None] * len(names)
    for key, value in headers.items():
        index = wanted.get(key.lower())
        if index is not None and found[index] is None and isinstance(value, str):
            found[index] = value.strip()
    return tuple(found)


def non_negative(raw: object) -> float | None:
    """A finite, non-negative number from a header or body value; None for anything else."""
    if raw is None or isinstance(raw, bool):
        return None
    try:
        value = float(raw) if isinstance(raw, int | float) else float(str(raw).strip())
    except (ValueError, OverflowError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


def query_value(value: Any) -> str:
    """How a tool argument is written in a query string: booleans as true/false, whole numbers as
    integers (never `1e+308`), lists comma-separated, objects as compact JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(query_value(v) for v in value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
