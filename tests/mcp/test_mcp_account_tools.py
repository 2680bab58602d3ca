"""Account-level tools (an administration service): no integration_id, no discovery tools, JSON-Patch
bodies, write-only secrets, the integrations search across categories, and honest hints on overwrites
and deletes."""

from __future__ import annotations

from typing import Any

from mcp import Client
from unizo_mcp_core.responses import KeyInfo
from unizo_mcp_core.schema import input_schema
from unizo_mcp_core.server import prepare_server
from unizo_mcp_core.settings import load_settings
from unizo_mcp_core.spec import Param, Permission, ServiceSpec, ToolSpec, body_param, path_param
from unizo_testkit import mcp_hints

KEY = "uz_prod_0123abcd_" + "A" * 32
SECRET = "whsec-Never-Show-Me-4242"
HOOK = path_param("hook_id")
ADMIN = ServiceSpec(
    name="admin",
    title="Admin",
    description="Account hooks.",
    discovery=False,
    tools=(
        ToolSpec(
            "admin_create_hook",
            "Create a hook.",
            "POST",
            "/hooks",
            Permission.WRITE,
            (body_param("url", "string", "", required=True), body_param("secret", "string", "", secret=True)),
            integration=False,
        ),
        ToolSpec(
            "admin_update_hook",
            "Change a hook with JSON-Patch operations.",
            "PATCH",
            "/hooks/{hook_id}",
            Permission.WRITE,
            (
                HOOK,
                Param(
                    "operations",
                    "array",
                    "",
                    location="body",
                    required=True,
                    items="object",
                    as_body=True,
                ),
            ),
            integration=False,
        ),
        ToolSpec(
            "admin_replace_hook",
            "Replace a hook.",
            "PUT",
            "/hooks/{hook_id}",
            Permission.WRITE,
            (HOOK, body_param("url", "string", "", required=True)),
            integration=False,
            overwrites=True,
        ),
        ToolSpec(
            "admin_delete_hook",
            "Delete a hook.",
            "DELETE",
            "/hooks/{hook_id}",
            Permission.DELETE,
            (HOOK,),
            integration=False,
        ),
        ToolSpec(
            "admin_search_integrations",
            "Find integrations of any category.",
            "POST",
            "/integrations/search",
            Permission.READ,
            (
                Param("category", "string", ""),
                Param("connector", "string", ""),
                Param("offset", "integer", "", default=0, minimum=0),
                Param("limit", "integer", "", default=20, minimum=1, maximum=100),
            ),
            handler="search",
        ),
    ),
    package="unizo-mcp-admin",
    version="0.0.1",
)


class EchoClient:
    """Echoes every request body back as the record; answers searches with two categories."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def verify_key(self, category: str | None = None) -> KeyInfo:
        return KeyInfo(valid=True)

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        self.sent.append({"method": method, "path": path, **kw})
        return _answer({"data": kw.get("json") or {}})

    async def search_integrations(self, category: str | None, **kw: Any) -> Any:
        self.sent.append({"search": category, **kw})
        items = [
            {"id": "i1", "name": "Hooks A", "type": "WIDGETS", "serviceProfile": {"name": "Vendor-A"}},
            {"id": "i2", "name": "Hooks B", "type": "GADGETS", "serviceProfile": {"name": "vendor-b"}},
        ]
        return _answer({"data": items, "pagination": {"total": 2, "next": None}})

    async def close(self) -> None:
        pass


def _answer(data: Any) -> Any:
    class Answer:
        status, headers, correlation_id = 200, {}, None

    Answer.data = data  # type: ignore[attr-defined]
    return Answer()


async def _call(tool: str, args: dict[str, Any]) -> tuple[Any, EchoClient]:
    client = EchoClient()
    settings = load_settings(None, {"UNIZO_API_KEY": KEY})
    server = await prepare_server(settings, [ADMIN], client=client)  # type: ignore[arg-type]
    async with Client(server.mcp) as session:
        listed = {t.name for t in (await session.list_tools()).tools}
        assert listed == {t.name for t in ADMIN.tools}, "no discovery tools for an account-level service"
        result = await session.call_tool(tool, args)
    return result, client


def test_account_tools_take_no_integration_id() -> None:
    for tool in ADMIN.tools:
        assert "integration_id" not in input_schema(tool)["properties"], tool.name


async def test_a_json_patch_list_is_the_whole_body() -> None:
    patch = [{"op": "replace", "path": "/url", "value": "https://hooks.example/new"}]
    result, client = await _call("admin_update_hook", {"hook_id": "h1", "operations": patch})
    assert not result.is_error, result.content
    assert client.sent[0]["json"] == patch and client.sent[0]["integration_id"] is None


async def test_a_secret_is_never_shown_again() -> None:
    result, client = await _call("admin_create_hook", {"url": "https://hooks.example", "secret": SECRET})
    assert client.sent[0]["json"]["secret"] == SECRET  # sent to the API, once
    shown = result.content[0].text + str(result.structured_content)
    assert SECRET not in shown and "[REDACTED]" in shown


async def test_search_spans_categories() -> None:
    result, client = await _call("admin_search_integrations", {"connector": "Vendor-A"})
    assert not result.is_error, result.content
    assert client.sent[0]["search"] is None and client.sent[0]["connector"] == "vendor-a"
    assert result.structured_content["data"] == [
        {"id": "i1", "name": "Hooks A", "type": "WIDGETS", "connector": "vendor-a"},
        {"id": "i2", "name": "Hooks B", "type": "GADGETS", "connector": "vendor-b"},
    ]


def test_hints_are_destructive_only_for_deletes_and_overwrites() -> None:
    hints = {tool.name: mcp_hints(tool.annotations) for tool in ADMIN.tools}
    assert hints["admin_delete_hook"]["destructiveHint"] is True
    assert hints["admin_replace_hook"]["destructiveHint"] is True
    assert hints["admin_update_hook"]["destructiveHint"] is False
    assert hints["admin_create_hook"]["destructiveHint"] is False
    assert hints["admin_search_integrations"]["readOnlyHint"] is True
