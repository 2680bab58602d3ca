"""Run one declared HTTP tool against the API: the request(s) it needs and the answer's data.

Most tools are one request (`invoke.build_call`). A tool declared `read_before_write` (an update the API
takes as a whole record) first reads the record on the same path and sends its current value of every
body field with the arguments merged in, so fields the caller did not mention are kept, not blanked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .invoke import build_call
from .responses import split_envelope

if TYPE_CHECKING:
    from .client import UnizoClient
    from .spec import ToolSpec

__all__ = ["run_http_tool"]


async def run_http_tool(
    client: UnizoClient, tool: ToolSpec, args: Mapping[str, Any], integration_id: str
) -> tuple[Any, Any]:
    """(data, pagination) of `tool` called with validated `args` on `integration_id`."""
    call = build_call(tool, args)
    if tool.read_before_write and call.json is not None:
        current = await client.request("GET", call.path, integration_id=integration_id)
        record, _ = split_envelope(current.data)
        fields = {p.wire_name for p in tool.params if p.location == "body"}
        kept = {k: v for k, v in record.items() if k in fields} if isinstance(record, Mapping) else {}
        call = attrs.evolve(call, json={**kept, **call.json})
    response = await client.request(
        call.method,
        call.path,
        integration_id=integration_id,
        params=call.params,
        json=call.json,
        multipart=call.multipart,
    )
    return split_envelope(response.data)
