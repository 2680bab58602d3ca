"""unizo-mcp-scm: the MCP server for Unizo's source code management API."""

__version__ = "0.1.0"
