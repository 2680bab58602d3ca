"""List endpoints: `offset`/`limit`/`sort` parsing, sorting, and the `{pagination, data}` envelope."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from unizo_mcp_sandbox.errors import invalid

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@attrs.frozen
class SortKey:
    path: tuple[str, ...]
    descending: bool


@attrs.frozen
class ListQuery:
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    sort: tuple[SortKey, ...] = ()


def _integer(raw: str | None, name: str, default: int, low: int, high: int | None) -> int:
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise invalid(name, f"{name} must be an integer") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid(name, f"{name} must be {bounds}")
    return value


def parse_sort(raw: str | None, sortable: frozenset[str]) -> tuple[SortKey, ...]:
    if raw is None or not raw.strip():
        return ()
    keys = []
    for item in raw.split(","):
        field = item.strip()
        descending = field.startswith("-")
        field = field.removeprefix("-").removeprefix("+")
        if field not in sortable:
            allowed = ", ".join(sorted(sortable))
            raise invalid("sort", f"cannot sort by '{field}'; sortable fields are {allowed}")
        keys.append(SortKey(tuple(field.split(".")), descending))
    return tuple(keys)


def parse_list_query(
    query: Mapping[str, str], sortable: frozenset[str], *, max_limit: int = MAX_LIMIT
) -> ListQuery:
    return ListQuery(
        offset=_integer(query.get("offset"), "offset", 0, 0, None),
        limit=_integer(query.get("limit"), "limit", DEFAULT_LIMIT, 1, max_limit),
        sort=parse_sort(query.get("sort"), sortable),
    )


def _value_at(record: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = record
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _sort_key(path: tuple[str, ...], descending: bool) -> Callable[[Mapping[str, Any]], tuple[bool, Any]]:
    # Missing values go last in both directions: (False, v) < (True, None) ascending, reversed descending.
    if descending:
        return lambda record: (
            (value := _value_at(record, path)) is not None,
            value if value is not None else 0,
        )
    return lambda record: ((value := _value_at(record, path)) is None, value if value is not None else 0)


def sort_records(
    records: Sequence[Mapping[str, Any]], sort: tuple[SortKey, ...]
) -> Sequence[Mapping[str, Any]]:
    if not sort:
        return records
    ordered = list(records)
    for key in reversed(sort):  # stable sorts, least significant key first
        ordered.sort(key=_sort_key(key.path, key.descending), reverse=key.descending)
    return ordered


def pagination(total: int, offset: int, limit: int) -> dict[str, int | None]:
    return {
        "total": total,
        "offset": offset,
        "limit": limit,
        "previous": max(0, offset - limit) if offset > 0 else None,
        "next": offset + limit if offset + limit < total else None,
    }


def page(records: Sequence[Mapping[str, Any]], query: ListQuery) -> dict[str, Any]:
    ordered = sort_records(records, query.sort)
    return {
        "pagination": pagination(len(ordered), query.offset, query.limit),
        "data": list(ordered[query.offset : query.offset + query.limit]),
    }
