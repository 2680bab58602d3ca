"""File storage: drives, users and groups (read); folders and files (read, create, update, delete), and each
file's versions (read), permissions (read, add, delete) and comments (read, create, update, delete).

Google Drive integrations look like Google Drive (`1Xy...` ids, shared drives, `drive.google.com` URLs);
Dropbox ones like Dropbox (`id:...` ids, team folders, `dropbox.com` URLs). Folders and files are flat lists,
as Unizo serves them: `parents` names the folder (or, at the top, the drive) each one lives in.

Updates are PUTs that replace a record's writable fields (ours): a field left out is cleared, `name` (or a
comment's `content`) is required, a folder or file keeps its `parents` unless they are given. Deleting a
folder deletes what it contains; deleting a file, its versions, permissions and comments with it.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.context import caller, sandbox_of
from unizo_mcp_sandbox.data.common import Gen, Record, Scope, Tables, change_log, slug
from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.resources import Resource, Route, locate, locate_item
from unizo_mcp_sandbox.routes.common import record_response
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import iso
from unizo_mcp_sandbox.validation import Field, json_body, one_of, text, text_list, validate

if TYPE_CHECKING:
    from unizo_mcp_sandbox.sandbox import Sandbox

GOOGLE = "google_drive"
DROPBOX = "dropbox"
USERS_PER_INTEGRATION = 30
FILES_PER_FOLDER = (3, 7)
ID_ALPHABET = string.ascii_letters + string.digits + "_-"
SIZE = re.compile(r"\d{1,15}")
URL = re.compile(r"https?://[^\s]{1,2040}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,24}")
DOMAIN = re.compile(r"([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}")
FOLDER_MIME = "application/vnd.google-apps.folder"

USER_ROLES = ("reader", "commenter", "writer", "owner")  # ours: Unizo's docstring names reader, writer, owner
USER_TYPES = ("user", "group", "domain", "anyone")  # ours: Unizo's docstring names user and group

DRIVES = {
    GOOGLE: ("My Drive", "Security Operations", "Engineering", "Finance & Legal"),
    DROPBOX: ("Personal", "Team Space", "Security Team", "Vendors"),
}
# (top-level folder, its subfolders) per drive, by the drive's position
FOLDER_TREES = (
    (("Incident Reports", ("2025", "2026")), ("Runbooks", ()), ("Scratch", ())),
    (("Investigations", ("Phishing", "Malware")), ("Threat Intel", ()), ("Playbooks", ())),
    (("Architecture", ("Diagrams",)), ("Postmortems", ()), ("Release Notes", ())),
    (("Audit Evidence", ("SOC 2", "ISO 27001")), ("Vendor Contracts", ()), ("Policies", ())),
)
FILE_KINDS = (
    ("{topic}-timeline.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("{topic}-summary.pdf", "application/pdf"),
    ("{topic}-iocs.csv", "text/csv"),
    ("{topic}-notes.md", "text/markdown"),
    ("{topic}-evidence.zip", "application/zip"),
    ("{topic}-screenshot.png", "image/png"),
    ("{topic}-budget.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("{topic}-deck.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("{topic}.json", "application/json"),
)
TOPICS = (
    "access-review", "phishing-wave", "ransomware-drill", "tls-rotation", "soc2-controls", "vendor-risk",
    "iam-cleanup", "agent-rollout", "backup-restore-test", "pentest-findings", "data-retention", "q3-metrics",
    "oncall-handbook", "cloud-inventory", "dlp-exceptions", "mfa-enforcement",
)  # fmt: skip
GROUP_NAMES = (
    ("Security Team", "security"), ("Engineering", "engineering"), ("Finance", "finance"),
    ("Legal", "legal"), ("IT Helpdesk", "it"), ("Executives", "execs"), ("Auditors", "auditors"),
    ("Contractors", "contractors"),
)  # fmt: skip
COMMENT_TEXTS = (
    "Can you add the timeline from the endpoint console?",
    "Reviewed, looks good to me.",
    "Please redact the customer names before sharing.",
    "Updated the numbers for Q3.",
    "Is this the final version?",
    "Linked this from the incident ticket.",
    "Moving this to the audit folder after sign-off.",
)

DRIVE_SORT_FIELDS = frozenset({"id", "name", "changeLog.createdDateTime", "changeLog.lastUpdatedDateTime"})
ITEM_SORT_FIELDS = frozenset(
    {"id", "name", "size", "mimeType", "changeLog.createdDateTime", "changeLog.lastUpdatedDateTime"}
)
USER_SORT_FIELDS = frozenset({"id", "name", "emailAddress", "status", "isAdmin", "changeLog.createdDateTime"})
GROUP_SORT_FIELDS = frozenset({"id", "name", "emailAddress", "membersCount", "changeLog.createdDateTime"})
VERSION_SORT_FIELDS = frozenset({"id", "username", "size", "mimeType", "changeLog.createdDateTime"})
PERMISSION_SORT_FIELDS = frozenset(
    {"id", "userRole", "userType", "emailAddress", "changeLog.createdDateTime"}
)
COMMENT_SORT_FIELDS = frozenset(
    {"id", "username", "changeLog.createdDateTime", "changeLog.lastUpdatedDateTime"}
)


# ---- seeded data ------------------------------------------------------------------------------------------


def _vendor_id(gen: Gen | None, connector: str) -> str:
    """A Drive id (`1` and 32 URL-safe characters) or a Dropbox one (`id:` and 22)."""

    def draw(count: int) -> str:
        if gen is not None:
            return "".join(gen.rng.choice(ID_ALPHABET) for _ in range(count))
        return "".join(secrets.choice(ID_ALPHABET) for _ in range(count))

    return "1" + draw(32) if connector == GOOGLE else "id:" + draw(22)


def _person(user: Record) -> Record:
    """A changeLog's createdBy, as Unizo's model has it."""
    first, _, last = user["name"].partition(" ")
    return {"id": user["id"], "firstName": first, "lastName": last}


def _user(gen: Gen, connector: str, domain: str) -> Record:
    first, last = gen.person()
    created = gen.past(1100, 90)
    return {
        "id": gen.digits(21) if connector == GOOGLE else "dbid:" + _vendor_id(gen, DROPBOX)[3:],
        "name": f"{first} {last}",
        "emailAddress": f"{first.lower()}.{last.lower()}@{domain}",
        "status": gen.weighted(("active", "suspended", "invited"), (85, 8, 7)),
        "isAdmin": gen.chance(0.1),
        "changeLog": change_log(created, gen.after(created, 400)),
    }


def _group(gen: Gen, connector: str, name: str, alias: str, domain: str) -> Record:
    created = gen.past(1300, 200)
    return {
        "id": gen.hex(15) if connector == GOOGLE else "g:" + gen.hex(16),
        "name": name,
        "description": f"Everyone in {name}",
        "emailAddress": f"{alias}@{domain}",
        "membersCount": gen.number(2, 40),
        "changeLog": change_log(created, gen.after(created, 500)),
    }


def _drive_url(connector: str, drive_id: str, name: str) -> str:
    if connector == GOOGLE:
        return f"https://drive.google.com/drive/folders/{drive_id}"
    return f"https://www.dropbox.com/home/{slug(name)}"


def _folder_url(connector: str, folder_id: str, path: str) -> str:
    if connector == GOOGLE:
        return f"https://drive.google.com/drive/folders/{folder_id}"
    return f"https://www.dropbox.com/home/{path}"


def _file_url(connector: str, file_id: str, path: str) -> str:
    if connector == GOOGLE:
        return f"https://drive.google.com/file/d/{file_id}/view"
    return f"https://www.dropbox.com/preview/{path}"


def _children(
    gen: Gen, connector: str, item: Record, users: list[Record], groups: list[Record]
) -> dict[str, list[Record]]:
    """A file's versions (oldest first, the last one current), permissions (its owner first) and comments."""
    created = gen.past(300, 20)
    size = int(item["size"])
    versions = []
    count = gen.number(1, 4)
    for index in range(count):
        moment = gen.after(created, 10 * (index + 1))
        author = gen.pick(users)
        versions.append(
            {
                "id": str(index + 1) if connector == GOOGLE else gen.hex(12),
                "username": author["name"],
                "size": str(size if index == count - 1 else max(200, size - gen.number(100, size))),
                "mimeType": item["mimeType"],
                "changeLog": change_log(moment, moment, _person(author)),
            }
        )
    owner = gen.pick(users)
    grants = [("owner", "user", owner["emailAddress"], owner)]
    for user in gen.sample([u for u in users if u is not owner], gen.number(0, 2)):
        grants.append((gen.pick(("reader", "commenter", "writer")), "user", user["emailAddress"], owner))
    if gen.chance(0.4):
        group = gen.pick(groups)
        grants.append((gen.pick(("reader", "writer")), "group", group["emailAddress"], owner))
    permissions = [
        {
            "id": (gen.digits(20) if connector == GOOGLE else "sh:" + gen.hex(10)),
            "userRole": role,
            "userType": kind,
            "emailAddress": email,
            "changeLog": change_log(created, created, _person(granted_by)),
        }
        for role, kind, email, granted_by in grants
    ]
    comments = []
    for _ in range(gen.number(0, 4)):
        author = gen.pick(users)
        moment = gen.after(created, 60)
        comments.append(
            {
                "id": gen.hex(20) if connector == GOOGLE else "cm:" + gen.hex(12),
                "content": gen.pick(COMMENT_TEXTS),
                "username": author["name"],
                "changeLog": change_log(moment, gen.after(moment, 3), _person(author)),
            }
        )
    return {"versions": versions, "permissions": permissions, "comments": comments}


