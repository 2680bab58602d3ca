"""unizo-mcp-infra: the MCP server for Unizo's public cloud infrastructure API."""

__version__ = "0.1.0"
