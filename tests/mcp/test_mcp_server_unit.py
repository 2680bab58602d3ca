"""Server mechanics that need a misbehaving API: deferred verification, unexpected exceptions."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp_specs import GADGETS, WIDGETS
from unizo_mcp_core.errors import ConnectError
from unizo_mcp_core.responses import KeyInfo
from unizo_mcp_core.server import prepare_server
from unizo_mcp_core.settings import load_settings

KEY = "uz_prod_0123abcd_" + "K" * 32
ONE = {"pagination": {"total": 1, "offset": 0, "limit": 100, "next": None, "previous": None}, "data": []}


class Response:
    def __init__(self, data: Any) -> None:
        self.status, self.data, self.headers, self.correlation_id = 200, data, {}, None


class FlakyClient:
    """Unreachable at first; then a read-only key. Optionally crashes on data calls."""

    def __init__(self, *, crash: bool = False, permissions: dict[str, frozenset[str]] | None = None) -> None:
        self.permissions = permissions or {"gadgets": frozenset({"read"})}
        self.reachable = False
        self.crash = crash
        self.verifications = 0

    async def verify_key(self, category: str | None = None) -> KeyInfo:
        self.verifications += 1
        if not self.reachable:
            raise ConnectError("Cannot connect to https://api.example:443")
        return KeyInfo(
            valid=True,
            name="ro",
            environment="production",
            permissions=self.permissions,
            enabled_services=frozenset({"widgets", "gadgets"}),
        )

    async def request(self, method: str, path: str, **kw: Any) -> Response:
        if self.crash:
            raise RuntimeError(f"internal detail {KEY} at 0xdeadbeef")
        return Response({"data": [{"id": "x", "gone": None}], "pagination": {"next": None, "total": 1}})

    async def close(self) -> None:
        pass


def settings(**extra: str) -> Any:
    return load_settings(None, {"UNIZO_API_KEY": KEY, "UNIZO_INTEGRATION_ID": "int-1", **extra})


async def test_unreachable_api_starts_then_verifies_on_next_contact() -> None:
    client = FlakyClient()
    server = await prepare_server(settings(), [WIDGETS, GADGETS], client=client)  # type: ignore[arg-type]
    async with Client(server.mcp) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        assert "gadgets_create_gadget" in names and "widgets_list_items" in names  # local policy only
        result = await session.call_tool("widgets_list_items", {})
        assert result.is_error
        assert result.content[0].text.startswith(
            "widgets_list_items failed: Cannot connect to https://api.example:443."
        )
        client.reachable = True
        ok = await session.call_tool("gadgets_list_gadgets", {"group_id": "o", "shelf_id": "c"})
        assert not ok.is_error
        assert ok.structured_content == {"data": [{"id": "x"}], "pagination": {"total": 1}}
        # verification completed: the key's permissions now apply to calls
        refused = await session.call_tool(
            "gadgets_create_gadget",
            {"group_id": "o", "shelf_id": "c", "name": "n", "description": "d", "type": "bug"},
        )
        assert refused.is_error
        assert refused.content[0].text == (
            "gadgets_create_gadget is not available: hidden by the API key's permissions: "
            "the key lacks gadgets:write."
        )
        other = await session.call_tool("widgets_list_items", {})
        assert other.is_error and "the key lacks widgets:read" in other.content[0].text
    assert client.verifications == 3  # startup, the failed call, the call that completed it


async def test_unexpected_exception_is_generic_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    client = FlakyClient(crash=True)
    client.reachable = True
    server = await prepare_server(settings(), [GADGETS], client=client)  # type: ignore[arg-type]
    async with Client(server.mcp) as session:
        result = await session.call_tool("gadgets_list_gadgets", {"group_id": "o", "shelf_id": "c"})
    assert result.is_error
    text = result.content[0].text
    assert text.startswith("gadgets_list_gadgets failed: an unexpected internal error occurred")
    assert "deadbeef" not in text and KEY not in text and "RuntimeError" not in text
    assert any("raised an unexpected RuntimeError" in r.getMessage() for r in caplog.records)


async def test_arguments_that_are_not_an_object_or_invalid_never_crash() -> None:
    client = FlakyClient(permissions={"widgets": frozenset({"read"})})
    client.reachable = True
    server = await prepare_server(settings(), [WIDGETS], client=client)  # type: ignore[arg-type]
    async with Client(server.mcp) as session:
        for args in ({"limit": "ten"}, {"limit": 10_000}, {"offset": -5}, {"item_id": True}, {"nope": None}):
            result = await session.call_tool("widgets_list_items", args)
            assert result.is_error and "invalid arguments" in result.content[0].text
        missing = await session.call_tool("widgets_get_item", {})
        assert missing.is_error and "missing required argument 'item_id'" in missing.content[0].text
