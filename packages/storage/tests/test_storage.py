"""File storage: every tool against the sandbox (generated from the declarations and this table), its
snapshot, and what only this service has: the first delete tools (hidden from keys without `delete` and by
`--read-only`, annotated destructive) and updates that read the record first, so they are not destructive."""

from __future__ import annotations

from typing import Any

from servicekit import Example, ref, service_tests
from unizo_mcp_core.spec import Permission
from unizo_mcp_storage.tools import SERVICE
from unizo_testkit import text_of

TOOLS = {tool.name: tool for tool in SERVICE.tools}
DELETES = sorted(name for name, tool in TOOLS.items() if tool.permission is Permission.DELETE)
READS = [tool.name for tool in SERVICE.all_tools() if tool.permission is Permission.READ]


def _folder(data: Any) -> None:
    assert data["name"] == "MCP test folder" and data["description"] == "Made by the MCP test"
    assert data["id"] and len(data["parents"]) == 1


def _file(data: Any) -> None:
    assert (data["name"], data["mimeType"], data["size"]) == ("findings.pdf", "application/pdf", "2048")
    assert data["fileUrl"] == "https://files.example.com/findings.pdf"


def _renamed(data: Any) -> None:
    assert data["name"] == "Renamed by MCP"
    assert data["description"], "the update kept the description it did not name"


def _described(data: Any) -> None:
    assert data["description"] == "Reviewed by MCP"
    assert data["name"] and data["fileUrl"], "the update kept the fields it did not name"


def _shared(data: Any) -> None:
    assert (data["userRole"], data["userType"], data["emailAddress"]) == (
        "commenter",
        "user",
        "auditor@example.com",
    )


def _commented(data: Any) -> None:
    assert data["content"] == "Checked from MCP." and data["username"] == "MCP test"


def _edited(data: Any) -> None:
    assert data["content"] == "Edited from MCP." and data["username"], "the username was kept"


EXAMPLES = {
    "storage_list_files": Example({"limit": 10, "sort": "-changeLog.lastUpdatedDateTime"}),
    "storage_list_folders": Example({"sort": "name"}),
    "storage_create_folder": Example(
        {
            "name": "MCP test folder",
            "description": "Made by the MCP test",
            "parents": [ref("storage_list_folders")],
        },
        check=_folder,
    ),
    "storage_update_folder": Example({"name": "Renamed by MCP"}, check=_renamed),
    "storage_create_file": Example(
        {
            "name": "findings.pdf",
            "mime_type": "application/pdf",
            "size": "2048",
            "file_url": "https://files.example.com/findings.pdf",
            "parents": [ref("storage_list_folders", index=1)],
        },
        check=_file,
    ),
    "storage_update_file": Example({"description": "Reviewed by MCP"}, check=_described),
    "storage_add_permission": Example(
        {"user_role": "commenter", "email_address": "auditor@example.com"}, check=_shared
    ),
    "storage_create_comment": Example(
        {"content": "Checked from MCP.", "username": "MCP test"}, check=_commented
    ),
    "storage_update_comment": Example({"content": "Edited from MCP."}, check=_edited),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)


# ---- the destructive-tool rules, on the wire ------------------------------------------------------------


async def test_a_key_without_delete_never_sees_a_delete_tool(open_server: Any, new_key: Any) -> None:
    key = await new_key({"storage": ["read", "write"]}, name="storage-no-delete")
    async with open_server("storage", env={"UNIZO_API_KEY": key}) as s:
        listed = await s.tool_names()
        assert DELETES and not set(DELETES) & set(listed)
        assert "storage_update_file" in listed and "storage_create_folder" in listed
        refused = await s.call(DELETES[0], {})
        assert refused.is_error and "storage:delete" in text_of(refused), text_of(refused)


async def test_a_key_with_delete_sees_every_delete_tool(open_server: Any, new_key: Any) -> None:
    key = await new_key({"storage": ["read", "delete"]}, name="storage-read-delete")
    async with open_server("storage", env={"UNIZO_API_KEY": key}) as s:
        assert sorted(await s.tool_names()) == sorted([*READS, *DELETES])


