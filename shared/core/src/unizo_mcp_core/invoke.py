"""Tool arguments → one HTTP call: path, query, JSON or multipart body, integration id.

Pure (no network, no MCP SDK): snake_case tool arguments map to their wire names
(`Param.wire_name`, camelCase), `None` values are dropped, path values go through `paths`, and
base64 file arguments become a multipart upload for the client's `multipart=` argument.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import ToolInputError
from .paths import check_value, render_path
from .schema import tool_params
from .spec import INTEGRATION_ID, Param, ToolSpec

__all__ = ["PreparedCall", "build_call"]

MultipartValue = str | tuple[str, bytes, str]


@attrs.frozen
class PreparedCall:
    method: str
    path: str  # relative to /api/v1, percent-encoded
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    multipart: dict[str, MultipartValue] | None = None
    integration_id: str | None = None  # explicit argument only; resolution happens later


def _query_value(value: Any) -> str | int | float:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return value
    if isinstance(value, list | tuple):
        return ",".join(str(_query_value(v)) for v in value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _decode_file(param: Param, value: Any) -> bytes:
    if not isinstance(value, str):
        raise ToolInputError(f"Refused {param.name}: expected base64 text")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ToolInputError(
            f"Refused {param.name}: not valid base64 (encode the file content as base64)"
        ) from None


def build_call(tool: ToolSpec, arguments: Mapping[str, Any]) -> PreparedCall:
    """Map validated `arguments` onto the HTTP call `tool` declares."""
    by_name = {p.name: p for p in tool_params(tool)}
    path_values: dict[str, object] = {}
    query: dict[str, Any] = {}
    body: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    integration_id: str | None = None
    for param in by_name.values():
        value = arguments.get(param.name)
        if value is None and param.has_default and param.location == "query":
            value = param.default
        if value is None:
            continue
        if param.name == INTEGRATION_ID.name:
            integration_id = check_value(param.name, value, what="an integration id")
        elif param.location == "path":
            path_values[param.name] = value
        elif param.location == "query":
            query[param.wire_name] = _query_value(value)
        elif param.location == "file" or param.base64:
            files[param.wire_name] = _decode_file(param, value)
        elif param.location == "body":
            body[param.wire_name] = value
        else:  # header params other than integration_id are not part of the contract
            raise ToolInputError(
                f"{tool.name}: parameter {param.name} has an unsupported location {param.location}"
            )
    path = render_path(tool.path, path_values)
    multipart: dict[str, MultipartValue] | None = None
    json_body: dict[str, Any] | None = None
    if tool.body_format == "multipart" or files:
        multipart = {}
        file_name = _form_value(arguments.get("file_name") or "upload.bin")
        mime_type = _form_value(arguments.get("mime_type") or "application/octet-stream")
        for wire, content in files.items():
            multipart[wire] = (file_name, content, mime_type)
        for wire, value in body.items():
            multipart[wire] = _form_value(value)
    elif body or tool.method in ("POST", "PUT", "PATCH"):
        json_body = body
    return PreparedCall(
        method=tool.method,
        path=path,
        params=query or None,
        json=json_body,
        multipart=multipart,
        integration_id=integration_id,
    )
