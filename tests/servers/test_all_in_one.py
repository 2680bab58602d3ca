"""unizo-mcp-server: entry-point discovery, --services narrowing, the union of what one key may do."""

from __future__ import annotations

import pytest
from unizo_mcp_core.registry import discover_services, select_services
from unizo_mcp_core.settings import load_settings

from .catalog import ROUTES, SERVICES, all_services, tools_of

READ_TOOLS = [n for n, (method, path) in ROUTES.items() if method == "GET" or path == "/integrations/search"]


def test_discovery_finds_the_four_services():
    found = discover_services()
    assert set(SERVICES) <= set(found)
    specs = all_services()
    for name in SERVICES:
        assert found[name] is specs[name]


def test_services_setting_narrows():
    installed = discover_services()
    settings = load_settings(
        None, {"UNIZO_API_KEY": "uz_prod_0123abcd_" + "a" * 32, "UNIZO_SERVICES": "scm,edr"}
    )
    assert [s.name for s in select_services(installed, settings.services)] == ["edr", "scm"]
    assert [s.name for s in select_services(installed, None)] == sorted(installed)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("full", [t for s in SERVICES for t in tools_of(s)]),
        ("edr_only", tools_of("edr")),
        ("readonly", [t for s in SERVICES for t in tools_of(s) if t in READ_TOOLS]),
    ],
)
async def test_one_key_shows_the_union_of_what_it_may_do(role, expected, open_server):
    async with open_server(None, role=role, services=SERVICES) as s:
        assert sorted(await s.tool_names()) == sorted(expected)


async def test_readonly_key_refuses_a_hidden_write_tool_by_name(open_server):
    async with open_server(None, role="readonly", services=SERVICES) as s:
        result = await s.call(
            "ticketing_create_label", {"organization_id": "o", "collection_id": "c", "ticket_id": "t"}
        )
        text = " ".join(getattr(c, "text", "") for c in result.content)
        assert result.is_error and "ticketing:write" in text, text


async def test_services_variable_narrows_the_server(open_server):
    async with open_server(None, env={"UNIZO_SERVICES": "observability,edr"}) as s:
        assert sorted(await s.tool_names()) == sorted(tools_of("edr") + tools_of("observability"))


@pytest.mark.parametrize("service", SERVICES)
async def test_read_only_key_shows_no_write_tools(service, open_server):
    async with open_server(service, role="readonly") as s:
        names = await s.tool_names()
        assert names == [t for t in tools_of(service) if t in READ_TOOLS]
        assert names  # every service has read tools
