"""The floor for cold start, per-call cost and memory: the smallest MCP server, started the same way.

One `MCPServer` with one async tool, served over stdio, nothing else: no HTTP client, no settings,
no key verification. Figures that compare a Unizo server against "the floor server" compare it
against this process, spawned with the same interpreter in the same run.

The tool returns a canned page: the JSON file named by BENCH_FLOOR_PAYLOAD (the bench puts the
sandbox's raw answer for the page the Unizo servers are driven with there), as compact JSON text
plus structured content, which is the least any MCP server must send for that page. Without the
variable it returns three tiny records.

With BENCH_FLOOR_FETCH=<url> it is instead the floor of a server that serves this API with aiohttp
("floor server + aiohttp request"): it imports aiohttp, builds a verifying SSL context (the platform's
trust store, which a client of a public HTTPS API loads, plus the CA bundle in BENCH_FLOOR_CA, as the
core does with UNIZO_CA_BUNDLE), makes one GET of that URL before it serves (as a server checking its
key does), and each call GETs the page (headers: BENCH_FLOOR_HEADERS, a JSON object, plus a fresh
correlationId) and parses it. It answers with BENCH_FLOOR_ANSWER, a tool result a Unizo server gave for
that page (its text and structured content), so it sends what that server sends. With BENCH_FLOOR_STORE=<path>
it also opens a SQLite database there before serving, as the core's local rate-limit store does (WAL mode,
one write transaction), and keeps it open: the library and the connection a server sharing its limits
between processes holds; the store's transactions per call are the core's own work, so it makes none.
It does everything that server does but the core's own work (arguments, limits, shaping): what the server
costs over it is the core's; what it costs over the plain floor is the request's and SQLite's, measured
rather than guessed.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent

_source = os.environ.get("BENCH_FLOOR_PAYLOAD")
PAYLOAD: dict[str, Any] = (
    json.loads(Path(_source).read_text()) if _source else {"data": [{"id": "0"}, {"id": "1"}, {"id": "2"}]}
)
TEXT = json.dumps(PAYLOAD, separators=(",", ":"), ensure_ascii=False)
FETCH = os.environ.get("BENCH_FLOOR_FETCH")
HEADERS: dict[str, str] = json.loads(os.environ.get("BENCH_FLOOR_HEADERS", "{}"))


def answer(page: Any, text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=page)


async def canned_ping(offset: int = 0, limit: int = 20) -> CallToolResult:
    """Return a canned page of records."""
    return answer(PAYLOAD, TEXT)


if FETCH:
    import ssl

    import aiohttp

    async def fetch(http: aiohttp.ClientSession) -> Any:
        assert FETCH is not None
        headers = {**HEADERS, "correlationId": str(uuid.uuid4())}
        async with http.get(FETCH, headers=headers) as response:
            response.raise_for_status()
            return json.loads(await response.read())

    @asynccontextmanager
    async def lifespan(server: MCPServer[Any]) -> AsyncIterator[aiohttp.ClientSession]:
        context = ssl.create_default_context()  # the platform's trust store
        context.load_verify_locations(cafile=os.environ["BENCH_FLOOR_CA"])  # and the sandbox's CA
        store = open_store(os.environ.get("BENCH_FLOOR_STORE"))
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http:
                await fetch(http)  # before serving, as a server that checks its key
                yield http
        finally:
            if store is not None:
                store.close()

    def open_store(path: str | None) -> Any:
        """A SQLite database opened as the local rate-limit store opens its own; None without a path."""
        if not path:
            return None
        import sqlite3

        store = sqlite3.connect(path, isolation_level=None)
        store.execute("PRAGMA journal_mode=WAL")
        store.execute("CREATE TABLE IF NOT EXISTS bucket(key TEXT PRIMARY KEY, tokens REAL) WITHOUT ROWID")
        store.execute("BEGIN IMMEDIATE")
        store.execute("INSERT OR REPLACE INTO bucket VALUES ('floor', 1.0)")
        store.execute("COMMIT")
        return store

    ANSWER: dict[str, Any] = json.loads(Path(os.environ["BENCH_FLOOR_ANSWER"]).read_text())

    async def fetched_ping(ctx: Context, offset: int = 0, limit: int = 20) -> CallToolResult:
        """Fetch a page of records from the API; answer what a Unizo server answered for it."""
        await fetch(cast("aiohttp.ClientSession", ctx.request_context.lifespan_context))
        return answer(ANSWER["structured"], ANSWER["text"])

    server: MCPServer[Any] = MCPServer("floor", version="0.0.0", lifespan=lifespan)
    server.tool(name="ping")(fetched_ping)
else:
    server = MCPServer("floor", version="0.0.0")
    server.tool(name="ping")(canned_ping)


if __name__ == "__main__":
    server.run()
