"""Run one declared HTTP tool against the API: the request(s) it needs and the answer's data.

Most tools are one request (`invoke.build_call`). A tool declared `read_before_write` (an update the API
takes as a whole record) first reads the record on the same path and sends its current value of every
body field with the arguments merged in, so fields the caller did not mention are kept, not blanked.
A tool declared with an `Aggregate` pages through its source list (bounded, each page a request through
the rate limiter) and answers counts, figures and top records (`run_aggregate`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .invoke import build_call
from .pages import page_decoder
from .responses import split_envelope
from .shaping import shape_list, value_at

if TYPE_CHECKING:
    from .client import UnizoClient
    from .spec import Aggregate, ServiceSpec, ToolSpec

__all__ = ["run_aggregate", "run_http_tool"]

PAGE = 100


def _merged(current: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """`given` over `current`, nested objects merged field by field (`priority.type` keeps `priority.id`)."""
    out = dict(current)
    for key, value in given.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


async def run_http_tool(
    client: UnizoClient, tool: ToolSpec, args: Mapping[str, Any], integration_id: str | None
) -> tuple[Any, Any]:
    """(data, pagination) of `tool` called with validated `args` on `integration_id`; a list tool's
    page decoded only as far as its records' shown fields (`pages`)."""
    call = build_call(tool, args)
    decode = page_decoder(tool.fields, args.get("fields")) if tool.fields is not None else None
    if tool.read_before_write and call.json is not None:
        current = await client.request("GET", call.path, integration_id=integration_id)
        record, _ = split_envelope(current.data)
        fields = {p.wire_name.split(".")[0] for p in tool.params if p.location == "body"}
        kept = {k: v for k, v in record.items() if k in fields} if isinstance(record, Mapping) else {}
        call = attrs.evolve(call, json=_merged(kept, call.json))
    response = await client.request(
        call.method,
        call.path,
        integration_id=integration_id,
        params=call.params,
        json=call.json,
        multipart=call.multipart,
        decode=decode,
    )
    return split_envelope(response.data)


# --- aggregates ------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _keeps(record: Mapping[str, Any], plan: Aggregate, args: Mapping[str, Any]) -> bool:
    for param, field in plan.match:
        wanted = args.get(param)
        if wanted in (None, [], ""):
            continue
        values = wanted if isinstance(wanted, list) else [wanted]
        if str(value_at(record, field)).casefold() not in {str(v).casefold() for v in values}:
            return False
    for param, field in plan.at_least:
        floor, value = _number(args.get(param)), _number(value_at(record, field))
        if floor is not None and (value is None or value < floor):
            return False
    for bounds, after in ((plan.since, True), (plan.until, False)):
        for param, field in bounds:
            limit, value = args.get(param), value_at(record, field)
            if not limit:
                continue
            if not isinstance(value, str) or (
                value[: len(limit)] < limit if after else value[: len(limit)] > limit
            ):
                return False
    return True


def aggregate(
    records: Sequence[Mapping[str, Any]],
    plan: Aggregate,
    args: Mapping[str, Any],
    source: ToolSpec,
    total: int | None,
) -> dict[str, Any]:
    """The answer of an aggregate tool from the records read (pure)."""
    kept = [r for r in records if isinstance(r, Mapping) and _keeps(r, plan, args)]
    answer: dict[str, Any] = {"records_read": len(records), "matching": len(kept)}
    if total is not None:
        answer["total"] = total
        answer["complete"] = len(records) >= total
    counted = plan.count_by
    group = args.get(plan.group_by) if plan.group_by else None
    if group:
        counted = tuple(f for f in counted if f == group)
    for field in counted:
        counts = Counter(str(value_at(r, field)) for r in kept if value_at(r, field) is not None)
        answer[f"by_{field.replace('.', '_')}"] = dict(counts.most_common())
    for field in plan.stats:
        numbers = [n for n in (_number(value_at(r, field)) for r in kept) if n is not None]
        if numbers:
            answer[field.replace(".", "_")] = {
                "min": min(numbers),
                "max": max(numbers),
                "mean": round(sum(numbers) / len(numbers), 2),
            }
    top = plan.top
    if top is not None:
        count = int(args.get(plan.top_n) or 10) if plan.top_n else 10
        ranked = sorted(
            (r for r in kept if _number(value_at(r, top)) is not None),
            key=lambda r: _number(value_at(r, top)) or 0.0,
            reverse=True,
        )[: max(count, 0)]
        answer["top"] = shape_list(ranked, source.fields) if source.fields is not None else ranked
    return answer


async def run_aggregate(
    client: UnizoClient,
    service: ServiceSpec,
    tool: ToolSpec,
    args: Mapping[str, Any],
    integration_id: str | None,
) -> dict[str, Any]:
    """Page through the source list (at most `max_records`), then aggregate."""
    plan = tool.aggregate
    assert plan is not None
    source = next(t for t in service.tools if t.name == plan.source)
    own = plan.filter_params()
    passed = {k: v for k, v in args.items() if k not in own and any(p.name == k for p in source.params)}
    records: list[Any] = []
    total: int | None = None
    offset = 0
    while len(records) < plan.max_records:
        limit = min(PAGE, plan.max_records - len(records))
        call = build_call(source, {**passed, "offset": offset, "limit": limit})
        response = await client.request("GET", call.path, integration_id=integration_id, params=call.params)
        page, pagination = split_envelope(response.data)
        page = page if isinstance(page, list) else []
        records += page
        following = pagination.get("next") if isinstance(pagination, Mapping) else None
        if isinstance(pagination, Mapping) and isinstance(pagination.get("total"), int):
            total = pagination["total"]
        if not page or not isinstance(following, int) or following <= offset:
            break
        offset = following
    return aggregate(records, plan, args, source, total)
