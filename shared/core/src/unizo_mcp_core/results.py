"""Tool results: compact structured content on success, one actionable paragraph on failure."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from mcp.types import CallToolResult, TextContent
from pydantic_core import to_json

from .errors import UnizoError
from .redaction import scrub_known
from .responses import split_envelope

__all__ = ["compact", "error_result", "error_text", "refusal_result", "split_envelope", "success_result"]

log = logging.getLogger("unizo_mcp.results")

INTERNAL_ERROR_TEXT = (
    "an unexpected internal error occurred in the MCP server; nothing about it is shown here. "
    "The server log (stderr) has the details; retry, and report the problem if it persists."
)


# The leaf types `json.loads` produces: returned as they are, without a call per value.
_SCALARS = frozenset({str, int, float, bool})


def compact(value: Any) -> Any:
    """Drop `None` values (recursively, in objects and lists).

    Called on every API answer (a 20-item page has ~1,300 values), so the concrete types that
    `json.loads` produces are tested first and scalars are not recursed into; other mappings and
    sequences take the general path.
    """
    kind = type(value)
    if kind is dict:
        return {
            k if type(k) is str else str(k): v if type(v) in _SCALARS else compact(v)
            for k, v in value.items()
            if v is not None
        }
    if kind is list:
        return [v if type(v) in _SCALARS else compact(v) for v in value if v is not None]
    if kind in _SCALARS:
        return value
    if isinstance(value, Mapping):
        return {str(k): compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [compact(v) for v in value if v is not None]
    return value


def success_result(data: Any, pagination: Any = None, *, compacted: bool = False) -> CallToolResult:
    """`{data, pagination?}` as structured content, plus the same as compact JSON text. `compacted`:
    the caller already dropped the `None` values (a shaped list page), so they are not looked for again."""
    structured: dict[str, Any] = {"data": data if compacted else compact(data)}
    if pagination is not None:
        structured["pagination"] = pagination if compacted else compact(pagination)
    # Compact JSON (no spaces, UTF-8 text): the copy for clients without structured content support.
    # pydantic-core's serializer: the JSON `json.dumps(..., separators=(",", ":"), ensure_ascii=False)`
    # writes (an exponent may be spelt 1e-7 for 1e-07) at a third of the cost; it runs on every answer.
    # Values JSON has no form for are written as text: ISO 8601 dates, decimal digits, str() for the rest.
    text = to_json(structured, fallback=str).decode()
    shown = scrub_known(text)
    if shown != text:  # a secret the API echoed (a webhook secret): gone from both copies
        structured = json.loads(shown)
    return CallToolResult(content=[TextContent(type="text", text=shown)], structured_content=structured)


def refusal_result(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=scrub_known(text))], is_error=True)


def error_text(tool: str, exc: BaseException) -> str:
    """ "<tool> failed: <describe()>"; never the internals of an unexpected exception."""
    if isinstance(exc, UnizoError):
        return scrub_known(f"{tool} failed: {exc.describe()}")
    return f"{tool} failed: {INTERNAL_ERROR_TEXT}"


def error_result(tool: str, exc: BaseException) -> CallToolResult:
    """The MCP tool error (`isError`) for `exc`; unexpected exceptions are logged with their traceback."""
    if not isinstance(exc, UnizoError):
        log.error("%s raised an unexpected %s", tool, type(exc).__name__, exc_info=exc)
    else:
        log.info("%s failed: %s", tool, exc.describe())
    return refusal_result(error_text(tool, exc))
