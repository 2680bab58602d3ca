"""`x-unizo-raw: true` on a category GET: the answer carries the vendor's own payload too.

Unizo documents the header (its answer includes the raw upstream response) but not where or how. The
sandbox's choice, the same in both profiles: every record served gains a `raw` object, the vendor-native
view of that record, made by renaming the unified fields to snake_case (`createdDateTime` ->
`created_date_time`) at every depth. The unified fields themselves are unchanged.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from unizo_mcp_sandbox.errors import json_response

RAW_HEADER = "x-unizo-raw"
RAW_FIELD = "raw"
_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def wants_raw(request: web.Request) -> bool:
    """Only the documented value `true` (any case) asks for it."""
    return request.headers.get(RAW_HEADER, "").strip().lower() == "true"


def vendor_name(field: str) -> str:
    return _BOUNDARY.sub("_", field).lower()


def vendor_view(value: Any) -> Any:
    if isinstance(value, dict):
        return {vendor_name(str(name)): vendor_view(item) for name, item in value.items()}
    if isinstance(value, list):
        return [vendor_view(item) for item in value]
    return value


def with_raw(record: Any) -> Any:
    if not isinstance(record, dict):
        return record
    return {**record, RAW_FIELD: vendor_view(record)}


def add_raw(response: web.StreamResponse) -> web.StreamResponse:
    """A successful JSON answer with `raw` added to each record: those of a list's `data`, or the one
    record answered."""
    if not isinstance(response, web.Response) or response.status != 200 or response.body is None:
        return response
    if response.content_type != "application/json" or not isinstance(response.body, bytes):
        return response
    payload = json.loads(response.body)
    if isinstance(payload, dict) and isinstance(payload.get("data"), list) and "pagination" in payload:
        payload = {**payload, "data": [with_raw(record) for record in payload["data"]]}
    else:
        payload = with_raw(payload)
    raw = json_response(payload, status=response.status)
    for name, value in response.headers.items():
        if name.lower() not in ("content-type", "content-length"):
            raw.headers[name] = value
    return raw
