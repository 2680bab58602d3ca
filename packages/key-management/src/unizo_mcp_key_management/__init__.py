"""unizo-mcp-key-management: the MCP server for Unizo's key management API."""

__version__ = "0.1.0"
