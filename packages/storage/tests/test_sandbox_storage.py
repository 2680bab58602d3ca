"""The sandbox's file storage emulation: seeded drives, folders, files and their children; folder and file
writes (strict PUTs, moves, versions, cascading deletes), permissions and comments, their validation, the
`delete` permission, and persistence across a restart.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox): fixtures `sandbox`, `sandbox_client`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.services import storage
from unizo_mcp_sandbox.testclient import SandboxClient
from unizo_mcp_sandbox.testclient import sandbox_client as open_client
from unizo_mcp_sandbox.testing import start_sandbox

Api = SandboxClient
STORAGE = "/api/v1/storage"
FOLDERS = STORAGE + "/folders"
FILES = STORAGE + "/files"


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


async def everything(api: Api, path: str, integration: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    while True:
        reply = await api.get(
            path, integration=integration, params={"offset": str(len(records)), "limit": "100"}
        )
        assert reply.status == 200, reply.text
        records += reply.json["data"]
        if reply.json["pagination"]["next"] is None:
            return records


# ---- seeded data ------------------------------------------------------------------------------------------


def test_each_integration_has_drives_folders_files_and_children() -> None:
    dataset = generate_dataset(1729)
    mine = [item for item in dataset.integrations if item["type"] == "STORAGE"]
    assert sorted({item["serviceProfile"]["name"] for item in mine}) == ["dropbox", "google_drive"]
    for integration in mine:
        scope = (integration["id"],)
        drives = dataset.tables["storage_drives"][scope]
        folders = dataset.tables["storage_folders"][scope]
        files = dataset.tables["storage_files"][scope]
        assert len(drives) == 4 and len(folders) >= 15 and len(files) >= 60
        assert len(dataset.tables["storage_users"][scope]) == storage.USERS_PER_INTEGRATION
        containers = {record["id"] for record in drives + folders}
        assert all(set(item["parents"]) <= containers for item in folders + files)
        for item in files:
            versions = dataset.tables["storage_versions"][(*scope, item["id"])]
            permissions = dataset.tables["storage_permissions"][(*scope, item["id"])]
            assert versions and versions[-1]["size"] == item["size"]
            assert permissions[0]["userRole"] == "owner"
        if integration["serviceProfile"]["name"] == "google_drive":
            assert all(re.fullmatch(r"1[\w-]{32}", item["id"]) for item in files)
            assert all(item["fileUrl"].startswith("https://drive.google.com/file/d/") for item in files)
        else:
            assert all(item["id"].startswith("id:") for item in files)


async def test_lists_page_and_sort(api: Api) -> None:
    integration = api.integration("storage")
    files = await everything(api, FILES, integration)
    reply = await api.get(FILES, integration=integration, params={"sort": "-name,id", "limit": "5"})
    expected = sorted(files, key=lambda item: item["id"])
    expected = sorted(expected, key=lambda item: item["name"], reverse=True)
    assert [item["id"] for item in reply.json["data"]] == [item["id"] for item in expected[:5]]
    assert reply.json["pagination"] == {
        "total": len(files),
        "offset": 0,
        "limit": 5,
        "previous": None,
        "next": 5,
    }
    users = await api.get(STORAGE + "/users", integration=integration, params={"sort": "emailAddress"})
    emails = [user["emailAddress"] for user in users.json["data"]]
    assert emails == sorted(emails)


# ---- folders and files ------------------------------------------------------------------------------------


async def test_a_created_folder_and_file_are_listed_and_found(api: Api) -> None:
    integration = api.integration("storage", "google_drive")
    parent = await api.first(FOLDERS, integration)
    folder = await api.post(
        FOLDERS, integration=integration, json={"name": "Evidence", "parents": [parent["id"]]}
    )
    assert folder.status == 201, folder.text
    body = {"name": "a.pdf", "mimeType": "application/pdf", "size": "10", "parents": [folder.json["id"]]}
    created = await api.post(FILES, integration=integration, json=body)
    assert created.status == 201, created.text
    file = created.json
    assert file["fileUrl"] == f"https://drive.google.com/file/d/{file['id']}/view"
    assert (await api.get(f"{FILES}/{file['id']}", integration=integration)).json == file
    assert file["id"] in [item["id"] for item in await everything(api, FILES, integration)]
    versions = await api.get(f"{FILES}/{file['id']}/versions", integration=integration)
    assert [(v["id"], v["size"]) for v in versions.json["data"]] == [("1", "10")]
    without_parents = await api.post(FILES, integration=integration, json={"name": "top.txt"})
    first_drive = (await api.get(STORAGE + "/drives", integration=integration)).json["data"][0]
    assert without_parents.json["parents"] == [first_drive["id"]]


async def test_a_put_replaces_the_writable_fields(api: Api) -> None:
    integration = api.integration("storage")
    file = await api.first(FILES, integration)
    reply = await api.put(f"{FILES}/{file['id']}", integration=integration, json={"name": "renamed.txt"})
    assert reply.status == 200, reply.text
    after = reply.json
    assert after["name"] == "renamed.txt" and after["parents"] == file["parents"]
    assert after["description"] is None and after["fileUrl"] is None and after["size"] is None
    assert after["changeLog"]["createdDateTime"] == file["changeLog"]["createdDateTime"]
    assert after["changeLog"]["lastUpdatedBy"]["lastName"] == "(API key)"
    missing = await api.put(f"{FILES}/{file['id']}", integration=integration, json={"description": "x"})
    assert (missing.status, missing.error["property"]) == (400, "name")


async def test_folders_move_but_never_into_themselves(api: Api) -> None:
    integration = api.integration("storage")
    folders = await everything(api, FOLDERS, integration)
    by_id = {folder["id"]: folder for folder in folders}
    child = next(folder for folder in folders if folder["parents"][0] in by_id)
    parent = by_id[child["parents"][0]]
    loop = await api.put(
        f"{FOLDERS}/{parent['id']}",
        integration=integration,
        json={"name": parent["name"], "parents": [child["id"]]},
    )
    assert (loop.status, loop.error["property"]) == (400, "parents[0]")
    other = next(folder for folder in folders if folder["id"] not in (child["id"], parent["id"]))
    moved = await api.put(
        f"{FOLDERS}/{child['id']}",
        integration=integration,
        json={"name": child["name"], "parents": [other["id"]]},
    )
    assert moved.status == 200 and moved.json["parents"] == [other["id"]]
    assert moved.json["mimeType"] == child.get("mimeType")  # a folder's type is kept


async def test_deleting_a_folder_deletes_what_it_contains(api: Api) -> None:
    integration = api.integration("storage")
    folders = await everything(api, FOLDERS, integration)
    by_id = {folder["id"]: folder for folder in folders}
    child = next(folder for folder in folders if folder["parents"][0] in by_id)
    top = child["parents"][0]
    below = {top} | {folder["id"] for folder in folders if folder["parents"][0] == top}
    files = await everything(api, FILES, integration)
    inside = [item for item in files if item["parents"][0] in below]
    assert [item for item in inside if item["parents"][0] == child["id"]]
    assert (await api.delete(f"{FOLDERS}/{top}", integration=integration, role="readonly")).status == 403
    assert (await api.delete(f"{FOLDERS}/{top}", integration=integration)).status == 204
    for gone in (f"{FOLDERS}/{top}", f"{FOLDERS}/{child['id']}", f"{FILES}/{inside[0]['id']}"):
        assert (await api.get(gone, integration=integration)).status == 404, gone
    remaining = {item["id"] for item in await everything(api, FILES, integration)}
    assert remaining == {item["id"] for item in files} - {item["id"] for item in inside}
    left = {folder["id"] for folder in await everything(api, FOLDERS, integration)}
    assert left == set(by_id) - below
    again = await api.delete(f"{FOLDERS}/{top}", integration=integration)
    assert (again.status, again.error["errorCode"]) == (404, "AP-4040001")


async def test_deletes_need_the_delete_permission(api: Api) -> None:
    integration = api.integration("storage")
    file = await api.first(FILES, integration)
    created = await api.post(
        "/api/v1/apiKeys", json={"name": "rw", "permissions": {"storage": ["read", "write"]}}
    )
    key = created.json["key"]
    refused = await api.delete(f"{FILES}/{file['id']}", integration=integration, role=None, key=key)
    assert refused.status == 403 and "storage:delete" in refused.error["errorMessage"]
    assert (await api.get(f"{FILES}/{file['id']}", integration=integration)).status == 200


@pytest.mark.parametrize(
    ("body", "property"),
    [
        ({}, "name"),
        ({"name": " "}, "name"),
        ({"name": "x", "size": "12 KB"}, "size"),
        ({"name": "x", "size": 12}, "size"),
        ({"name": "x", "mimeType": "pdf"}, "mimeType"),
        ({"name": "x", "fileUrl": "ftp://files/x"}, "fileUrl"),
        ({"name": "x", "parents": []}, "parents"),
        ({"name": "x", "parents": ["nowhere"]}, "parents[0]"),
        ({"name": "x", "content": "abc"}, "content"),
    ],
)
async def test_file_bodies_are_validated(api: Api, body: dict[str, Any], property: str) -> None:
    reply = await api.post(FILES, integration=api.integration("storage"), json=body)
    assert (reply.status, reply.error["property"]) == (400, property), reply.text


# ---- permissions and comments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "property"),
    [
        ({"userRole": "writer", "userType": "user", "emailAddress": "new.person@example.com"}, 201, None),
        ({"userRole": "reader", "userType": "domain", "emailAddress": "example.com"}, 201, None),
        ({"userRole": "reader", "userType": "anyone"}, 201, None),
        ({"userRole": "admin", "userType": "user", "emailAddress": "a@example.com"}, 400, "userRole"),
        ({"userRole": "reader", "userType": "robot", "emailAddress": "a@example.com"}, 400, "userType"),
        ({"userRole": "reader", "userType": "user"}, 400, "emailAddress"),
        ({"userRole": "reader", "userType": "user", "emailAddress": "not-an-email"}, 400, "emailAddress"),
        ({"userRole": "reader", "userType": "anyone", "emailAddress": "a@example.com"}, 400, "emailAddress"),
    ],
)
async def test_permissions_are_validated(
    api: Api, body: dict[str, Any], status: int, property: str | None
) -> None:
    integration = api.integration("storage")
    file = await api.first(FILES, integration)
    reply = await api.post(f"{FILES}/{file['id']}/permissions", integration=integration, json=body)
    assert reply.status == status, reply.text
    if property is not None:
        assert reply.error["property"] == property


async def test_a_permission_is_granted_once_and_removed(api: Api) -> None:
    integration = api.integration("storage")
    file = await api.first(FILES, integration)
    path = f"{FILES}/{file['id']}/permissions"
    body = {"userRole": "reader", "userType": "user", "emailAddress": "Guest@Example.com"}
    granted = (await api.post(path, integration=integration, json=body)).json
    again = await api.post(path, integration=integration, json={**body, "emailAddress": "guest@example.com"})
    assert (again.status, again.error["property"]) == (400, "emailAddress")
    assert (await api.delete(f"{path}/{granted['id']}", integration=integration)).status == 204
    listed = await api.get(path, integration=integration)
    assert granted["id"] not in [item["id"] for item in listed.json["data"]]


async def test_comments_are_created_edited_and_deleted(api: Api) -> None:
    integration = api.integration("storage")
    file = await api.first(FILES, integration)
    path = f"{FILES}/{file['id']}/comments"
    created = (await api.post(path, integration=integration, json={"content": "first"})).json
    assert created["username"] == "demo-full"
    edited = await api.put(f"{path}/{created['id']}", integration=integration, json={"content": "second"})
    assert edited.status == 200 and (edited.json["content"], edited.json.get("username")) == ("second", None)
    empty = await api.put(f"{path}/{created['id']}", integration=integration, json={"username": "x"})
    assert (empty.status, empty.error["property"]) == (400, "content")
    assert (await api.delete(f"{path}/{created['id']}", integration=integration)).status == 204
    assert (await api.get(f"{path}/{created['id']}", integration=integration)).status == 404


# ---- persistence ------------------------------------------------------------------------------------------


async def test_writes_and_deletes_survive_a_restart(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        async with open_client(handle) as api:
            integration = api.integration("storage")
            doomed = await api.first(FILES, integration)
            created = (await api.post(FOLDERS, integration=integration, json={"name": "Kept"})).json
            assert (await api.delete(f"{FILES}/{doomed['id']}", integration=integration)).status == 204
        handle.restart()
        async with open_client(handle) as api:
            assert (await api.get(f"{FOLDERS}/{created['id']}", integration=integration)).json[
                "name"
            ] == "Kept"
            assert (await api.get(f"{FILES}/{doomed['id']}", integration=integration)).status == 404
        handle.reset()
        async with open_client(handle) as api:
            assert (await api.get(f"{FILES}/{doomed['id']}", integration=integration)).status == 200
