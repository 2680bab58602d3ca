"""ToolSpec → JSON Schema, and argument validation against it."""

from __future__ import annotations

import json

import pytest
from mcp_specs import CREATE_TICKET, EDR, TICKETING
from unizo_mcp_core.schema import input_schema, tool_params, validate_arguments
from unizo_mcp_core.spec import INTEGRATION_ID

LIST_DEVICES = EDR.tools[0]
GET_DEVICE = EDR.tools[1]


def test_list_tool_schema_pages_with_bounds() -> None:
    schema = input_schema(LIST_DEVICES)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["offset"] == {
        "type": "integer",
        "description": "Records to skip.",
        "minimum": 0,
        "default": 0,
    }
    assert props["limit"]["minimum"] == 1 and props["limit"]["maximum"] == 100
    assert props["limit"]["default"] == 20
    assert props["sort"]["type"] == "string"
    assert "required" not in schema  # nothing is required; integration_id is resolved by the core


def test_integration_id_added_to_data_tools_only_and_never_required() -> None:
    for service in (EDR, TICKETING):
        for tool in service.all_tools():
            schema = input_schema(tool)
            if tool.handler == "http":
                assert "integration_id" in schema["properties"]
                assert "integration_id" not in schema.get("required", [])
                assert tool_params(tool)[-1] is INTEGRATION_ID
            else:
                assert "integration_id" not in schema["properties"]


def test_required_enum_and_array_items() -> None:
    schema = input_schema(CREATE_TICKET)
    assert schema["required"] == ["organization_id", "collection_id", "name", "description", "type"]
    props = schema["properties"]
    assert props["type"]["enum"] == ["bug", "feature", "task", "security", "enhancement"]
    assert props["name"]["minLength"] == 1 and props["name"]["maxLength"] == 200
    assert props["assignee_ids"] == {
        "type": "array",
        "description": "User ids.",
        "items": {"type": "string"},
        "maxItems": 10,
    }
    assert props["organization_id"]["minLength"] == 1


def test_discovery_tool_schema() -> None:
    connectors, integrations = EDR.all_tools()[:2]
    assert input_schema(connectors) == {"type": "object", "properties": {}, "additionalProperties": False}
    schema = input_schema(integrations)
    assert schema["required"] == ["connector"]


def test_schema_is_deterministic_json() -> None:
    first = [json.dumps(input_schema(t)) for t in TICKETING.all_tools()]
    second = [json.dumps(input_schema(t)) for t in TICKETING.all_tools()]
    assert first == second
    assert list(input_schema(GET_DEVICE)["properties"]) == ["device_id", "integration_id"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"limit": 0}, "limit: 0 is below the minimum 1"),
        ({"limit": 101}, "limit: 101 is above the maximum 100"),
        ({"offset": -1}, "offset: -1 is below the minimum 0"),
        ({"limit": "20"}, "limit: expected integer, got str '20'"),
        ({"limit": True}, "limit: expected integer, got bool True"),
        ({"sort": "x" * 201}, "sort: must be at most 200 characters long"),
        ({"bogus": 1}, "unknown argument 'bogus' (accepted: integration_id, limit, offset, sort)"),
        ({"integration_id": ""}, "integration_id: must be at least 1 character(s) long"),
    ],
)
def test_validation_messages(arguments: dict[str, object], expected: str) -> None:
    assert validate_arguments(input_schema(LIST_DEVICES), arguments) == [expected]


def test_validation_of_required_and_enum() -> None:
    schema = input_schema(CREATE_TICKET)
    problems = validate_arguments(schema, {"organization_id": "o", "collection_id": "c", "type": "nope"})
    assert "missing required argument 'name', 'description'" in problems
    assert "type: 'nope' is not one of bug, feature, task, security, enhancement" in problems
    assert (
        validate_arguments(
            schema,
            {"organization_id": "o", "collection_id": "c", "name": "n", "description": "d", "type": "bug"},
        )
        == []
    )


def test_long_values_are_not_echoed() -> None:
    problems = validate_arguments(input_schema(LIST_DEVICES), {"limit": "9" * 5000})
    assert len(problems) == 1 and len(problems[0]) < 120