def generate(gen: Gen, integration: Record, owner: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    scope = (integration["id"],)
    domain = f"{slug(owner.name)}.com"
    users = [_user(gen, connector, domain) for _ in range(USERS_PER_INTEGRATION)]
    groups = [_group(gen, connector, name, alias, domain) for name, alias in GROUP_NAMES]
    drives: list[Record] = []
    folders: list[Record] = []
    files: list[Record] = []
    for position, drive_name in enumerate(DRIVES[connector]):
        created = gen.past(1500, 400)
        drive_id = ("0A" + _vendor_id(gen, GOOGLE)[2:20]) if connector == GOOGLE else gen.digits(10)
        creator = gen.pick(users)
        drives.append(
            {
                "id": drive_id,
                "name": drive_name,
                "driveUrl": _drive_url(connector, drive_id, drive_name),
                "changeLog": change_log(created, gen.after(created, 900), _person(creator)),
            }
        )
        for top, subfolders in FOLDER_TREES[position]:
            parent = _folder(gen, connector, top, drive_id, slug(drive_name), users, folders)
            leaves = [parent] + [
                _folder(gen, connector, name, parent["id"], parent["_path"], users, folders)
                for name in subfolders
            ]
            for leaf in leaves:
                for _ in range(gen.number(*FILES_PER_FOLDER)):
                    files.append(_file(gen, connector, leaf, users))
    for item in folders + files:
        item.pop("_path")
    for item in files:
        for kind, records in _children(gen, connector, item, users, groups).items():
            tables[f"storage_{kind}"][(*scope, item["id"])] = records
    tables["storage_drives"][scope] = drives
    tables["storage_folders"][scope] = folders
    tables["storage_files"][scope] = files
    tables["storage_users"][scope] = users
    tables["storage_groups"][scope] = groups


def _folder(
    gen: Gen, connector: str, name: str, parent: str, path: str, users: list[Record], into: list[Record]
) -> Record:
    created = gen.past(900, 200)
    folder_id = _vendor_id(gen, connector)
    here = f"{path}/{slug(name)}"
    folder = {
        "id": folder_id,
        "name": name,
        "description": f"{name} shared with the team",
        "size": str(gen.number(10_000, 900_000_000)),
        "mimeType": FOLDER_MIME if connector == GOOGLE else None,
        "folderUrl": _folder_url(connector, folder_id, here),
        "parents": [parent],
        "changeLog": change_log(created, gen.after(created, 400), _person(gen.pick(users))),
        "_path": here,
    }
    into.append(folder)
    return folder


def _file(gen: Gen, connector: str, folder: Record, users: list[Record]) -> Record:
    pattern, mime_type = gen.pick(FILE_KINDS)
    name = pattern.format(topic=gen.pick(TOPICS))
    created = gen.past(400, 5)
    file_id = _vendor_id(gen, connector)
    return {
        "id": file_id,
        "name": name,
        "description": gen.pick(("", "Draft", "Final", "Shared with auditors", "Do not forward")),
        "size": str(gen.number(2_000, 40_000_000)),
        "mimeType": mime_type,
        "fileUrl": _file_url(connector, file_id, f"{folder['_path']}/{name}"),
        "parents": [folder["id"]],
        "changeLog": change_log(created, gen.after(created, 120), _person(gen.pick(users))),
        "_path": f"{folder['_path']}/{name}",
    }


# ---- endpoints --------------------------------------------------------------------------------------------

DRIVES_RESOURCE = Resource(
    kind="storage_drives",
    path="/storage/drives",
    label="drive",
    sortable=DRIVE_SORT_FIELDS,
    item_param="driveId",
)
FOLDERS = Resource(
    kind="storage_folders",
    path="/storage/folders",
    label="folder",
    sortable=ITEM_SORT_FIELDS,
    item_param="folderId",
)
FILES = Resource(
    kind="storage_files", path="/storage/files", label="file", sortable=ITEM_SORT_FIELDS, item_param="fileId"
)
USERS = Resource(
    kind="storage_users", path="/storage/users", label="user", sortable=USER_SORT_FIELDS, item_param="userId"
)
GROUPS = Resource(
    kind="storage_groups",
    path="/storage/groups",
    label="group",
    sortable=GROUP_SORT_FIELDS,
    item_param="groupId",
)
VERSIONS = Resource(
    kind="storage_versions",
    path="/storage/files/{fileId}/versions",
    label="version",
    sortable=VERSION_SORT_FIELDS,
    item_param="versionId",
    parent=FILES,
)
PERMISSIONS = Resource(
    kind="storage_permissions",
    path="/storage/files/{fileId}/permissions",
    label="permission",
    sortable=PERMISSION_SORT_FIELDS,
    item_param="permissionId",
    parent=FILES,
)
COMMENTS = Resource(
    kind="storage_comments",
    path="/storage/files/{fileId}/comments",
    label="comment",
    sortable=COMMENT_SORT_FIELDS,
    item_param="commentId",
    parent=FILES,
)


def _pattern(regex: re.Pattern[str], what: str, max_length: int) -> Callable[[Any, str], str]:
    def check(value: Any, path: str) -> str:
        if not isinstance(value, str) or len(value) > max_length or not regex.fullmatch(value):
            raise invalid(path, f"{path} must be {what}")
        return value

    return check


def _parents() -> Callable[[Any, str], list[str]]:
    items = text_list(1, text(1, 64))

    def check(value: Any, path: str) -> list[str]:
        parents: list[str] = items(value, path)
        if not parents:
            raise invalid(path, f"{path} must name one folder or drive")
        return parents

    return check


def _item_fields(url_field: str, *, mime_type: bool) -> tuple[Field, ...]:
    return (
        Field("name", text(1, 255), required=True),
        Field("description", text(0, 4000)),
        Field("size", _pattern(SIZE, "a number of bytes, as a string of digits", 15)),
        *(
            (Field("mimeType", _pattern(re.compile(r"[\w.+-]+/[\w.+-]+"), "a MIME type", 255)),)
            if mime_type
            else ()
        ),
        Field(url_field, _pattern(URL, "an http(s) URL", 2048)),
        Field("parents", _parents()),
    )


FOLDER_FIELDS = _item_fields("folderUrl", mime_type=True)
FILE_FIELDS = _item_fields("fileUrl", mime_type=True)
PERMISSION_FIELDS = (
    Field("userRole", one_of(*USER_ROLES), required=True),
    Field("userType", one_of(*USER_TYPES), required=True),
    Field("emailAddress", text(3, 255)),
)
COMMENT_FIELDS = (Field("content", text(1, 10_000), required=True), Field("username", text(1, 255)))


def _now() -> str:
    return iso(time.time())


def _actor(request: web.Request) -> Record:
    key = caller(request)
    return {"id": key.id, "firstName": key.name, "lastName": "(API key)"}


def _stamp(record: Record, request: web.Request, *, created: bool) -> Record:
    now, who = _now(), _actor(request)
    log = {"createdDateTime": now, "createdBy": who} if created else dict(record.get("changeLog") or {})
    log.update({"lastUpdatedDateTime": now, "lastUpdatedBy": who})
    return {**record, "changeLog": log}


def _containers(sandbox: Sandbox, scope: Scope) -> dict[str, Record]:
    """Every drive and folder of the integration: what `parents` may name."""
    found = {drive["id"]: drive for drive in sandbox.records.items("storage_drives", scope)}
    found.update({folder["id"]: folder for folder in sandbox.records.items("storage_folders", scope)})
    return found


def _check_parents(sandbox: Sandbox, scope: Scope, parents: Sequence[str], moving: str | None = None) -> None:
    """Each parent exists; a folder is never moved under itself or one of its descendants."""
    containers = _containers(sandbox, scope)
    for index, parent in enumerate(parents):
        if parent not in containers:
            raise invalid(f"parents[{index}]", f"no folder or drive '{parent}' in this integration")
        if moving is not None:
            seen, current = set(), parent
            while current in containers and current not in seen:
                if current == moving:
                    raise invalid(f"parents[{index}]", "a folder cannot be moved into itself")
                seen.add(current)
                upper = containers[current].get("parents") or []
                current = upper[0] if upper else ""


def _default_parent(sandbox: Sandbox, scope: Scope) -> str:
    """New items without `parents` go to the top of the first drive (My Drive, or Personal)."""
    return str(sandbox.records.items("storage_drives", scope)[0]["id"])


def _new_item(request: web.Request, resource: Resource, fields: dict[str, Any]) -> Record:
    location = locate(request, resource)
    sandbox, scope = sandbox_of(request), location.scope
    connector = location.integration["serviceProfile"]["name"]
    parents = fields.get("parents") or [_default_parent(sandbox, scope)]
    _check_parents(sandbox, scope, parents)
    item_id = _vendor_id(None, connector)
    folder = resource is FOLDERS
    url_field = "folderUrl" if folder else "fileUrl"
    make_url = _folder_url if folder else _file_url
    record: Record = {
        "id": item_id,
        "name": fields["name"],
        "description": fields.get("description", ""),
        "size": fields.get("size", "0"),
        "mimeType": fields.get(
            "mimeType", (FOLDER_MIME if connector == GOOGLE else None) if folder else None
        ),
        url_field: fields.get(url_field) or make_url(connector, item_id, slug(fields["name"])),
        "parents": parents,
    }
    record = _stamp(record, request, created=True)
    sandbox.records.insert(resource.kind, scope, record)
    if not folder:  # a new file has its first version, and its creator owns it
        _add_version(sandbox, (*scope, item_id), record, request, connector)
        owner = {
            "id": secrets.token_hex(10),
            "userRole": "owner",
            "userType": "user",
            "emailAddress": f"{caller(request).name}@api-key.invalid",
            "changeLog": record["changeLog"],
        }
        sandbox.records.insert("storage_permissions", (*scope, item_id), owner)
    sandbox.changed()
    return record


def _add_version(sandbox: Sandbox, scope: Scope, item: Record, request: web.Request, connector: str) -> None:
    """Drive numbers revisions per file; Dropbox names them with a hex `rev`."""
    versions = sandbox.records.items("storage_versions", scope)
    numbers = [int(v["id"]) for v in versions if str(v["id"]).isdigit()]
    version_id = str(max(numbers, default=0) + 1) if connector == GOOGLE else secrets.token_hex(6)
    version = {
        "id": version_id,
        "username": caller(request).name,
        "size": item.get("size"),
        "mimeType": item.get("mimeType"),
        "changeLog": {"createdDateTime": _now(), "lastUpdatedDateTime": _now(), "createdBy": _actor(request)},
    }
    sandbox.records.insert("storage_versions", scope, version)


def _replaced(resource: Resource, before: Record, fields: dict[str, Any]) -> Record:
    """The PUT's record: the writable fields from the body, cleared when left out; `parents` (and a folder's
    `mimeType`) kept unless given."""
    folder = resource is FOLDERS
    cleared = (
        ("description", "size", "folderUrl") if folder else ("description", "size", "mimeType", "fileUrl")
    )
    kept = ("parents", "mimeType") if folder else ("parents",)
    after = {**before, "name": fields["name"]}
    for name in cleared:
        after[name] = fields.get(name)
    for name in kept:
        after[name] = fields.get(name, before.get(name))
    return after


async def create_folder(request: web.Request) -> web.Response:
    fields = validate(await json_body(request), FOLDER_FIELDS)
    return record_response(_new_item(request, FOLDERS, fields), status=201)


async def create_file(request: web.Request) -> web.Response:
    fields = validate(await json_body(request), FILE_FIELDS)
    return record_response(_new_item(request, FILES, fields), status=201)


async def _update_item(
    request: web.Request, resource: Resource, fields_spec: tuple[Field, ...]
) -> web.Response:
    location, before = locate_item(request, resource)
    fields = validate(await json_body(request), fields_spec)
    sandbox = sandbox_of(request)
    if "parents" in fields:
        _check_parents(
            sandbox, location.scope, fields["parents"], before["id"] if resource is FOLDERS else None
        )
    after = _stamp(_replaced(resource, before, fields), request, created=False)
    sandbox.records.replace(resource.kind, location.scope, after)
    content = ("size", "mimeType", "fileUrl")
    if resource is FILES and any(after.get(name) != before.get(name) for name in content):
        connector = location.integration["serviceProfile"]["name"]
        _add_version(sandbox, (*location.scope, before["id"]), after, request, connector)
    sandbox.changed()
    return record_response(after)


async def update_folder(request: web.Request) -> web.Response:
    return await _update_item(request, FOLDERS, FOLDER_FIELDS)


async def update_file(request: web.Request) -> web.Response:
    return await _update_item(request, FILES, FILE_FIELDS)


def _remove_file(sandbox: Sandbox, scope: Scope, file_id: str) -> None:
    sandbox.records.remove("storage_files", scope, file_id)
    for kind in ("storage_versions", "storage_permissions", "storage_comments"):
        for child in sandbox.records.items(kind, (*scope, file_id)):
            sandbox.records.remove(kind, (*scope, file_id), child["id"])


async def delete_folder(request: web.Request) -> web.Response:
    location, folder = locate_item(request, FOLDERS)
    sandbox, scope = sandbox_of(request), location.scope
    doomed = {folder["id"]}
    folders = list(sandbox.records.items("storage_folders", scope))
    grew = True
    while grew:  # every folder below this one
        inside = {f["id"] for f in folders if set(f.get("parents") or []) & doomed}
        grew = not inside <= doomed
        doomed |= inside
    for folder_id in sorted(doomed):
        sandbox.records.remove("storage_folders", scope, folder_id)
    for item in list(sandbox.records.items("storage_files", scope)):
        if set(item.get("parents") or []) & doomed:
            _remove_file(sandbox, scope, item["id"])
    sandbox.changed()
    return web.Response(status=204)


async def delete_file(request: web.Request) -> web.Response:
    location, item = locate_item(request, FILES)
    sandbox = sandbox_of(request)
    _remove_file(sandbox, location.scope, item["id"])
    sandbox.changed()
    return web.Response(status=204)


async def add_permission(request: web.Request) -> web.Response:
    location = locate(request, PERMISSIONS)
    fields = validate(await json_body(request), PERMISSION_FIELDS)
    sandbox = sandbox_of(request)
    email = fields.get("emailAddress")
    if fields["userType"] == "anyone":
        if email is not None:
            raise invalid("emailAddress", "a permission for anyone names no emailAddress")
    elif email is None:
        raise invalid("emailAddress", f"emailAddress is required for userType {fields['userType']}")
    elif not (DOMAIN if fields["userType"] == "domain" else EMAIL).fullmatch(email):
        what = "a domain name" if fields["userType"] == "domain" else "an email address"
        raise invalid("emailAddress", f"emailAddress must be {what} for userType {fields['userType']}")
    else:
        for existing in sandbox.records.items("storage_permissions", location.scope):
            if str(existing.get("emailAddress", "")).lower() == email.lower():
                raise invalid("emailAddress", f"{email} already has a permission on this file")
    connector = location.integration["serviceProfile"]["name"]
    permission = {
        "id": secrets.token_hex(10) if connector == GOOGLE else "sh:" + secrets.token_hex(5),
        "userRole": fields["userRole"],
        "userType": fields["userType"],
        "emailAddress": email,
    }
    permission = _stamp(permission, request, created=True)
    sandbox.records.insert("storage_permissions", location.scope, permission)
    sandbox.changed()
    return record_response(permission, status=201)


async def delete_permission(request: web.Request) -> web.Response:
    location, permission = locate_item(request, PERMISSIONS)
    sandbox = sandbox_of(request)
    sandbox.records.remove("storage_permissions", location.scope, permission["id"])
    sandbox.changed()
    return web.Response(status=204)


async def create_comment(request: web.Request) -> web.Response:
    location = locate(request, COMMENTS)
    fields = validate(await json_body(request), COMMENT_FIELDS)
    sandbox = sandbox_of(request)
    comment = {
        "id": secrets.token_hex(10),
        "content": fields["content"],
        "username": fields.get("username", caller(request).name),
    }
    comment = _stamp(comment, request, created=True)
    sandbox.records.insert("storage_comments", location.scope, comment)
    sandbox.changed()
    return record_response(comment, status=201)


async def update_comment(request: web.Request) -> web.Response:
    location, before = locate_item(request, COMMENTS)
    fields = validate(await json_body(request), COMMENT_FIELDS)
    sandbox = sandbox_of(request)
    after = _stamp(
        {**before, "content": fields["content"], "username": fields.get("username")}, request, created=False
    )
    sandbox.records.replace("storage_comments", location.scope, after)
    sandbox.changed()
    return record_response(after)


async def delete_comment(request: web.Request) -> web.Response:
    location, comment = locate_item(request, COMMENTS)
    sandbox = sandbox_of(request)
    sandbox.records.remove("storage_comments", location.scope, comment["id"])
    sandbox.changed()
    return web.Response(status=204)


FOLDER_ITEM = "/storage/folders/{folderId}"
FILE_ITEM = "/storage/files/{fileId}"

SERVICE = SandboxService(
    name="storage",
    category="STORAGE",
    connectors=((GOOGLE, "Google Drive"), (DROPBOX, "Dropbox")),
    path_prefixes=("storage",),
    generate=generate,
    probe="/storage/drives",
    resources=(DRIVES_RESOURCE, USERS, GROUPS, FOLDERS, FILES, VERSIONS, PERMISSIONS, COMMENTS),
    routes=(
        Route("POST", "/storage/folders", create_folder),
        Route("PUT", FOLDER_ITEM, update_folder),
        Route("DELETE", FOLDER_ITEM, delete_folder),
        Route("POST", "/storage/files", create_file),
        Route("PUT", FILE_ITEM, update_file),
        Route("DELETE", FILE_ITEM, delete_file),
        Route("POST", FILE_ITEM + "/permissions", add_permission),
        Route("DELETE", FILE_ITEM + "/permissions/{permissionId}", delete_permission),
        Route("POST", FILE_ITEM + "/comments", create_comment),
        Route("PUT", FILE_ITEM + "/comments/{commentId}", update_comment),
        Route("DELETE", FILE_ITEM + "/comments/{commentId}", delete_comment),
    ),
)
