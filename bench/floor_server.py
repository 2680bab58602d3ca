"""The floor for cold start, per-call cost and memory: the smallest MCP server, started the same way.

One `MCPServer` with one async tool, served over stdio, nothing else: no HTTP client, no settings,
no key verification. Figures that compare a Unizo server against "the floor server" compare it
against this process, spawned with the same interpreter in the same run.

The tool returns a canned page: the JSON file named by BENCH_FLOOR_PAYLOAD (the bench puts the
sandbox's raw answer for the page the Unizo servers are driven with there), as compact JSON text
plus structured content, which is the least any MCP server must send for that page. Without the
variable it returns three tiny records.

With BENCH_FLOOR_AIOHTTP=1 it also imports aiohttp and builds a verifying SSL context at startup, as any
server calling an HTTPS API with aiohttp must: the bench reports that variant next to the floor, so the
share of start-up time and memory that is aiohttp's, not the core's, is measured rather than guessed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent

_source = os.environ.get("BENCH_FLOOR_PAYLOAD")
PAYLOAD: dict[str, Any] = (
    json.loads(Path(_source).read_text()) if _source else {"data": [{"id": "0"}, {"id": "1"}, {"id": "2"}]}
)
TEXT = json.dumps(PAYLOAD, separators=(",", ":"), ensure_ascii=False)

if os.environ.get("BENCH_FLOOR_AIOHTTP") == "1":
    import ssl

    import aiohttp  # noqa: F401  (what it costs to have it loaded is the point)

    CONTEXT = ssl.create_default_context()

server = MCPServer("floor", version="0.0.0")


@server.tool()
async def ping(offset: int = 0, limit: int = 20) -> CallToolResult:
    """Return a canned page of records."""
    return CallToolResult(content=[TextContent(type="text", text=TEXT)], structured_content=PAYLOAD)


if __name__ == "__main__":
    server.run()
