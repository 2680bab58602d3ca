"""Key management: every tool against the sandbox (generated from the declarations and this table), its
snapshot, and the unverified path kept as Unizo's server calls it."""

from __future__ import annotations

from typing import Any

from servicekit import Example, service_tests
from unizo_mcp_key_management.tools import SERVICE

TOOLS = {tool.name: tool for tool in SERVICE.tools}


def _created(data: Any) -> None:
    assert data["name"] == "mcp-test-config" and data["id"] and data["value"]


EXAMPLES = {
    "key_management_list_vault_configs": Example({"limit": 5, "sort": "name"}),
    "key_management_create_vault_config": Example({"name": "mcp-test-config"}, check=_created),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)


def test_paths_have_no_category_segment_as_in_unizos_server() -> None:
    assert {tool.path for tool in SERVICE.tools} == {"/vaultConfigs", "/vaultConfigs/{vault_config_id}"}
    create = TOOLS["key_management_create_vault_config"]
    assert [(p.wire_name, p.location, p.required) for p in create.params] == [("name", "body", True)]


async def test_a_created_configuration_is_listed(open_server: Any) -> None:
    async with open_server("key_management") as s:
        iid = await s.integration("key_management")
        created = await s.data(
            "key_management_create_vault_config", {"integration_id": iid, "name": "new-one"}
        )
        listed = await s.data("key_management_list_vault_configs", {"integration_id": iid, "limit": 100})
        assert created["id"] in [item["id"] for item in listed]
        assert set(listed[0]) <= {"id", "name"}, "a list shows the summary"
        again = await s.call("key_management_create_vault_config", {"integration_id": iid, "name": "NEW-ONE"})
        assert again.is_error and "HTTP 400" in again.content[0].text


async def test_read_only_and_read_keys_hide_the_create_tool(open_server: Any, new_key: Any) -> None:
    reads = ["key_management_list_connectors", "key_management_list_integrations"]
    reads += ["key_management_list_vault_configs", "key_management_get_vault_config_details"]
    async with open_server("key_management", env={"UNIZO_READ_ONLY": "true"}) as s:
        assert await s.tool_names() == reads
    key = await new_key({"key_management": ["read"]}, name="km-read")
    async with open_server("key_management", env={"UNIZO_API_KEY": key}) as s:
        assert await s.tool_names() == reads
        refused = await s.call("key_management_create_vault_config", {"name": "x"})
        assert refused.is_error and "key_management:write" in refused.content[0].text
    async with open_server("key_management") as s:
        listed = {t.name: t.annotations for t in (await s.client.list_tools()).tools}
    create = listed["key_management_create_vault_config"]
    assert (create.read_only_hint, create.destructive_hint, create.idempotent_hint) == (False, False, False)
