"""`ToolSpec` → JSON Schema for the MCP `inputSchema`, and validation of call arguments against it.

Schemas are built from the spec alone (never inferred from a Python signature), are deterministic
(properties in declaration order), and kept short: every tool definition costs context on every turn.
Valid arguments are recognised by a check compiled from the schema (`compile_check`: the few keywords
`input_schema` writes); `jsonschema` (it comes with the MCP SDK) is imported only to describe what is wrong
with invalid ones, so a server that is only called correctly never loads it.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from .spec import FIELDS, INTEGRATION_ID, Param, ToolSpec

__all__ = [
    "accept_lenient",
    "argument_validator",
    "compile_check",
    "input_schema",
    "object_schema",
    "param_schema",
    "tool_params",
]

_MAX_SHOWN = 60  # characters of a rejected value quoted back in an error message


def tool_params(tool: ToolSpec) -> tuple[Param, ...]:
    """The arguments a tool takes: its declared params (not those the core fills), plus `integration_id`
    for data tools."""
    params = tool.arguments()
    if tool.fields is not None:
        params = (*params, FIELDS)
    if tool.needs_integration and not any(p.name == INTEGRATION_ID.name for p in params):
        return (*params, INTEGRATION_ID)
    return params


def _number(value: float, integer: bool) -> int | float:
    return int(value) if integer and float(value).is_integer() else value


def param_schema(param: Param) -> dict[str, Any]:
    """The JSON Schema of one argument."""
    schema: dict[str, Any] = {"type": param.type}
    if param.description:
        schema["description"] = param.description
    if param.enum is not None:
        schema["enum"] = list(param.enum)
    integer = param.type == "integer"
    if param.minimum is not None:
        schema["minimum"] = _number(param.minimum, integer)
    if param.maximum is not None:
        schema["maximum"] = _number(param.maximum, integer)
    if param.min_length is not None:
        schema["minLength"] = param.min_length
    if param.max_length is not None:
        schema["maxLength"] = param.max_length
    if param.pattern is not None:
        schema["pattern"] = param.pattern
    if param.type == "array":
        if param.item_params is not None:
            schema["items"] = object_schema(param.item_params)
        elif param.items is not None:
            schema["items"] = {"type": param.items}
        if param.min_items is not None:
            schema["minItems"] = param.min_items
        if param.max_items is not None:
            schema["maxItems"] = param.max_items
    if param.has_default and param.default is not None:
        schema["default"] = param.default
    return schema


def object_schema(params: tuple[Param, ...]) -> dict[str, Any]:
    """An object with `params` as properties, their `required`, and no extra properties."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {p.name: param_schema(p) for p in params},
    }
    required = [p.name for p in params if p.required and not p.resolvable]
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


def input_schema(tool: ToolSpec) -> dict[str, Any]:
    """The tool's `inputSchema`: an object with every argument, `required`, no extra properties.

    `integration_id` is never required in the schema: the core resolves it from the environment or
    the single visible integration, and a failed resolution is a tool error listing the choices.
    """
    return object_schema(tool_params(tool))


# --- what models send ----------------------------------------------------------------------------


def takes_numeric_id(param: Param) -> bool:
    """A string id a model may send as a number (sent as its decimal string)."""
    return param.type == "string" and (param.location in ("path", "header") or param.name.endswith("_id"))


def _lenient_value(param: Param, value: Any) -> Any:
    if takes_numeric_id(param) and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # models send ids as numbers (collection_id: 67780)
    if param.enum is not None and isinstance(value, str) and value not in param.enum:
        folded = {choice.casefold(): choice for choice in param.enum}
        return folded.get(value.casefold(), value)  # "Task" for "task": sent in the declared case
    if param.item_params is not None and isinstance(value, list):
        return [accept_lenient(param.item_params, item) if isinstance(item, dict) else item for item in value]
    return value


