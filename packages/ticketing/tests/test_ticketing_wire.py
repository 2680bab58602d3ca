"""What the core puts on the wire for the ticketing declarations, checked against the sandbox.

- body defaults the schema advertises are sent (`is_internal`, `notify`);
- the items of `ticketing_create_bulk_tickets` are snake_case for the model and camelCase on the wire.
"""

from __future__ import annotations

from typing import Any

from servicekit import Session
from unizo_testkit import text_of

API = "/api/v1"


def _bodies(sent: list[dict[str, Any]], method: str, suffix: str) -> list[Any]:
    return [c["json"] for c in sent if c["method"] == method and c["path"].endswith(suffix)]


async def _collection(s: Session) -> dict[str, str]:
    iid = await s.integration("ticketing")
    org = (await s.data("ticketing_list_organizations", {"integration_id": iid}))[0]["id"]
    args = {"integration_id": iid, "organization_id": str(org)}
    col = (await s.data("ticketing_list_collections", args))[0]["id"]
    return {**args, "collection_id": str(col)}


async def test_comment_and_bulk_defaults_are_sent(open_server, sent) -> None:
    async with open_server("ticketing") as s:
        ids = await _collection(s)
        ticket = (await s.data("ticketing_list_tickets", ids))[0]["id"]
        comment = await s.data("ticketing_create_comment", {**ids, "ticket_id": ticket, "content": "Noted."})
        assert _bodies(sent, "POST", "/comments") == [{"content": "Noted.", "isInternal": False}]
        assert comment["isInternal"] is False
        one = {"name": "Defaults", "description": "d", "type": "task"}
        await s.data("ticketing_create_bulk_tickets", {**ids, "tickets": [one]})
        assert _bodies(sent, "POST", "/tickets/bulk") == [{"tickets": [one], "notify": False}]


# --- arrays of objects ------------------------------------------------------------------------------


async def test_bulk_ticket_items_are_snake_case_for_the_model(open_server, sandbox, sent) -> None:
    async with open_server("ticketing") as s:
        ids = await _collection(s)
        user = (await s.data("ticketing_list_users", {"integration_id": ids["integration_id"]}))[0]["id"]
        items = [
            {
                "name": "Snake one",
                "description": "Assigned, due, labelled.",
                "type": "bug",
                "priority": "high",
                "assignee_ids": [user],
                "labels": ["mcp-bulk"],
                "due_date": "2030-01-31",
                "metadata": {"source": "test"},
            },
            {"name": "Snake two", "description": "Minimal.", "type": "task"},
        ]
        created = await s.data("ticketing_create_bulk_tickets", {**ids, "tickets": items, "notify": True})
        [body] = _bodies(sent, "POST", "/tickets/bulk")
        assert body["notify"] is True
        assert body["tickets"][0] == {
            "name": "Snake one",
            "description": "Assigned, due, labelled.",
            "type": "bug",
            "priority": "high",
            "assigneeIds": [user],
            "labels": ["mcp-bulk"],
            "dueDate": "2030-01-31",
            "metadata": {"source": "test"},
        }
        assert created["notify"] is True  # the bulk answer is {"data": [tickets], "notify"}
        first, second = created["data"]
        assert [a["id"] for a in first["assignees"]] == [user]
        assert first["dueDate"] == "2030-01-31" and first["labels"] == ["mcp-bulk"]
        assert second["name"] == "Snake two" and second["assignees"] == []

        # camelCase inside an item is refused by the schema, naming the item, before any request
        sandbox.clear_requests()
        bad = {"name": "Camel", "description": "d", "type": "bug", "assigneeIds": [user]}
        result = await s.call("ticketing_create_bulk_tickets", {**ids, "tickets": [bad]})
        assert result.is_error
        assert "tickets[0]: unknown field 'assigneeIds'" in text_of(result), text_of(result)
        assert not [r for r in sandbox.requests() if r.path.endswith("/bulk")]


# --- what Unizo's models require, and what its hosted server picks by itself ---------------------------


async def test_attachments_carry_their_file_size(open_server, sent) -> None:
    import base64

    content = b"twelve bytes"
    async with open_server("ticketing") as s:
        ids = await _collection(s)
        ticket = (await s.data("ticketing_list_tickets", ids))[0]["id"]
        await s.data(
            "ticketing_create_attachment",
            {
                **ids,
                "ticket_id": ticket,
                "file_data": base64.b64encode(content).decode(),
                "file_name": "a.txt",
                "mime_type": "text/plain",
            },
        )
    [upload] = [c["multipart"] for c in sent if c["method"] == "POST" and c["path"].endswith("/attachments")]
    assert upload["fileSize"] == str(len(content))
    assert upload["file"] == ("a.txt", content, "text/plain")


async def test_organization_and_collection_are_picked_when_only_one_exists(open_server, sandbox) -> None:
    async with open_server("ticketing") as s:
        iid = await s.integration("ticketing")
        orgs = await s.data("ticketing_list_organizations", {"integration_id": iid})
        result = await s.call("ticketing_list_tickets", {"integration_id": iid})
        text = text_of(result)
        if len(orgs) > 1:  # the choice is the model's: every organization is named
            assert result.is_error and "organization_id is required" in text, text
            assert all(str(org["id"]) in text for org in orgs[:20])
            args = {"integration_id": iid, "organization_id": str(orgs[0]["id"])}
        else:
            args = {"integration_id": iid}
        collections = await s.data("ticketing_list_collections", args)
        result = await s.call("ticketing_list_tickets", args)
        if len(collections) > 1:
            assert result.is_error and "collection_id is required" in text_of(result), text_of(result)
            assert all(str(c["id"]) in text_of(result) for c in collections[:20])
        else:
            assert not result.is_error, text_of(result)
            assert result.structured_content["data"]
