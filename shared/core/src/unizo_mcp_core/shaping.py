"""What a list answers: each record's summary fields and the paging facts the model needs.

A list answers "which ones, and which do I look at next"; a get tool gives the whole record. Each list
tool declares its records' `Fields`: the summary (dotted paths reach into nested objects and keep their
dotted name: `"platform.name": "Windows"`, through lists too: `"assignees.username": [...]`; `name=path`
renames: `"updated=changeLog.lastUpdatedDateTime"`), and the other fields `fields=[...]` may add, or
`["*"]` for whole records. Empty values (null, "", [], {}) are dropped; the paging facts are
`returned`, `total` and `next_offset`. Pure: no I/O, standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .spec import Fields

__all__ = ["ALL", "field_problems", "paging_facts", "shape_list", "top_level_keys", "value_at"]

ALL = "*"
_EMPTY: tuple[Any, ...] = (None, "", [], {})
_CONTAINERS = (dict, list)


def field_problems(fields: Fields, wanted: Sequence[str] | None) -> list[str]:
    """Argument problems of a `fields` value: unknown names, listing the valid ones."""
    if not wanted:
        return []
    valid = fields.names
    unknown = [name for name in wanted if name != ALL and name not in valid]
    if not unknown:
        return []
    shown = ", ".join(repr(name) for name in unknown)
    return [f'fields: unknown field {shown} (valid: {", ".join(valid)}, or "*" for whole records)']


def _prune(value: Any) -> Any:
    """`value` without empty members, recursively (an empty result is dropped by the caller)."""
    kind = type(value)
    if kind is dict:
        kept = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in _EMPTY}
    if kind is list:
        kept_items = [_prune(v) for v in value]
        return [v for v in kept_items if v not in _EMPTY]
    return value


def value_at(record: Any, path: str) -> Any:
    """The value at a dotted path; through a list, the values of each item ("assignees.username")."""
    return _value_at(record, tuple(path.split(".")))


def _value_at(record: Any, parts: tuple[str, ...]) -> Any:
    value: Any = record
    for index, part in enumerate(parts):
        if type(value) is dict:  # what json.loads gives: tested first, it is nearly every step
            value = value.get(part)
        elif isinstance(value, list):
            rest = parts[index:]
            return [found for item in value if (found := _value_at(item, rest)) is not None]
        elif isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value


_Plan = list[tuple[str, str, tuple[str, ...] | None]]


def _plan(paths: Sequence[str]) -> _Plan:
    """(shown name, path, its parts when it is dotted, else None) per entry, parsed once per page
    rather than once per record."""
    plan: _Plan = []
    for entry in paths:
        name, _, path = entry.partition("=") if "=" in entry else (entry, "", entry)
        parts = tuple(path.split("."))
        plan.append((name, path, parts if len(parts) > 1 else None))
    return plan


def _project(record: Any, plan: _Plan) -> Any:
    if not isinstance(record, Mapping):
        return record
    out: dict[str, Any] = {}
    get = record.get
    # runs for every field of every record of every page: a top-level field (most of a summary) is one
    # lookup and strings (most values) are tested first; empty values are dropped, 0 and false kept
    for name, key, parts in plan:
        value = get(key) if parts is None else _value_at(record, parts)
        if value is None:
            continue
        kind = type(value)
        if kind is str:
            if value:
                out[name] = value
        elif kind in _CONTAINERS:
            value = _prune(value)
            if value:
                out[name] = value
        else:
            out[name] = value
    return out


def _shown_plan(fields: Fields, wanted: Sequence[str] | None) -> _Plan:
    """The plan of a list showing the summary plus the `wanted` top-level fields."""
    paths = list(fields.summary)
    for name in wanted or ():
        if name not in paths:
            paths.append(name)
    return _plan(paths)


def shape_list(records: Sequence[Any], fields: Fields, wanted: Sequence[str] | None = None) -> list[Any]:
    """Each record as the list shows it: its summary, plus the `wanted` top-level fields; whole records
    (empty values dropped) when `wanted` holds "*". Nothing in the result is `None`."""
    if wanted and ALL in wanted:
        return [_prune(record) for record in records if record is not None]
    plan = _shown_plan(fields, wanted)
    return [_project(record, plan) for record in records if record is not None]


def top_level_keys(fields: Fields, wanted: Sequence[str] | None) -> frozenset[str]:
    """The records' top-level fields that `shape_list` reads for `fields` plus `wanted` (not "*")."""
    return frozenset(key if parts is None else parts[0] for _, key, parts in _shown_plan(fields, wanted))


def paging_facts(pagination: Any, returned: int) -> dict[str, Any]:
    """`returned`, and from the API's pagination `total` and `next_offset` (absent at the end)."""
    facts: dict[str, Any] = {"returned": returned}
    if isinstance(pagination, Mapping):
        total, following = pagination.get("total"), pagination.get("next")
        if isinstance(total, int):
            facts["total"] = total
        if isinstance(following, int):
            facts["next_offset"] = following
    return facts
