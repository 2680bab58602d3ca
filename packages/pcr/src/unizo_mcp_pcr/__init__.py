"""unizo-mcp-pcr: the MCP server for Unizo's packages and container registries API."""

__version__ = "0.1.0"
