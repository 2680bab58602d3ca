"""A list page decoded only as far as its list shows it (`pages.page_decoder`): on every service's real
pages (the sandbox's, in the shape Unizo documents), the decoder fits them, and the list shows exactly
what it shows when the page is decoded whole."""

from __future__ import annotations

import ssl
from typing import Any

import aiohttp
import pytest
from pydantic_core import from_json
from servicekit import is_top_list, services_where, tools_where
from unizo_mcp_core.pages import page_decoder
from unizo_mcp_core.responses import split_envelope
from unizo_mcp_core.shaping import paging_facts, shape_list
from unizo_mcp_core.spec import ServiceSpec, ToolSpec


def _shown_lists(spec: ServiceSpec) -> list[ToolSpec]:
    return tools_where(spec, lambda tool: is_top_list(tool) and tool.fields is not None)


SERVICES = services_where(lambda spec: bool(_shown_lists(spec)))


async def _page(sandbox: Any, spec: ServiceSpec, tool: ToolSpec) -> bytes:
    headers = {"apikey": sandbox.keys["full"]}
    if tool.needs_integration:
        headers["integrationId"] = str(sandbox.integrations(spec.name)[0]["id"])
    context = ssl.create_default_context(cafile=str(sandbox.ca_file))
    url = f"{sandbox.base_url.rstrip('/')}/api/v1{tool.path}?offset=0&limit=20"
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers, ssl=context) as response:
        assert response.status == 200, await response.text()
        return await response.read()


def _shown(page: Any, tool: ToolSpec, wanted: list[str] | None) -> tuple[Any, Any]:
    assert tool.fields is not None
    data, pagination = split_envelope(page)
    assert isinstance(data, list)
    return shape_list(data, tool.fields, wanted), paging_facts(pagination, len(data))


def test_every_service_has_a_list_to_check() -> None:
    assert SERVICES, "no installed service has a top-level list tool with summary fields"


@pytest.mark.parametrize("spec", SERVICES, ids=lambda spec: spec.name)
async def test_each_list_page_decoded_for_its_list_shows_what_the_whole_page_shows(
    spec: ServiceSpec, sandbox: Any
) -> None:
    for tool in _shown_lists(spec):
        body = await _page(sandbox, spec, tool)
        whole = from_json(body)
        assert tool.fields is not None
        for wanted in (None, list(tool.fields.more[:3])):
            decoder = page_decoder(tool.fields, wanted)
            assert decoder is not None
            decoded = decoder(body)  # fits: raises if not
            assert _shown(decoded, tool, wanted) == _shown(whole, tool, wanted), (tool.name, wanted)
