"""unizo-mcp-server: every installed Unizo service in one MCP server.

Service packages register themselves in the `unizo_mcp.services` entry-point group; the core's
CLI discovers them, so a new service needs no change here.
"""

__version__ = "0.1.0"
