"""Tool arguments → HTTP call: wire names, dropped None, query defaults, multipart uploads."""

from __future__ import annotations

import base64

import pytest
from mcp_specs import ADD_ATTACHMENT, CREATE_TICKET, EDR
from unizo_mcp_core.errors import ToolInputError
from unizo_mcp_core.invoke import build_call
from unizo_mcp_core.spec import Permission, ToolSpec, query_param

TICKETS = "/ticketing/o%201/collections/c1/tickets"


def test_body_maps_snake_to_camel_and_drops_none() -> None:
    call = build_call(
        CREATE_TICKET,
        {
            "organization_id": "o 1",
            "collection_id": "c1",
            "name": "N",
            "description": "D",
            "type": "bug",
            "assignee_ids": ["u1"],
            "due_date": None,
            "integration_id": "int-1",
        },
    )
    assert call.method == "POST"
    assert call.path == TICKETS
    assert call.json == {"name": "N", "description": "D", "type": "bug", "assigneeIds": ["u1"]}
    assert call.params is None and call.multipart is None
    assert call.integration_id == "int-1"


def test_query_defaults_and_wire_names() -> None:
    tool = ToolSpec(
        "edr_search",
        "Search.",
        "GET",
        "/edr/devices",
        Permission.READ,
        (
            query_param("device_status", "string", "Status."),
            query_param("include_alerts", "boolean", "Also alerts."),
            query_param("tags", "array", "Tags.", items="string"),
            *EDR.tools[0].params,
        ),
    )
    call = build_call(
        tool, {"device_status": "online", "include_alerts": False, "tags": ["a", "b"], "sort": None}
    )
    assert call.params == {
        "deviceStatus": "online",
        "includeAlerts": "false",
        "tags": "a,b",
        "offset": 0,
        "limit": 20,
    }
    assert call.json is None and call.integration_id is None


def test_multipart_upload() -> None:
    content = b"\x00\x01hello"
    call = build_call(
        ADD_ATTACHMENT,
        {
            "organization_id": "o",
            "collection_id": "c",
            "ticket_id": "t",
            "file": base64.b64encode(content).decode(),
            "file_name": "a.bin",
            "description": "dump",
        },
    )
    assert call.path == "/ticketing/o/collections/c/tickets/t/attachments"
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
            {"organization_id": "o", "collection_id": "c", "ticket_id": "t", "file": "%%%", "file_name": "a"},
        )


def test_hostile_integration_id_refused() -> None:
    with pytest.raises(ToolInputError, match="Refused integration_id"):
        build_call(EDR.tools[0], {"integration_id": "a\r\nX: y"})
