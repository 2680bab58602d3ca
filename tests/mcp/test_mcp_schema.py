"""ToolSpec → JSON Schema, and argument validation against it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp_specs import CREATE_GADGET, GADGETS, WIDGETS
from unizo_mcp_core.schema import argument_validator, input_schema, tool_params
from unizo_mcp_core.spec import INTEGRATION_ID, Permission, ToolSpec, body_param, path_param
from unizo_testkit import mcp_hints

LIST_ITEMS = WIDGETS.tools[0]
GET_ITEM = WIDGETS.tools[1]


def test_list_tool_schema_pages_with_bounds() -> None:
    schema = input_schema(LIST_ITEMS)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    # no description: name, bounds and default say it (every byte is paid on every turn)
    assert props["offset"] == {"type": "integer", "minimum": 0, "maximum": 10_000_000}
    assert props["limit"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    assert props["sort"] == {"type": "string"}  # explained once, in the server instructions
    assert "maxLength" not in props["sort"]  # a local guard (invoke), not advertised
    assert props["integration_id"] == {"type": "string"}  # explained once, by the discovery tools
    assert "required" not in schema  # nothing is required; integration_id is resolved by the core


def test_integration_id_added_to_data_tools_only_and_never_required() -> None:
    for service in (WIDGETS, GADGETS):
        for tool in service.all_tools():
            schema = input_schema(tool)
            if tool.handler == "http":
                assert "integration_id" in schema["properties"]
                assert "integration_id" not in schema.get("required", [])
                assert tool_params(tool)[-1] is INTEGRATION_ID
            else:
                assert "integration_id" not in schema["properties"]


def test_required_enum_and_array_items() -> None:
    schema = input_schema(CREATE_GADGET)
    assert schema["required"] == ["group_id", "shelf_id", "name", "description", "type"]
    props = schema["properties"]
    assert props["type"]["enum"] == ["bug", "feature", "task", "security", "enhancement"]
    assert props["name"]["minLength"] == 1 and props["name"]["maxLength"] == 200
    assert props["assignee_ids"] == {
        "type": "array",
        "description": "User ids.",
        "items": {"type": "string"},
        "maxItems": 10,
    }
    assert props["group_id"] == {
        "type": "string",
        "description": "Group id.",
    }  # paths refuses ""


def test_discovery_tool_schema() -> None:
    connectors, integrations = WIDGETS.all_tools()[:2]
    assert input_schema(connectors) == {"type": "object", "properties": {}, "additionalProperties": False}
    schema = input_schema(integrations)
    assert schema["required"] == ["connector"]


def test_schema_is_deterministic_json() -> None:
    first = [json.dumps(input_schema(t)) for t in GADGETS.all_tools()]
    second = [json.dumps(input_schema(t)) for t in GADGETS.all_tools()]
    assert first == second
    assert list(input_schema(GET_ITEM)["properties"]) == ["item_id", "integration_id"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"limit": 0}, "limit: 0 is below the minimum 1"),
        ({"limit": 101}, "limit: 101 is above the maximum 100"),
        ({"offset": -1}, "offset: -1 is below the minimum 0"),
        ({"limit": "20"}, 'limit: expected integer, got string "20"'),
        ({"limit": True}, "limit: expected integer, got boolean true"),
        ({"bogus": 1}, "unknown argument 'bogus' (accepted: integration_id, limit, offset, sort)"),
        ({"integration_id": 5}, "integration_id: expected string, got integer 5"),
    ],
)
def test_validation_messages(arguments: dict[str, object], expected: str) -> None:
    assert argument_validator(input_schema(LIST_ITEMS))(arguments) == [expected]


def test_validation_of_required_and_enum() -> None:
    schema = input_schema(CREATE_GADGET)
    problems = argument_validator(schema)({"group_id": "o", "shelf_id": "c", "type": "nope"})
    assert "missing required argument 'name', 'description'" in problems
    assert 'type: "nope" is not one of bug, feature, task, security, enhancement' in problems
    assert (
        argument_validator(schema)(
            {"group_id": "o", "shelf_id": "c", "name": "n", "description": "d", "type": "bug"},
        )
        == []
    )


def test_long_values_are_not_echoed() -> None:
    problems = argument_validator(input_schema(LIST_ITEMS))({"limit": "9" * 5000})
    assert len(problems) == 1 and len(problems[0]) < 120


# --- compactness, titles, annotations --------------------------------------------------------------


def test_discovery_tools_follow_the_title_rule() -> None:
    # no tool states a title that restates its name: clients display the name instead
    for service in (WIDGETS, GADGETS):
        connectors, integrations = service.all_tools()[:2]
        assert connectors.title is None and integrations.title is None
        assert input_schema(integrations)["properties"]["connector"] == {
            "type": "string",
            "description": f"From {service.name}_list_connectors.",
            "minLength": 1,
        }


def test_annotations_state_three_hints_and_leave_open_world_to_its_default() -> None:
    for tool in GADGETS.all_tools():
        hints = mcp_hints(tool.annotations)
        assert set(hints) == {
            "readOnlyHint",
            "destructiveHint",
            "idempotentHint",
        }  # openWorldHint: MCP default true
    assert mcp_hints(CREATE_GADGET.annotations) == {
        "readOnlyHint": False,
        "destructiveHint": False,
        "idempotentHint": False,
    }


# --- arrays of objects ------------------------------------------------------------------------------

ITEM_FIELDS = (
    body_param("name", "string", "", required=True),
    body_param("type", "string", "", required=True, enum=("bug", "task")),
    body_param("assignee_ids", "array", "User ids.", items="string"),
    body_param("is_urgent", "boolean", "", default=False),
)
BULK = ToolSpec(
    "gadgets_create_bulk_gadgets",
    "Create gadgets.",
    "POST",
    "/gadgets/{group_id}/shelves/{shelf_id}/gadgets/bulk",
    Permission.WRITE,
    (
        path_param("group_id"),
        path_param("shelf_id"),
        body_param(
            "tickets",
            "array",
            "Tickets.",
            required=True,
            items="object",
            item_params=ITEM_FIELDS,
            max_items=3,
        ),
    ),
)
BULK_IDS = {"group_id": "o", "shelf_id": "c"}


def test_item_params_give_arrays_a_real_item_schema() -> None:
    tickets = input_schema(BULK)["properties"]["tickets"]
    assert tickets == {
        "type": "array",
        "description": "Tickets.",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "type": {"type": "string", "enum": ["bug", "task"]},
                "assignee_ids": {"type": "array", "description": "User ids.", "items": {"type": "string"}},
                "is_urgent": {"type": "boolean", "default": False},
            },
            "required": ["name", "type"],
            "additionalProperties": False,
        },
        "maxItems": 3,
    }


@pytest.mark.parametrize(
    ("tickets", "expected"),
    [
        (
            [{"name": "n", "type": "bug", "assigneeIds": ["u"]}],
            "tickets[0]: unknown field 'assigneeIds' (accepted: ",
        ),
        ([{"name": "n"}], "tickets[0]: missing required field 'type'"),
        ([{"name": "n", "type": "epic"}], 'tickets[0].type: "epic" is not one of bug, task'),
        ([{"name": 1, "type": "bug"}], "tickets[0].name: expected string, got integer 1"),
        (["n"], 'tickets[0]: expected object, got string "n"'),
        ([{"name": "n", "type": "bug"}] * 4, "tickets: accepts at most 3 items"),
    ],
)
def test_item_violations_name_the_item_and_its_field(tickets: list[object], expected: str) -> None:
    problems = argument_validator(input_schema(BULK))({**BULK_IDS, "tickets": tickets})
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_valid_items_pass() -> None:
    items = [
        {"name": "a", "type": "bug", "assignee_ids": ["u1"]},
        {"name": "b", "type": "task", "is_urgent": True},
    ]
    assert argument_validator(input_schema(BULK))({**BULK_IDS, "tickets": items}) == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"type": "string", "item_params": ITEM_FIELDS},
        {"type": "array", "items": "string", "item_params": ITEM_FIELDS},
        {"type": "array", "items": "object", "item_params": ()},
        {"type": "array", "items": "object", "item_params": (path_param("x"),)},
    ],
)
def test_item_params_misuse_is_a_declaration_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="item_params"):
        body_param("tickets", description="Tickets.", **kwargs)


def test_slash_ok_is_for_path_params_only() -> None:
    with pytest.raises(ValueError, match="slash_ok"):
        body_param("branch", "string", "Branch.", slash_ok=True)
