"""What real MCP clients and models send, and what they are told back.

Found driving the servers from Claude Code, fast-agent, the Inspector CLI and mcp-cli: missing-argument
errors repeated their clause per argument, type errors used Python names, and models send ids as numbers
and enum values capitalised. Ids as numbers and enums in another case are accepted (sent in the declared
form); everything else stays strict.
"""

from __future__ import annotations

from typing import Any

from mcp import Client
from unizo_mcp_core.responses import KeyInfo
from unizo_mcp_core.server import prepare_server
from unizo_mcp_core.settings import load_settings
from unizo_mcp_core.spec import Permission, ServiceSpec, ToolSpec, body_param, get_tool, list_tool, path_param

KEY = "uz_prod_0123abcd_" + "K" * 32
GADGET = path_param("gadget_id")
PART = path_param("part_id")
WIDGETS = ServiceSpec(
    name="widgets",
    title="Widgets",
    description="Gadgets and their parts.",
    tools=(
        list_tool("widgets_list_gadgets", "List gadgets.", "/widgets/gadgets"),
        get_tool(
            "widgets_get_part",
            "Get one part of a gadget.",
            "/widgets/gadgets/{gadget_id}/parts/{part_id}",
            GADGET,
            PART,
        ),
        ToolSpec(
            "widgets_create_gadget",
            "Create a gadget.",
            "POST",
            "/widgets/gadgets",
            Permission.WRITE,
            (
                body_param("name", "string", "", required=True),
                body_param("kind", "string", "", required=True, enum=("task", "bug")),
                body_param("owner_id", "string", ""),
            ),
        ),
    ),
    package="unizo-mcp-widgets",
    version="0.0.1",
)


class RecordingClient:
    """Answers every request with an empty page and remembers what was sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def verify_key(self, category: str | None = None) -> KeyInfo:
        return KeyInfo(
            valid=True, permissions={s: frozenset({"read", "write"}) for s in ("widgets", "store")}
        )

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        self.sent.append({"method": method, "path": path, **kw})

        class Answer:
            status, headers, correlation_id = 200, {}, None
            data = {"data": {"id": "x"}}

        return Answer()

    async def close(self) -> None:
        pass


async def _call(tool: str, args: dict[str, Any]) -> tuple[Any, RecordingClient]:
    client = RecordingClient()
    settings = load_settings(None, {"UNIZO_API_KEY": KEY, "UNIZO_INTEGRATION_ID": "int-1"})
    server = await prepare_server(settings, [WIDGETS], client=client)  # type: ignore[arg-type]
    async with Client(server.mcp) as session:
        result = await session.call_tool(tool, args)
    return result, client


def _text(result: Any) -> str:
    return result.content[0].text


async def test_missing_arguments_are_named_once() -> None:
    result, client = await _call("widgets_get_part", {})
    text = _text(result)
    assert result.is_error and text.count("missing required argument") == 1, text
    assert "'gadget_id', 'part_id'" in text
    assert client.sent == []


async def test_type_errors_use_json_names() -> None:
    result, _ = await _call("widgets_list_gadgets", {"limit": None, "offset": "ten"})
    text = _text(result)
    assert "limit: expected integer, got null" in text
    assert 'offset: expected integer, got string "ten"' in text
    assert "NoneType" not in text and " str " not in text


async def test_ids_sent_as_numbers_are_accepted_as_their_decimal_string() -> None:
    result, client = await _call("widgets_get_part", {"gadget_id": 67780, "part_id": 12})
    assert not result.is_error, _text(result)
    assert client.sent[0]["path"] == "/widgets/gadgets/67780/parts/12"


async def test_enum_values_in_another_case_are_sent_in_the_declared_case() -> None:
    result, client = await _call("widgets_create_gadget", {"name": "n", "kind": "Task", "owner_id": 7})
    assert not result.is_error, _text(result)
    assert client.sent[0]["json"] == {"name": "n", "kind": "task", "ownerId": "7"}


async def test_everything_else_stays_strict() -> None:
    for args in ({"name": 5, "kind": "task"}, {"name": "n", "kind": "feature"}, {"name": "n", "kind": True}):
        result, client = await _call("widgets_create_gadget", args)
        assert result.is_error and "invalid arguments" in _text(result), args
        assert client.sent == []


# --- parent ids the server picks when only one exists -----------------------------------------------

SHELF = path_param("shelf_id", resolvable=True)
BOX = path_param("box_id", resolvable=True)
STORE = ServiceSpec(
    name="store",
    title="Store",
    description="Shelves, boxes, items.",
    tools=(
        list_tool("store_list_shelves", "List shelves.", "/store/shelves"),
        get_tool("store_get_shelf", "Get one shelf.", "/store/shelves/{shelf_id}", SHELF),
        list_tool("store_list_boxes", "List boxes.", "/store/{shelf_id}/boxes", SHELF),
        get_tool("store_get_box", "Get one box.", "/store/{shelf_id}/boxes/{box_id}", SHELF, BOX),
        list_tool("store_list_items", "List items.", "/store/{shelf_id}/boxes/{box_id}/items", SHELF, BOX),
    ),
    package="unizo-mcp-store",
    version="0.0.1",
)


class ShelfClient(RecordingClient):
    def __init__(self, shelves: int, boxes: int) -> None:
        super().__init__()
        self.counts = {"/store/shelves": shelves, "/boxes": boxes}

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        self.sent.append({"method": method, "path": path, **kw})
        count = next((n for suffix, n in self.counts.items() if path.endswith(suffix)), 1)

        class Answer:
            status, headers, correlation_id = 200, {}, None
            data = {
                "data": [{"id": f"id-{i}", "name": f"n{i}"} for i in range(count)],
                "pagination": {"total": count},
            }

        return Answer()


async def _list_items(shelves: int, boxes: int, args: dict[str, Any]) -> tuple[Any, ShelfClient]:
    client = ShelfClient(shelves, boxes)
    settings = load_settings(None, {"UNIZO_API_KEY": KEY, "UNIZO_INTEGRATION_ID": "int-1"})
    server = await prepare_server(settings, [STORE], client=client)  # type: ignore[arg-type]
    async with Client(server.mcp) as session:
        assert "required" not in next(
            t.input_schema for t in (await session.list_tools()).tools if t.name == "store_list_items"
        )
        result = await session.call_tool("store_list_items", args)
        await session.call_tool("store_list_items", args)  # the parents are cached
    return result, client


async def test_the_only_parents_are_picked_and_cached() -> None:
    result, client = await _list_items(1, 1, {})
    assert not result.is_error, _text(result)
    paths = [c["path"] for c in client.sent]
    assert paths == [
        "/store/shelves",
        "/store/id-0/boxes",
        "/store/id-0/boxes/id-0/items",
        "/store/id-0/boxes/id-0/items",
    ]


async def test_several_parents_are_listed_for_the_model_to_choose() -> None:
    result, client = await _list_items(1, 3, {})
    text = _text(result)
    assert result.is_error and "box_id is required: this integration has 3 (box)" in text, text
    assert "id-0 (n0); id-1 (n1); id-2 (n2)" in text
    assert not [c for c in client.sent if c["path"].endswith("/items")]
    given, _ = await _list_items(2, 3, {"shelf_id": "s", "box_id": "b"})
    assert not given.is_error
