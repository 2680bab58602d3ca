"""Tool arguments → HTTP call: wire names, dropped None, query defaults, multipart uploads."""

from __future__ import annotations

import base64

import pytest
from mcp_specs import ADD_ATTACHMENT, CREATE_GADGET, WIDGETS
from unizo_mcp_core.errors import ToolInputError
from unizo_mcp_core.invoke import build_call
from unizo_mcp_core.schema import input_schema
from unizo_mcp_core.spec import Param, Permission, ToolSpec, body_param, get_tool, path_param, query_param

GADGETS_AT = "/gadgets/o%201/shelves/c1/gadgets"


def test_body_maps_snake_to_camel_and_drops_none() -> None:
    call = build_call(
        CREATE_GADGET,
        {
            "group_id": "o 1",
            "shelf_id": "c1",
            "name": "N",
            "description": "D",
            "type": "bug",
            "assignee_ids": ["u1"],
            "due_date": None,
            "integration_id": "int-1",
        },
    )
    assert call.method == "POST"
    assert call.path == GADGETS_AT
    assert call.json == {"name": "N", "description": "D", "type": "bug", "assigneeIds": ["u1"]}
    assert call.params is None and call.multipart is None
    assert call.integration_id == "int-1"


def test_query_defaults_and_wire_names() -> None:
    tool = ToolSpec(
        "widgets_search",
        "Search.",
        "GET",
        "/widgets/items",
        Permission.READ,
        (
            query_param("item_status", "string", "Status."),
            query_param("include_parts", "boolean", "Also parts."),
            query_param("tags", "array", "Tags.", items="string"),
            *WIDGETS.tools[0].params,
        ),
    )
    call = build_call(
        tool, {"item_status": "online", "include_parts": False, "tags": ["a", "b"], "sort": None}
    )
    assert call.params == {
        "itemStatus": "online",
        "includeParts": "false",
        "tags": "a,b",
        "limit": "20",
    }
    assert call.json is None and call.integration_id is None


def test_multipart_upload() -> None:
    content = b"\x00\x01hello"
    call = build_call(
        ADD_ATTACHMENT,
        {
            "group_id": "o",
            "shelf_id": "c",
            "gadget_id": "t",
            "file": base64.b64encode(content).decode(),
            "file_name": "a.bin",
            "description": "dump",
        },
    )
    assert call.path == "/gadgets/o/shelves/c/gadgets/t/attachments"
    assert call.json is None
    assert call.multipart == {
        "file": ("a.bin", content, "application/octet-stream"),
        "fileName": "a.bin",
        "description": "dump",
    }


def test_bad_base64_is_a_tool_input_error() -> None:
    with pytest.raises(ToolInputError, match="Refused file: not valid base64"):
        build_call(
            ADD_ATTACHMENT,
            {"group_id": "o", "shelf_id": "c", "gadget_id": "t", "file": "%%%", "file_name": "a"},
        )


def test_hostile_integration_id_refused() -> None:
    with pytest.raises(ToolInputError, match="Refused integration_id"):
        build_call(WIDGETS.tools[0], {"integration_id": "a\r\nX: y"})


# --- body defaults -------------------------------------------------------------------------------

ORDER = ToolSpec(
    "gadgets_create_order",
    "Open an order.",
    "POST",
    "/gadgets/groups/{group_id}/shops/{shop_id}/orders",
    Permission.WRITE,
    (
        path_param("group_id"),
        path_param("shop_id"),
        body_param("title", "string", "", required=True),
        body_param("state", "string", "", enum=("opened", "closed"), default="opened"),
        body_param("draft", "boolean", "", default=False),
        body_param("labels", "array", "", items="string"),
    ),
)
ORDER_IDS = {"group_id": "o", "shop_id": "r"}


def test_body_defaults_are_sent_as_the_schema_advertises() -> None:
    assert input_schema(ORDER)["properties"]["state"]["default"] == "opened"
    call = build_call(ORDER, {**ORDER_IDS, "title": "T"})
    assert call.json == {"title": "T", "state": "opened", "draft": False}
    # an explicit None is "not given": the default applies; an explicit value wins
    call = build_call(ORDER, {**ORDER_IDS, "title": "T", "state": None, "draft": True})
    assert call.json == {"title": "T", "state": "opened", "draft": True}


def test_multipart_body_defaults_are_form_fields() -> None:
    upload = ToolSpec(
        "gadgets_upload",
        "Upload.",
        "POST",
        "/x/{gadget_id}",
        Permission.WRITE,
        (
            path_param("gadget_id"),
            Param("file", "string", "", location="file", required=True, base64=True),
            body_param("is_public", "boolean", "", default=False),
        ),
        body_format="multipart",
    )
    call = build_call(upload, {"gadget_id": "t", "file": base64.b64encode(b"x").decode()})
    assert call.multipart is not None and call.multipart["isPublic"] == "false"


def test_update_tools_without_defaults_send_only_what_was_given() -> None:
    update = ToolSpec(
        "gadgets_update_order",
        "Update.",
        "PUT",
        "/x/{order_id}",
        Permission.WRITE,
        (path_param("order_id"), body_param("state", "string", "", enum=("opened", "closed"))),
    )
    assert build_call(update, {"order_id": "1"}).json == {}


# --- arrays of objects -----------------------------------------------------------------------------

