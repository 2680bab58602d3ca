"""unizo-mcp-observability: the MCP server for Unizo's observability API."""

__version__ = "0.1.0"