async def test_read_only_hides_every_write_and_delete(open_server: Any, sandbox: Any) -> None:
    async with open_server("storage", env={"UNIZO_READ_ONLY": "true"}) as s:
        assert await s.tool_names() == READS
        before = len(sandbox.requests())
        refused = await s.call("storage_delete_file", {"file_id": "x"})
        assert refused.is_error and "read-only" in text_of(refused), text_of(refused)
        assert not [r for r in sandbox.requests()[before:] if r.method == "DELETE"]


async def test_destructive_hint_only_on_deletes(open_server: Any) -> None:
    async with open_server("storage") as s:
        listed = {t.name: t.annotations for t in (await s.client.list_tools()).tools}
    assert set(listed) == {t.name for t in SERVICE.all_tools()}
    for name, notes in listed.items():
        method = TOOLS[name].method if name in TOOLS else "POST"
        assert notes.destructive_hint is (method == "DELETE"), name
        assert notes.read_only_hint is (method == "GET" or name not in TOOLS), name
        assert notes.idempotent_hint is (method in ("GET", "PUT", "DELETE") or name not in TOOLS), name
    updates = [name for name, tool in TOOLS.items() if tool.method == "PUT"]
    assert updates and all(TOOLS[name].read_before_write and not TOOLS[name].overwrites for name in updates)


# ---- updates read the record first ------------------------------------------------------------------------


async def test_an_update_sends_the_whole_record_with_the_change(open_server: Any, sandbox: Any) -> None:
    async with open_server("storage") as s:
        iid = await s.integration("storage")
        folder = (await s.data("storage_list_folders", {"integration_id": iid, "limit": 1}))[0]
        whole = await s.data("storage_get_folder_details", {"integration_id": iid, "folder_id": folder["id"]})
        sandbox.clear_requests()
        updated = await s.data(
            "storage_update_folder", {"integration_id": iid, "folder_id": folder["id"], "name": "Moved"}
        )
        assert [(r.method, r.status) for r in sandbox.requests()] == [("GET", 200), ("PUT", 200)]
    assert updated["name"] == "Moved"
    for kept in ("description", "size", "folderUrl", "parents", "mimeType"):
        assert updated.get(kept) == whole.get(kept), kept


async def test_updating_a_file_link_adds_a_version(open_server: Any) -> None:
    async with open_server("storage") as s:
        iid = await s.integration("storage")
        file = (await s.data("storage_list_files", {"integration_id": iid, "limit": 1}))[0]
        ids = {"integration_id": iid, "file_id": file["id"]}
        before = await s.data("storage_list_versions", {**ids, "limit": 100})
        await s.data("storage_update_file", {**ids, "file_url": "https://files.example.com/v2", "size": "99"})
        after = await s.data("storage_list_versions", {**ids, "limit": 100})
    assert len(after) == len(before) + 1 and after[-1]["size"] == "99"


async def test_a_deleted_file_is_gone_with_its_comments(open_server: Any) -> None:
    async with open_server("storage") as s:
        iid = await s.integration("storage")
        file = (await s.data("storage_list_files", {"integration_id": iid, "limit": 1}))[0]
        ids = {"integration_id": iid, "file_id": file["id"]}
        assert await s.data("storage_delete_file", ids) is None
        gone = await s.call("storage_get_file_details", ids)
        assert gone.is_error and "HTTP 404" in text_of(gone)
        orphan = await s.call("storage_list_comments", ids)
        assert orphan.is_error and "HTTP 404" in text_of(orphan)


def test_permission_enums_and_defaults() -> None:
    params = {p.name: p for p in TOOLS["storage_add_permission"].params}
    assert (
        params["user_role"].enum == ("reader", "commenter", "writer", "owner")
        and params["user_role"].required
    )
    assert params["user_type"].enum == ("user", "group", "domain", "anyone")
    assert params["user_type"].default == "user"
    assert {p.wire_name for p in params.values() if p.location == "body"} == {
        "userRole",
        "userType",
        "emailAddress",
    }