ITEMS = (
    body_param("name", "string", "", required=True),
    body_param("assignee_ids", "array", "", items="string"),
    body_param("due_date", "string", ""),
    body_param("is_urgent", "boolean", "", default=False),
    body_param("title", "string", "", wire="summary", local_max_length=5),
)
BULK = ToolSpec(
    "gadgets_create_bulk_gadgets",
    "Create tickets.",
    "POST",
    "/t/{collection_id}/bulk",
    Permission.WRITE,
    (
        path_param("collection_id"),
        body_param("tickets", "array", "", required=True, items="object", item_params=ITEMS),
        body_param("notify", "boolean", "", default=False),
    ),
)


def test_items_map_snake_to_wire_names_with_defaults() -> None:
    tickets = [
        {"name": "a", "assignee_ids": ["u1"], "due_date": "2030-01-01", "title": "x"},
        {"name": "b", "is_urgent": True, "due_date": None},
    ]
    call = build_call(BULK, {"collection_id": "c", "tickets": tickets})
    assert call.json == {
        "tickets": [
            {"name": "a", "assigneeIds": ["u1"], "dueDate": "2030-01-01", "isUrgent": False, "summary": "x"},
            {"name": "b", "isUrgent": True},
        ],
        "notify": False,
    }
    assert tickets[1] == {"name": "b", "is_urgent": True, "due_date": None}  # the arguments are not mutated


@pytest.mark.parametrize(
    ("tickets", "message"),
    [
        ([{"name": "a", "assigneeIds": ["u1"]}], r"Refused tickets\[0\]: unknown field 'assigneeIds'"),
        ([{"name": "a"}, "b"], r"Refused tickets\[1\]: expected an object"),
        ([{"name": "a", "title": "toolong"}], r"Refused tickets\[0\]\.title: at most 5 characters"),
    ],
)
def test_bad_items_are_refused_before_sending(tickets: list[object], message: str) -> None:
    with pytest.raises(ToolInputError, match=message):
        build_call(BULK, {"collection_id": "c", "tickets": tickets})


# --- local guards (not advertised in the schema) ---------------------------------------------------


def test_sort_and_integration_id_lengths_are_checked_locally() -> None:
    list_items = WIDGETS.tools[0]
    assert build_call(list_items, {"sort": "x" * 200}).params == {
        "limit": "20",
        "sort": "x" * 200,
    }
    with pytest.raises(ToolInputError, match="Refused sort: at most 200 characters"):
        build_call(list_items, {"sort": "x" * 201})
    assert build_call(list_items, {"integration_id": "i" * 200}).integration_id == "i" * 200
    with pytest.raises(ToolInputError, match="Refused integration_id: at most 200 characters"):
        build_call(list_items, {"integration_id": "i" * 201})


@pytest.mark.parametrize("value", ["", "  "])
def test_empty_integration_id_refused(value: str) -> None:
    with pytest.raises(ToolInputError, match="Refused integration_id: an integration id cannot be empty"):
        build_call(WIDGETS.tools[0], {"integration_id": value})


def test_empty_path_value_refused_without_a_schema_min_length() -> None:
    assert "minLength" not in input_schema(WIDGETS.tools[1])["properties"]["item_id"]
    with pytest.raises(ToolInputError, match="Refused item_id: a path parameter cannot be empty"):
        build_call(WIDGETS.tools[1], {"item_id": ""})


# --- slash_ok path params ------------------------------------------------------------------------

BRANCH = get_tool(
    "gadgets_get_branch",
    "Get one branch.",
    "/gadgets/repositories/{repository_id}/branches/{branch_id}",
    path_param("repository_id"),
    path_param("branch_id", "Branch name.", slash_ok=True),
)


def test_slash_ok_param_encodes_slashes_inside_its_segment() -> None:
    call = build_call(BRANCH, {"repository_id": "r", "branch_id": "feature/x y"})
    assert call.path == "/gadgets/repositories/r/branches/feature%2Fx%20y"
    # other path params of the same tool still refuse '/'
    with pytest.raises(ToolInputError, match="Refused repository_id: a path parameter cannot contain '/'"):
        build_call(BRANCH, {"repository_id": "a/b", "branch_id": "main"})


@pytest.mark.parametrize(
    "value", ["../main", "feature/../main", "a//b", "/main", "main/", "a/./b", "-x/y", "a/b%2F"]
)
def test_slash_ok_param_still_refuses_traversal_and_tricks(value: str) -> None:
    with pytest.raises(ToolInputError, match="Refused branch_id"):
        build_call(BRANCH, {"repository_id": "r", "branch_id": value})


def test_dotted_wire_names_nest_in_the_body() -> None:
    from unizo_mcp_core.spec import Permission, ToolSpec, body_param

    tool = ToolSpec(
        "demo_create_case",
        "Create a case.",
        "POST",
        "/demo/cases",
        Permission.WRITE,
        (
            body_param("name", "string", "", required=True),
            body_param("priority_type", "string", "", wire="priority.type"),
            body_param("priority_name", "string", "", wire="priority.name"),
            body_param("project_id", "string", "", wire="project.id"),
        ),
    )
    call = build_call(tool, {"name": "n", "priority_type": "P1", "priority_name": "High", "project_id": "7"})
    assert call.json == {"name": "n", "priority": {"type": "P1", "name": "High"}, "project": {"id": "7"}}