def accept_lenient(params: tuple[Param, ...], arguments: dict[str, Any]) -> dict[str, Any]:
    """The two liberties models take that are safe to accept: an integer where a string id is declared
    (sent as its decimal string) and an enum value in another case (sent in the declared case).
    Everything else stays strict: validation follows."""
    by_name = {p.name: p for p in params}
    return {
        name: _lenient_value(by_name[name], value) if name in by_name else value
        for name, value in arguments.items()
    }


# --- validation --------------------------------------------------------------------------------


def _json_kind(value: Any) -> str:
    """The JSON Schema name of a value's type: null, boolean, integer, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _shown(value: Any) -> str:
    """The value as JSON (what the caller sent), cut to a few dozen characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


# One short sentence per keyword; `where` names the argument (or field of an array item).
_MESSAGES = {
    "type": "{where}: expected {limit}, got {kind}{shown}",
    "enum": "{where}: {shown} is not one of {choices}",
    "minimum": "{where}: {shown} is below the minimum {limit}",
    "maximum": "{where}: {shown} is above the maximum {limit}",
    "minLength": "{where}: must be at least {limit} character(s) long",
    "maxLength": "{where}: must be at most {limit} characters long",
    "pattern": "{where}: does not match the pattern {limit}",
    "minItems": "{where}: needs at least {limit} item(s)",
    "maxItems": "{where}: accepts at most {limit} items",
}


def _describe_error(error: Any, schema: Mapping[str, Any]) -> str:
    """One short clause per schema violation, naming the argument; never echoes long values."""
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    path = path.removeprefix(".")  # tickets[0].type, as invoke and the API name it
    where = path or "arguments"
    keyword = error.validator
    limit = error.validator_value
    value = error.instance
    # inside an array item (tickets[0]) the message names the item and its own fields
    inside = f"{path}: " if path else ""
    what = "field" if path else "argument"
    if keyword == "additionalProperties":
        own = error.schema if isinstance(error.schema, Mapping) else schema
        allowed = sorted(own.get("properties", {}))
        extra = sorted(set(value) - set(allowed)) if isinstance(value, Mapping) else []
        names = ", ".join(repr(n) for n in extra) or "?"
        return f"{inside}unknown {what} {names} (accepted: {', '.join(allowed) or 'none'})"
    if keyword == "required":
        missing = [n for n in limit if isinstance(value, Mapping) and n not in value]
        return f"{inside}missing required {what} {', '.join(repr(n) for n in missing)}"
    template = _MESSAGES.get(keyword)
    if template is not None:
        choices = ", ".join(map(str, limit)) if keyword == "enum" else ""
        kind = _json_kind(value)
        shown = _shown(value)
        if keyword == "type":  # "got null", "got string \"ten\"": the value only when it says more
            shown = "" if kind == "null" else f" {shown}"
        return template.format(where=where, limit=limit, shown=shown, kind=kind, choices=choices)
    message = str(error.message)
    if len(message) > 200:
        message = message[:197] + "..."
    return f"{where}: {message}"


class Unsupported(ValueError):
    """A schema `compile_check` does not compile (a keyword `input_schema` never writes)."""


Predicate = Callable[[Any], bool]

# Keywords that only annotate: they never make a value invalid.
_ANNOTATIONS = frozenset({"description", "default", "title"})


