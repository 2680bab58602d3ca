"""The compiled argument check (`schema.compile_check`) gives jsonschema's verdict on every tool's schema.

The servers accept arguments on the compiled check alone and import jsonschema only to describe invalid
ones, so a value the check accepted and jsonschema would refuse would reach the API unchecked. These tests
hold the two to the same verdict, for every tool of every installed service and of the test specs: on
values built from each schema's own bounds (each side of every limit, every wrong type) and on random JSON.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_mcp_schema_conformance import SCHEMAS
from unizo_mcp_core.schema import argument_validator, compile_check
from unizo_testkit import JSON_VALUES

WRONG_TYPES: list[Any] = [None, True, False, 0, -1, 1.0, 1.5, "", "x", [], ["x"], {}, {"x": 1}]


def _near(schema: Mapping[str, Any]) -> Iterator[Any]:
    """Values on and around each limit `schema` sets, and one of every JSON type."""
    yield from WRONG_TYPES
    for bound in ("minimum", "maximum"):
        if bound in schema:
            edge = schema[bound]
            yield from (edge, edge - 1, edge + 1, edge - 0.5, edge + 0.5, float(edge))
    for bound in ("minLength", "maxLength"):
        if bound in schema:
            edge = schema[bound]
            yield from ("a" * max(edge - 1, 0), "a" * edge, "a" * (edge + 1))
    for bound in ("minItems", "maxItems"):
        if bound in schema:
            edge = schema[bound]
            sample = next(iter(_valid(schema.get("items", {}))), "x")
            yield from ([sample] * max(edge - 1, 0), [sample] * edge, [sample] * (edge + 1))
    for choice in schema.get("enum", []):
        yield from (choice, choice.upper(), choice + " ")
    if "pattern" in schema:
        yield from ("abc", "ABC-123", "a b", "123", "x" * 40)
    if "items" in schema:
        for item in _near(schema["items"]):
            yield [item]
    if "properties" in schema:
        yield from _objects(schema)


def _valid(schema: Mapping[str, Any]) -> Iterator[Any]:
    """Candidate values that may satisfy `schema` (the verdict is jsonschema's, not assumed)."""
    if "enum" in schema:
        yield from schema["enum"]
    kind = schema.get("type")
    if kind == "integer":
        yield schema.get("minimum", 1)
    elif kind == "number":
        yield schema.get("minimum", 1.5)
    elif kind == "boolean":
        yield True
    elif kind == "array":
        yield []
    elif kind == "object":
        yield from _objects(schema)
    else:
        yield "a" * max(schema.get("minLength", 1), 1)


def _objects(schema: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The required properties filled, then each property set to each value near its limits, then an
    unknown property and each required one missing."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    base = {name: next(iter(_valid(properties.get(name, {}))), "x") for name in schema.get("required", [])}
    yield base
    for name, sub in properties.items():
        for value in _near_flat(sub):
            yield {**base, name: value}
    yield {**base, "unknown_argument": 1}
    for name in base:
        yield {k: v for k, v in base.items() if k != name}


def _near_flat(schema: Mapping[str, Any]) -> Iterator[Any]:
    """`_near` without recursing into objects again (an object's fields are varied one level down)."""
    yield from _near({k: v for k, v in schema.items() if k != "properties"})
    if schema.get("type") == "object" or "properties" in schema:
        yield from _valid(schema)


def _verdicts(schema: dict[str, Any], value: Any) -> tuple[bool, bool]:
    check = compile_check(schema)
    assert check is not None, "a generated schema uses a keyword compile_check does not compile"
    return check(value), jsonschema.Draft202012Validator(schema).is_valid(value)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_compiled_check_agrees_with_jsonschema_near_every_limit(name: str) -> None:
    schema = SCHEMAS[name]
    validator = jsonschema.Draft202012Validator(schema)
    check = compile_check(schema)
    assert check is not None, f"{name}: its schema uses a keyword compile_check does not compile"
    values = list(_objects(schema))
    disagreements = [v for v in values if check(v) != validator.is_valid(v)]
    assert not disagreements, f"{name}: compiled check and jsonschema disagree on {disagreements[:3]}"
    # and both verdicts occur: the values do probe the schema's limits
    assert any(validator.is_valid(v) for v in values) and not all(validator.is_valid(v) for v in values)


NAMES = sorted(SCHEMAS)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(NAMES), st.data())
def test_compiled_check_agrees_with_jsonschema_on_random_json(name: str, data: st.DataObject) -> None:
    schema = SCHEMAS[name]
    properties = sorted(schema["properties"])
    base = {n: next(iter(_valid(schema["properties"][n]))) for n in schema.get("required", [])}
    chosen = data.draw(st.sampled_from(properties)) if properties else "anything"
    value = {**base, chosen: data.draw(JSON_VALUES)}
    check, expected = _verdicts(schema, value)
    assert check == expected, f"{name}: {value!r}: compiled {check}, jsonschema {expected}"


def test_a_schema_with_other_keywords_falls_back_to_jsonschema() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "multipleOf": 5}}}
    assert compile_check(schema) is None
    assert argument_validator(schema)({"n": 7}) == ["n: 7 is not a multiple of 5"]
    assert argument_validator(schema)({"n": 10}) == []


def test_valid_arguments_do_not_import_jsonschema() -> None:
    """Run in a fresh interpreter: this one has jsonschema loaded already."""
    import subprocess

    code = (
        "import sys\n"
        "from unizo_mcp_core.registry import discover_services\n"
        "from unizo_mcp_core.schema import argument_validator, input_schema\n"
        "tools = [t for s in discover_services().values() for t in s.tools]\n"
        "schema = next(input_schema(t) for t in tools if not input_schema(t).get('required'))\n"
        "check = argument_validator(schema)\n"
        "print(check({}), 'jsonschema' in sys.modules)\n"
        "print(len(check({'no_such_argument': 1})), 'jsonschema' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "False", "1", "True"]
