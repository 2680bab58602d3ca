"""Wrong types, missing required arguments, out-of-range values: schema errors (isError), never a crash.

For every tool of every service (from the ServiceSpecs): each bad call must come back as a tool error
that names the offending argument, must not reach the API, and must leave the server serving.
"""

from __future__ import annotations

from typing import Any

import pytest
from servicekit import is_get
from unizo_mcp_core.schema import argument_validator, input_schema, takes_numeric_id
from unizo_mcp_core.spec import Param, ServiceSpec, ToolSpec

from .calls import declared_value, plain_args
from .conftest import InProcess
from .support import ALL_IN_ONE, SERVICES, all_tools, integrations_of, text_of, top_list

TOOLS = {tool.name: (spec, tool) for spec, tool in all_tools(ALL_IN_ONE)}
WRONG_TYPES: dict[str, list[Any]] = {
    "string": [123, 1.5, True, ["a"], {"a": 1}],
    "integer": ["20", 1.5, 1e308, True, [1], {"n": 1}],  # 1e308 once passed as an integer
    "number": ["1", True, [1]],
    "boolean": ["true", 1, [True]],
    "array": ["a", 1, {"a": 1}],
    "object": ["a", 1, ["a"]],
}


def valid_args(spec: ServiceSpec, tool: ToolSpec, integrations: dict[str, str]) -> dict[str, Any]:
    args = plain_args(spec, tool, integration=integrations.get(spec.name))
    problems = argument_validator(input_schema(tool))(args)
    assert not problems, f"the valid arguments of {tool.name} are not valid: {problems}"
    return args


def bad_calls(tool: ToolSpec, args: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    """(what, arguments, the name the error must mention)."""
    calls: list[tuple[str, dict[str, Any], str]] = []
    for param in tool.params:
        if param.required and not param.resolvable:  # a resolvable id left out is looked up
            calls.append(
                (f"missing {param.name}", {k: v for k, v in args.items() if k != param.name}, param.name)
            )
        for wrong in WRONG_TYPES[param.type]:
            if type(wrong) is int and takes_numeric_id(param):
                continue  # an id sent as a number is accepted, as its decimal string
            calls.append((f"{param.name}={wrong!r}", {**args, param.name: wrong}, param.name))
        calls += range_calls(param, args)
        if param.enum:
            calls.append((f"{param.name} not in enum", {**args, param.name: "not-a-choice"}, param.name))
        if param.min_length and not param.resolvable:  # "" for a resolvable id means "look it up"
            calls.append((f"{param.name} empty", {**args, param.name: ""}, param.name))
        longest = param.max_length or getattr(param, "local_max_length", None)
        if longest:
            too_long = "x" * (longest + 1)
            calls.append((f"{param.name} too long", {**args, param.name: too_long}, param.name))
        if param.max_items:
            items = [declared_value(Param("x", param.items or "string", ""))] * (param.max_items + 1)
            calls.append((f"{param.name} too many items", {**args, param.name: items}, param.name))
    if tool.needs_integration:
        calls.append(("integration_id=True", {**args, "integration_id": True}, "integration_id"))
    calls.append(("unknown argument", {**args, "no_such_argument": "x"}, "no_such_argument"))
    return calls


def range_calls(param: Param, args: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    calls = []
    if param.type not in ("integer", "number"):
        return calls
    if param.minimum is not None:
        below = int(param.minimum) - 1
        calls.append((f"{param.name}={below}", {**args, param.name: below}, param.name))
    if param.maximum is not None:
        above = int(param.maximum) + 1
        calls.append((f"{param.name}={above}", {**args, param.name: above}, param.name))
        calls.append((f"{param.name}=huge", {**args, param.name: 10**30}, param.name))
    return calls


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("tool_name", list(TOOLS))
async def test_bad_arguments_are_schema_errors(tool_name: str, all_in_one: InProcess) -> None:
    spec, tool = TOOLS[tool_name]
    args = valid_args(spec, tool, all_in_one.integrations)
    all_in_one.mark()
    problems = []
    for what, bad, name in bad_calls(tool, args):
        result = await all_in_one.call(tool_name, bad)
        text = text_of(result)
        if not result.is_error:
            problems.append(f"{what}: accepted ({text[:200]})")
        elif name not in text or "internal error" in text.lower():
            problems.append(f"{what}: the error does not name {name}: {text[:300]}")
    assert not problems, "\n".join(problems)
    assert all_in_one.sent() == [], "a call with bad arguments reached the API"
    # and the server still serves
    alive = await all_in_one.call(spec.all_tools()[0].name, {})
    assert not alive.is_error, text_of(alive)


@pytest.mark.slow
def test_schema_errors_over_stdio(sandbox: Any, stdio_servers: Any) -> None:
    """On the wire (the all-in-one server: a list tool and a get tool of every service): bad arguments are
    isError results, not JSON-RPC errors, and the process stays up."""
    stdio = stdio_servers[ALL_IN_ONE]
    for spec in SERVICES:
        tool = top_list(spec).name
        found = integrations_of(sandbox, [spec])
        where = {"integration_id": found[spec.name]} if found else {}
        for bad in (
            {**where, "limit": 0},
            {**where, "limit": 101},
            {**where, "limit": "many"},
            {**where, "offset": -1},
            {**where, "sort": ["id"]},
            {**where, "surprise": True},
        ):
            result = stdio.call(tool, bad)
            assert result.is_error, bad
            assert next(iter(k for k in bad if k != "integration_id")) in text_of(result), text_of(result)
        for get in [t for t in spec.tools if is_get(t)][:1]:
            missing = stdio.call(get.name, where)
            assert missing.is_error and get.path_params()[0].name in text_of(missing), text_of(missing)
        ok = stdio.call(tool, {**where, "limit": 100})
        assert not ok.is_error, text_of(ok)
    assert all(r.status != 400 for r in sandbox.requests()), "a bad argument reached the API"
