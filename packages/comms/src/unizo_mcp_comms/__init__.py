"""unizo-mcp-comms: the MCP server for Unizo's communications API."""

__version__ = "0.1.0"
