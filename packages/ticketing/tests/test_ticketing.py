"""Ticketing: every tool against the sandbox (generated from the declarations and this table), its
snapshot, and the parts of the contract only this service has."""

import base64
from typing import Any

from servicekit import Example, ref, service_tests
from unizo_mcp_ticketing.tools import SERVICE

CONTENT = b"line one\nline two\n"
TOOLS = {tool.name: tool for tool in SERVICE.tools}


def _ticket(data: Any) -> None:
    assert data["name"] == "Rotate the leaked token" and data["type"] == "security" and data["id"]


def _bulk(data: Any) -> None:
    assert "Bulk one" in str(data) and "Bulk two" in str(data)


def _attachment(data: Any) -> None:
    assert data["fileName"] == "notes.txt" and data["mimeType"] == "text/plain"
    assert data["fileSize"] == len(CONTENT)


def _comment(data: Any) -> None:
    assert data["content"] == "Looked at it from MCP." and data["isInternal"] is True


def _label(data: Any) -> None:
    assert data["name"] == "needs-triage" and data["color"].lower() == "#ff8800"


def _update(data: Any) -> None:
    assert data["status"] == "in_progress"


EXAMPLES = {
    "ticketing_list_users": Example({"limit": 4}),
    "ticketing_list_tickets": Example({"limit": 10}),
    "ticketing_list_labels": Example({"limit": 100}),
    "ticketing_create_ticket": Example(
        {
            "name": "Rotate the leaked token",
            "description": "Found by the MCP server test.",
            "type": "security",
            "priority": "critical",
            "assignee_ids": [ref("ticketing_list_users")],
            "labels": ["security", "mcp"],
            "due_date": "2026-12-31",
        },
        check=_ticket,
    ),
    "ticketing_create_bulk_tickets": Example(
        {
            "tickets": [
                {"name": "Bulk one", "description": "First of two.", "type": "task"},
                {"name": "Bulk two", "description": "Second of two.", "type": "bug", "priority": "low"},
            ],
            "notify": False,
        },
        check=_bulk,
    ),
    "ticketing_update_ticket": Example({"status": "in_progress", "priority": "high"}, check=_update),
    "ticketing_link_tickets": Example(
        {
            "ticket_id": ref("ticketing_list_tickets"),
            "linked_ticket_id": ref("ticketing_list_tickets", index=1),
            "relationship_type": "blocks",
            "description": "Found together.",
        }
    ),
    "ticketing_create_comment": Example(
        {"content": "Looked at it from MCP.", "is_internal": True}, check=_comment
    ),
    "ticketing_create_attachment": Example(
        {
            "file_data": base64.b64encode(CONTENT).decode(),
            "file_name": "notes.txt",
            "mime_type": "text/plain",
            "description": "Test upload",
        },
        check=_attachment,
    ),
    "ticketing_create_label": Example(
        {"name": "needs-triage", "color": "#FF8800", "category": "process"}, check=_label
    ),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)


def test_attachment_is_multipart_base64() -> None:
    tool = TOOLS["ticketing_create_attachment"]
    assert tool.body_format == "multipart"
    params = {p.name: p for p in tool.params}
    file_data = params["file_data"]
    assert file_data.location == "file" and file_data.base64 and file_data.required
    assert params["file_data"].wire_name == "file"
    assert {params[n].wire_name for n in ("file_name", "mime_type", "description")} == {
        "fileName",
        "mimeType",
        "description",
    }
    assert params["file_name"].required and params["mime_type"].required


def test_link_tickets_wire_names_follow_contract() -> None:
    wires = {p.wire_name for p in TOOLS["ticketing_link_tickets"].params if p.location == "body"}
    assert wires == {"sourceTicketId", "targetTicketId", "linkType", "comment"}


def test_enums_follow_contract() -> None:
    params = {name: {p.name: p for p in tool.params} for name, tool in TOOLS.items()}
    ticket = params["ticketing_create_ticket"]
    assert ticket["type"].enum == ("bug", "feature", "task", "security", "enhancement")
    assert ticket["priority"].enum == ("low", "medium", "high", "critical")
    assert all(ticket[n].required for n in ("name", "description", "type"))
    assert "status" not in ticket
    update = params["ticketing_update_ticket"]
    assert update["status"].enum == ("open", "in_progress", "resolved", "closed")
    assert not any(p.required for p in update.values() if p.location == "body")
    assert params["ticketing_create_label"]["color"].pattern == "^#[0-9A-Fa-f]{6}$"
    bulk = params["ticketing_create_bulk_tickets"]["tickets"]
    assert (bulk.min_items, bulk.max_items, bulk.items) == (1, 100, "object")
