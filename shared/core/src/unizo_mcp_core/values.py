"""Small value conversions several modules need, each written once: header lookup, numbers from
headers, query-string values. Standard library only."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["header_value", "non_negative", "query_value"]


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts and multidicts; surrounding space removed."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((item for key, item in headers.items() if key.lower() == lowered), None)
    return value.strip() if isinstance(value, str) else None


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
