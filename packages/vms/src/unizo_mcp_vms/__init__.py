"""unizo-mcp-vms: the MCP server for Unizo's vulnerability management API."""

__version__ = "0.1.0"