def _type_test(kind: str) -> Predicate:
    """Draft 2020-12's type test, as jsonschema applies it to what `json.loads` produces."""
    if kind == "string":
        return lambda v: isinstance(v, str)
    if kind == "integer":  # 1.0 is an integer; True is not
        return lambda v: (
            (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
        )
    if kind == "number":
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool)
    if kind == "boolean":
        return lambda v: isinstance(v, bool)
    if kind == "array":
        return lambda v: isinstance(v, list)
    if kind == "object":
        return lambda v: isinstance(v, dict)
    raise Unsupported(f"type {kind!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounded(applies: Predicate, within: Callable[[Any, Any], bool], limit: Any, value: Any) -> bool:
    return not applies(value) or within(value, limit)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _at_least(count: Any, limit: int) -> bool:
    return len(count) >= limit


def _at_most(count: Any, limit: int) -> bool:
    return len(count) <= limit


# keyword -> (the values it applies to, whether such a value is within the keyword's limit)
_BOUNDS: dict[str, tuple[Predicate, Callable[[Any, Any], bool]]] = {
    "minimum": (_is_number, operator.ge),
    "maximum": (_is_number, operator.le),
    "minLength": (_is_text, _at_least),
    "maxLength": (_is_text, _at_most),
    "minItems": (_is_list, _at_least),
    "maxItems": (_is_list, _at_most),
}


def _compile(schema: Mapping[str, Any]) -> Predicate:
    """A predicate true exactly when jsonschema finds no error for `schema` (of the keywords we write)."""
    tests: list[Predicate] = []
    unknown = set(schema) - _ANNOTATIONS - {
        "type", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern",
        "items", "minItems", "maxItems", "properties", "required", "additionalProperties",
    }  # fmt: skip
    if unknown:
        raise Unsupported(", ".join(sorted(unknown)))
    if "type" in schema:
        if not isinstance(schema["type"], str):
            raise Unsupported("a list of types")
        tests.append(_type_test(schema["type"]))
    if "enum" in schema:
        choices = schema["enum"]
        if not all(isinstance(c, str) for c in choices):
            raise Unsupported("an enum of non-strings")  # JSON equality of 1, 1.0 and true: jsonschema's
        allowed = frozenset(choices)
        tests.append(lambda v: isinstance(v, str) and v in allowed)
    for keyword, (applies, within) in _BOUNDS.items():
        if keyword in schema:
            tests.append(functools.partial(_bounded, applies, within, schema[keyword]))
    if "pattern" in schema:
        search = re.compile(schema["pattern"]).search
        tests.append(lambda v: not isinstance(v, str) or search(v) is not None)
    if "items" in schema:
        item = _compile(schema["items"])
        tests.append(lambda v: not isinstance(v, list) or all(item(i) for i in v))
    properties = {name: _compile(sub) for name, sub in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    closed = schema.get("additionalProperties", True)
    if not isinstance(closed, bool):
        raise Unsupported("additionalProperties as a schema")
    if properties or required or not closed:

        def fits(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, value in v.items():
                test = properties.get(name)
                if test is None:
                    if not closed:
                        return False
                elif not test(value):
                    return False
            return all(name in v for name in required)

        tests.append(fits)
    return lambda v: all(test(v) for test in tests)


def compile_check(schema: Mapping[str, Any]) -> Predicate | None:
    """A fast predicate: true exactly when `schema` accepts the value, or None when the schema uses a
    keyword it does not compile (the generated ones never do; tests/mcp hold it to jsonschema's verdict)."""
    try:
        return _compile(schema)
    except (Unsupported, re.error):
        return None


def argument_validator(schema: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], list[str]]:
    """A checker for `schema`: arguments → every violation as a short sentence (empty when valid).

    Valid arguments are recognised by `compile_check`'s predicate. Only invalid ones are handed to
    `jsonschema`, imported then, for the sentences: a server called correctly never imports it (about
    2 MiB and 20 µs a call). The generated schemas themselves are checked against the metaschema once,
    in tests/mcp.
    """
    frozen = dict(schema)
    accepts: list[Predicate | None] = []  # compiled on the first call: most tools are never called
    compiled: list[Any] = []

    def check(arguments: Mapping[str, Any]) -> list[str]:
        given = dict(arguments)
        if not accepts:
            accepts.append(compile_check(frozen))
        if accepts[0] is not None and accepts[0](given):
            return []
        if not compiled:
            import jsonschema

            compiled.append(jsonschema.Draft202012Validator(frozen))
        errors = sorted(
            compiled[0].iter_errors(given),
            key=lambda e: (list(map(str, e.absolute_path)), e.validator),
        )
        # jsonschema reports one `required` error per missing property, each naming the whole list:
        # describe each distinct clause once
        return list(dict.fromkeys(_describe_error(e, frozen) for e in errors))

    return check
