"""unizo-mcp-storage: the MCP server for Unizo's file storage API."""

__version__ = "0.1.0"
