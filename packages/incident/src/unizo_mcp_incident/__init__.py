"""unizo-mcp-incident: the MCP server for Unizo's incident management API."""

__version__ = "0.1.0"
