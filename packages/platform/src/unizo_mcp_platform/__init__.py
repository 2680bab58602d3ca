"""unizo-mcp-platform: the MCP server for Unizo's platform administration APIs."""

__version__ = "0.1.0"
