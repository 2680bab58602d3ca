"""The file storage tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import (
    Fields,
    Method,
    Param,
    Permission,
    ServiceSpec,
    ToolSpec,
    body_param,
    get_tool,
    list_tool,
    path_param,
)

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
DRIVE = Fields(summary=("id", "name"), more=("driveUrl", "changeLog"))
FOLDER = Fields(
    summary=("id", "name", "parents"), more=("description", "size", "mimeType", "folderUrl", "changeLog")
)
FILE = Fields(
    summary=("id", "name", "mimeType", "size", "parents"), more=("description", "fileUrl", "changeLog")
)
USER = Fields(summary=("id", "name", "emailAddress"), more=("status", "isAdmin", "changeLog"))
GROUP = Fields(summary=("id", "name", "membersCount"), more=("description", "emailAddress", "changeLog"))
VERSION = Fields(
    summary=("id", "username", "size", "created=changeLog.createdDateTime"), more=("mimeType", "changeLog")
)
PERMISSION = Fields(summary=("id", "userRole", "userType", "emailAddress"), more=("changeLog",))
COMMENT = Fields(
    summary=("id", "username", "content", "updated=changeLog.lastUpdatedDateTime"), more=("changeLog",)
)

FOLDERS = "/storage/folders"
FOLDER_PATH = FOLDERS + "/{folder_id}"
FILES = "/storage/files"
FILE_PATH = FILES + "/{file_id}"
PERMISSIONS = FILE_PATH + "/permissions"
COMMENTS = FILE_PATH + "/comments"

# Ids need no description: each comes from the list tool of the same name (storage_list_files...).
FOLDER_ID = path_param("folder_id")
FILE_ID = path_param("file_id")
PERMISSION_ID = path_param("permission_id")
COMMENT_ID = path_param("comment_id")

PARENTS = "Folder or drive ids; the first drive when left out."
USER_ROLES = ("reader", "commenter", "writer", "owner")
USER_TYPES = ("user", "group", "domain", "anyone")


def _item_fields(url: str, *, create: bool, mime_type: bool) -> tuple[Param, ...]:
    """A folder's or file's metadata: `name` required on create; on update every field is optional (the
    record is read first and sent whole, so fields not given keep their values)."""
    need = {"required": True} if create else {}
    return (
        body_param("name", "string", "", **need),
        body_param("description", "string", ""),
        body_param("size", "string", "Bytes, as digits.", pattern=r"^\d+$"),
        *((body_param("mime_type", "string", ""),) if mime_type else ()),
        body_param(url, "string", "Link to the content." if url == "file_url" else ""),
        body_param(
            "parents", "array", PARENTS if create else "Folder or drive ids: moves it.", items="string"
        ),
    )


def _write(
    name: str, description: str, method: Method, path: str, *params: Param, read_before_write: bool = False
) -> ToolSpec:
    return ToolSpec(
        name, description, method, path, Permission.WRITE, params, read_before_write=read_before_write
    )


def _delete(name: str, description: str, path: str, *params: Param) -> ToolSpec:
    return ToolSpec(name, description, "DELETE", path, Permission.DELETE, params)


SERVICE = ServiceSpec(
    name="storage",
    title="File storage",
    description=(
        "File storage through Unizo: drives, folders and files of a cloud storage vendor, with each file's "
        "versions, sharing permissions and comments, and the vendor's users and groups. Folders, files, "
        "permissions and comments can be created, changed and deleted."
    ),
    package="unizo-mcp-storage",
    version=__version__,
    connectors=("google_drive", "dropbox", "onedrive", "box"),
    tools=(
        list_tool(
            "storage_list_drives",
            "List the drives (shared drives, team spaces).",
            "/storage/drives",
            fields=DRIVE,
        ),
        get_tool(
            "storage_get_drive_details",
            "Get one drive.",
            "/storage/drives/{drive_id}",
            path_param("drive_id"),
        ),
        list_tool(
            "storage_list_folders",
            "List folders; parents names where each one lives.",
            FOLDERS,
            fields=FOLDER,
        ),
        get_tool("storage_get_folder_details", "Get one folder.", FOLDER_PATH, FOLDER_ID),
        _write(
            "storage_create_folder",
            "Create a folder.",
            "POST",
            FOLDERS,
            *_item_fields("folder_url", create=True, mime_type=False),
        ),
        _write(
            "storage_update_folder",
            "Rename, describe or move a folder; fields not given keep their values.",
            "PUT",
            FOLDER_PATH,
            FOLDER_ID,
            *_item_fields("folder_url", create=False, mime_type=False),
            read_before_write=True,
        ),
        _delete("storage_delete_folder", "Delete a folder and everything in it.", FOLDER_PATH, FOLDER_ID),
        list_tool(
            "storage_list_files",
            "List files (name, type, size, parent folder).",
            FILES,
            fields=FILE,
        ),
        get_tool("storage_get_file_details", "Get one file with its link and history.", FILE_PATH, FILE_ID),
        _write(
            "storage_create_file",
            "Create a file from a link to its content.",
            "POST",
            FILES,
            *_item_fields("file_url", create=True, mime_type=True),
        ),
        _write(
            "storage_update_file",
            "Change a file's metadata or content link; fields not given keep their values.",
            "PUT",
            FILE_PATH,
            FILE_ID,
            *_item_fields("file_url", create=False, mime_type=True),
            read_before_write=True,
        ),
        _delete(
            "storage_delete_file",
            "Delete a file with its versions, permissions and comments.",
            FILE_PATH,
            FILE_ID,
        ),
        list_tool("storage_list_users", "List the storage vendor's users.", "/storage/users", fields=USER),
        get_tool(
            "storage_get_user_details",
            "Get one user.",
            "/storage/users/{user_id}",
            path_param("user_id"),
        ),
        list_tool("storage_list_groups", "List the user groups.", "/storage/groups", fields=GROUP),
        get_tool(
            "storage_get_group_details",
            "Get one group.",
            "/storage/groups/{group_id}",
            path_param("group_id"),
        ),
        list_tool(
            "storage_list_versions",
            "List a file's versions, oldest first.",
            FILE_PATH + "/versions",
            FILE_ID,
            fields=VERSION,
        ),
        get_tool(
            "storage_get_version_details",
            "Get one version of a file.",
            FILE_PATH + "/versions/{version_id}",
            FILE_ID,
            path_param("version_id"),
        ),
        list_tool(
            "storage_list_permissions",
            "List who may access a file, and how.",
            PERMISSIONS,
            FILE_ID,
            fields=PERMISSION,
        ),
        get_tool(
            "storage_get_permission_details",
            "Get one permission of a file.",
            PERMISSIONS + "/{permission_id}",
            FILE_ID,
            PERMISSION_ID,
        ),
        _write(
            "storage_add_permission",
            "Share a file with a user, group, domain or anyone.",
            "POST",
            PERMISSIONS,
            FILE_ID,
            body_param("user_role", "string", "", required=True, enum=USER_ROLES),
            body_param("user_type", "string", "", enum=USER_TYPES, default="user"),
            body_param("email_address", "string", "For domain, a domain name; none for anyone."),
        ),
        _delete(
            "storage_delete_permission",
            "Remove one permission from a file.",
            PERMISSIONS + "/{permission_id}",
            FILE_ID,
            PERMISSION_ID,
        ),
        list_tool(
            "storage_list_comments",
            "List the comments on a file.",
            COMMENTS,
            FILE_ID,
            fields=COMMENT,
        ),
        get_tool(
            "storage_get_comment_details",
            "Get one comment on a file.",
            COMMENTS + "/{comment_id}",
            FILE_ID,
            COMMENT_ID,
        ),
        _write(
            "storage_create_comment",
            "Comment on a file.",
            "POST",
            COMMENTS,
            FILE_ID,
            body_param("content", "string", "", required=True),
            body_param("username", "string", "Author shown; the key's name when left out."),
        ),
        _write(
            "storage_update_comment",
            "Edit a comment; fields not given keep their values.",
            "PUT",
            COMMENTS + "/{comment_id}",
            FILE_ID,
            COMMENT_ID,
            body_param("content", "string", ""),
            body_param("username", "string", ""),
            read_before_write=True,
        ),
        _delete(
            "storage_delete_comment",
            "Delete a comment.",
            COMMENTS + "/{comment_id}",
            FILE_ID,
            COMMENT_ID,
        ),
    ),
)
