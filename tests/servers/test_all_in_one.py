"""unizo-mcp-server: entry-point discovery, --services narrowing, per-service keys, what each key may do."""

from __future__ import annotations

from typing import Any

import pytest
from servicekit import a_service, has_writes, installed, is_write, services_where, tools_where
from unizo_mcp_core.registry import discover_services, package_name, select_services
from unizo_mcp_core.settings import load_settings
from unizo_testkit import text_of

SERVICES = services_where()
NAMES = [s.name for s in SERVICES]


def _tools(*specs: Any, reads_only: bool = False) -> list[str]:
    return [t.name for s in specs for t in s.all_tools() if not (reads_only and is_write(t))]


def test_discovery_finds_every_package_with_an_entry_point() -> None:
    found = discover_services()
    assert found == installed()
    for name, spec in found.items():
        assert spec.name == name and spec.package == package_name(name)


def test_services_setting_narrows() -> None:
    installed_specs = discover_services()
    wanted = NAMES[-2:]
    settings = load_settings(
        None, {"UNIZO_API_KEY": "uz_prod_0123abcd_" + "a" * 32, "UNIZO_SERVICES": ",".join(reversed(wanted))}
    )
    assert [s.name for s in select_services(installed_specs, settings.services)] == sorted(wanted)
    assert [s.name for s in select_services(installed_specs, None)] == sorted(installed_specs)


@pytest.mark.parametrize("role", ["full", "readonly"])
async def test_one_key_shows_the_union_of_what_it_may_do(role: str, open_server: Any) -> None:
    async with open_server(None, role=role, services=NAMES) as s:
        assert sorted(await s.tool_names()) == sorted(_tools(*SERVICES, reads_only=role == "readonly"))


async def test_a_one_service_key_shows_that_service_only(open_server: Any, new_key: Any) -> None:
    spec = SERVICES[0]
    key = await new_key({spec.name: ["read", "write", "delete"]})
    async with open_server(None, services=NAMES, env={"UNIZO_API_KEY": key}) as s:
        assert sorted(await s.tool_names()) == sorted(_tools(spec))


async def test_readonly_key_refuses_a_hidden_write_tool_by_name(open_server: Any) -> None:
    spec = a_service(has_writes)
    write = tools_where(spec, is_write)[0]
    async with open_server(None, role="readonly", services=NAMES) as s:
        result = await s.call(write.name, {})
        assert result.is_error and f"{spec.name}:{write.permission.value}" in text_of(result), text_of(result)


async def test_services_variable_narrows_the_server(open_server: Any) -> None:
    chosen = [SERVICES[0], SERVICES[-1]]
    env = {"UNIZO_SERVICES": ",".join(s.name for s in reversed(chosen))}
    async with open_server(None, env=env) as s:
        assert sorted(await s.tool_names()) == sorted(_tools(*chosen))


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
async def test_read_only_key_shows_no_write_tools(spec: Any, open_server: Any) -> None:
    async with open_server(spec.name, role="readonly") as s:
        names = await s.tool_names()
        assert names == _tools(spec, reads_only=True)
        assert names  # every service has read tools


async def test_each_service_uses_its_own_key_on_the_wire(
    open_server: Any, new_key: Any, sandbox: Any
) -> None:
    """UNIZO_<SERVICE>_API_KEY set for two services: each one's calls carry its own key, never the other's,
    and a service without its own key uses UNIZO_API_KEY; each key is verified for its own services."""
    assert len(SERVICES) >= 3, "this test needs three installed services"
    first, second, third = SERVICES[:3]
    keys = {s.name: await new_key({s.name: ["read"]}, name=f"own-{s.name}") for s in (first, second)}
    shared = await new_key({third.name: ["read"]}, name="shared")
    env = {
        first.key_variable: keys[first.name],
        second.key_variable: keys[second.name],
        "UNIZO_API_KEY": shared,
        "UNIZO_SERVICES": ",".join(s.name for s in (first, second, third)),
    }
    key_ids = {name: key.split("_")[2] for name, key in {**keys, third.name: shared}.items()}
    async with open_server(None, env=env) as s:
        listed = await s.tool_names()
        # each key sees only its own service: nothing is hidden, so every key was verified on its own
        assert sorted(listed) == sorted(_tools(first, second, third, reads_only=True))
        for spec in (first, second, third):
            sandbox.clear_requests()
            await s.data(f"{spec.name}_list_connectors")
            used = {r.key_id for r in sandbox.requests()}
            assert used == {key_ids[spec.name]}, (spec.name, used)
