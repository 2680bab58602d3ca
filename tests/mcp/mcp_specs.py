"""Test-only service declarations of two fictional services, for tests that never reach an API.

`widgets` (items and their parts) and `gadgets` (groups, shelves, gadgets, a write and a multipart
upload) have the shapes of real services but are neither installed nor emulated by the sandbox: tests
that serve real calls pick installed services by shape (servicekit), never these.
"""

from __future__ import annotations

from unizo_mcp_core.spec import (
    Param,
    Permission,
    ServiceSpec,
    ToolSpec,
    body_param,
    get_tool,
    list_tool,
    path_param,
)

ITEM_ID = path_param("item_id", "Item id.")
GROUP_ID = path_param("group_id", "Group id.")
SHELF_ID = path_param("shelf_id", "Shelf id.")
GADGET_ID = path_param("gadget_id", "Gadget id.")
GADGETS_PATH = "/gadgets/{group_id}/shelves/{shelf_id}/gadgets"

WIDGETS = ServiceSpec(
    name="widgets",
    title="Widgets",
    description="Items and their parts from widget tools.",
    tools=(
        list_tool("widgets_list_items", "List items.", "/widgets/items"),
        get_tool("widgets_get_item", "Get one item.", "/widgets/items/{item_id}", ITEM_ID),
        list_tool(
            "widgets_list_item_parts", "List an item's parts.", "/widgets/items/{item_id}/parts", ITEM_ID
        ),
    ),
    package="unizo-mcp-testwidgets",
    version="9.9.1",
)

CREATE_GADGET = ToolSpec(
    "gadgets_create_gadget",
    "Create a gadget.",
    "POST",
    GADGETS_PATH,
    Permission.WRITE,
    (
        GROUP_ID,
        SHELF_ID,
        body_param("name", "string", "Title.", required=True, min_length=1, max_length=200),
        body_param("description", "string", "Body text.", required=True),
        body_param(
            "type",
            "string",
            "Kind of gadget.",
            required=True,
            enum=("bug", "feature", "task", "security", "enhancement"),
        ),
        body_param("priority", "string", "Priority.", enum=("low", "medium", "high", "critical")),
        body_param("assignee_ids", "array", "User ids.", items="string", max_items=10),
        body_param("due_date", "string", "Due date (ISO 8601)."),
    ),
    title="Create gadget",
)

ADD_ATTACHMENT = ToolSpec(
    "gadgets_add_attachment",
    "Attach a file to a gadget.",
    "POST",
    GADGETS_PATH + "/{gadget_id}/attachments",
    Permission.WRITE,
    (
        GROUP_ID,
        SHELF_ID,
        GADGET_ID,
        Param("file", "string", "File content, base64.", location="file", required=True, base64=True),
        body_param("file_name", "string", "File name.", required=True, min_length=1),
        body_param("mime_type", "string", "MIME type."),
        body_param("description", "string", "What the file is."),
    ),
    body_format="multipart",
)

GADGETS = ServiceSpec(
    name="gadgets",
    title="Gadgets",
    description="Gadgets, their shelves and attachments in gadget tools.",
    tools=(
        list_tool("gadgets_list_groups", "List groups.", "/gadgets/groups"),
        list_tool("gadgets_list_shelves", "List shelves.", "/gadgets/{group_id}/shelves", GROUP_ID),
        list_tool("gadgets_list_gadgets", "List gadgets of a shelf.", GADGETS_PATH, GROUP_ID, SHELF_ID),
        get_tool(
            "gadgets_get_gadget",
            "Get one gadget.",
            GADGETS_PATH + "/{gadget_id}",
            GROUP_ID,
            SHELF_ID,
            GADGET_ID,
        ),
        CREATE_GADGET,
        ADD_ATTACHMENT,
    ),
    package="unizo-mcp-testgadgets",
    version="9.9.2",
)

# A delete tool for pure policy tests.
DELETE_TOOL = ToolSpec(
    "gadgets_delete_label", "Delete a label.", "DELETE", "/x/{label_id}", Permission.DELETE
)
