"""unizo-cli: the `unizo` command, the operator's command line for Unizo API keys, key rotation, usage,
alerts and MCP client configurations. Every API call goes through `unizo_mcp_core.client.UnizoClient`."""

__version__ = "0.1.0"
