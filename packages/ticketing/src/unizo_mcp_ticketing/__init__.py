"""unizo-mcp-ticketing: the MCP server for Unizo's ticketing API."""

__version__ = "0.1.0"
