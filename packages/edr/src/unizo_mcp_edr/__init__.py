"""unizo-mcp-edr: the MCP server for Unizo's EDR / XDR API."""

__version__ = "0.1.0"
