"""The key management tools: declarations only; the core does the rest.

The path is `/vaultConfigs`, without a category segment, because that is what Unizo's own MCP server
calls (against its internal key management service); whether Unizo's public gateway serves it at
`/api/v1/vaultConfigs` is unverified (docs/api-contract.md). Unizo's server also puts the integration id
in the create body (`{integrationId, name}`); the core sends it as the `integrationId` header only.
"""

from __future__ import annotations

from unizo_mcp_core.spec import (
    Fields,
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
VAULT_CONFIG = Fields(summary=("id", "name"), more=("value", "changeLog"))

VAULT_CONFIGS = "/vaultConfigs"  # unverified public path: no category segment, as in Unizo's server

SERVICE = ServiceSpec(
    name="key_management",
    title="Key management",
    description=(
        "Key management through Unizo: the vault configurations of a secrets manager (where an "
        "application's secrets live in the vendor), which can be listed, read and created."
    ),
    package="unizo-mcp-key-management",
    version=__version__,
    connectors=("hashicorp", "aws", "azure", "gcp"),
    tools=(
        list_tool(
            "key_management_list_vault_configs",
            "List the vault configurations (name; value says where the secrets live).",
            VAULT_CONFIGS,
            fields=VAULT_CONFIG,
        ),
        get_tool(
            "key_management_get_vault_config_details",
            "Get one vault configuration.",
            VAULT_CONFIGS + "/{vault_config_id}",
            path_param("vault_config_id"),
        ),
        ToolSpec(
            "key_management_create_vault_config",
            "Create a vault configuration.",
            "POST",
            VAULT_CONFIGS,
            Permission.WRITE,
            (body_param("name", "string", "", required=True),),
        ),
    ),
)
