"""unizo-mcp-identity: the MCP server for Unizo's identity API."""

__version__ = "0.1.0"
