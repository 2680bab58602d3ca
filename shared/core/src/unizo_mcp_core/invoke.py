"""Tool arguments → one HTTP call: path, query, JSON or multipart body, integration id.

Pure (no network, no MCP SDK): snake_case tool arguments map to their wire names
(`Param.wire_name`, camelCase; a dotted `wire` nests: `priority.type`), also inside the items of arrays
of objects (`Param.item_params`);
`None` values are dropped and declared defaults filled (query and body alike, so the request matches
the schema the model saw); path values go through `paths`; `local_max_length` guards are checked;
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
from .keys import remember_secret
from .paths import check_value, render_path
from .schema import tool_params
from .spec import INTEGRATION_ID, Param, ToolSpec
from .values import query_value

__all__ = ["PreparedCall", "build_call"]

MultipartValue = str | tuple[str, bytes, str]


@attrs.frozen
class PreparedCall:
    method: str
    path: str  # relative to /api/v1, percent-encoded
    params: dict[str, Any] | None = None
    json: Any = None  # an object, or the whole-body value of an `as_body` param
    multipart: dict[str, MultipartValue] | None = None
    integration_id: str | None = None  # explicit argument only; resolution happens later


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


# A path or query value goes into the request line, which servers and gateways cap (8 KiB is common):
# longer values are refused here, naming the argument, rather than answered by a bare 400 or 414.
MAX_URL_VALUE = 2048


def _check_length(param: Param, value: Any, where: str) -> None:
    limit = param.local_max_length
    if limit is None and param.location in ("path", "query") and param.max_length is None:
        limit = MAX_URL_VALUE
    if limit is not None and isinstance(value, str) and len(value) > limit:
        raise ToolInputError(f"Refused {where}: at most {limit} characters")


def _with_default(param: Param, value: Any) -> Any:
    return param.default if value is None and param.has_default else value


def _wire_items(param: Param, value: Any) -> Any:
    """An array of objects with snake_case fields → the same array with wire names (defaults filled)."""
    fields = param.item_params
    if fields is None or not isinstance(value, list | tuple):
        return value
    by_name = {f.name: f for f in fields}
    items: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"{param.name}[{index}]"
        if not isinstance(item, Mapping):
            raise ToolInputError(f"Refused {where}: expected an object")
        unknown = sorted(set(map(str, item)) - set(by_name))
        if unknown:
            raise ToolInputError(
                f"Refused {where}: unknown field {', '.join(map(repr, unknown))} "
                f"(accepted: {', '.join(by_name)})"
            )
        wired: dict[str, Any] = {}
        for field in fields:
            field_value = _with_default(field, item.get(field.name))
            if field_value is None:
                continue
            _check_length(field, field_value, f"{where}.{field.name}")
            wired[field.wire_name] = _wire_items(field, field_value)
        items.append(wired)
    return items


def _put(body: dict[str, Any], wire: str, value: Any) -> None:
    """Set a body field; a dotted wire name nests (`priority.type` → {"priority": {"type": ...}})."""
    *parents, leaf = wire.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[leaf] = value


def build_call(tool: ToolSpec, arguments: Mapping[str, Any]) -> PreparedCall:
    """Map validated `arguments` onto the HTTP call `tool` declares."""
    by_name = {p.name: p for p in tool_params(tool)}
    path_values: dict[str, object] = {}
    query: dict[str, Any] = {}
    body: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    integration_id: str | None = None
    whole_body: Any = None
    for param in by_name.values():
        value = arguments.get(param.name)
        if param.location in ("query", "body"):  # path params have no default; file data never
            value = _with_default(param, value)
        if value is None:
            continue
        _check_length(param, value, param.name)
        if param.secret and isinstance(value, str):
            remember_secret(value)  # never to be shown again, by any log, error or echoed result
        if param.location == "local":  # used by the core, never sent
            continue
        if param.name == INTEGRATION_ID.name:
            integration_id = check_value(param.name, value, what="an integration id")
        elif param.location == "path":
            path_values[param.name] = value
        elif param.location == "query":
            query[param.wire_name] = query_value(value)
        elif param.location == "file" or param.base64:
            files[param.wire_name] = _decode_file(param, value)
        elif param.as_body:
            whole_body = _wire_items(param, value)
        elif param.location == "body":
            _put(body, param.wire_name, _wire_items(param, value))
        else:  # header params other than integration_id are not part of the contract
            raise ToolInputError(
                f"{tool.name}: parameter {param.name} has an unsupported location {param.location}"
            )
    for param in tool.params:  # fields the core fills: the byte size of an uploaded file
        if param.size_of is not None and param.size_of in by_name:
            source = by_name[param.size_of]
            if source.wire_name in files:
                body[param.wire_name] = len(files[source.wire_name])
    path = render_path(tool.path, path_values, slash_ok={p.name for p in tool.path_params() if p.slash_ok})
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
    elif whole_body is not None:
        json_body = whole_body
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
