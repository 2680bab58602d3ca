"""A loopback forwarding proxy that adds `Authorization: Bearer <token>` to every request, nothing else.

Why it exists: the servers' streamable HTTP transport needs a bearer token (UNIZO_HTTP_TOKEN), and the
conformance suite (`@modelcontextprotocol/conformance` 0.1.16) cannot send one: its `server` command has no
header option and builds the SDK's `StreamableHTTPClientTransport` (and, for `dns-rebinding-protection`,
undici requests) without custom headers. So the suite talks to this proxy, which forwards each request to
the server with the token added. Clients that can send headers (the Inspector's `--header`) talk to the
server directly.

Everything else passes through unchanged, both ways: method, path and query, body, every end-to-end header
(`Host` and `Origin` included, so the server's DNS-rebinding protection judges what the client sent: the
proxy listens on 127.0.0.1, so an honest client's `Host` is `127.0.0.1:<proxy port>`, which the server
allows, and a forged one is refused by the server as it would be directly), status, `mcp-session-id`, and
response bodies streamed as they arrive (SSE). An `Authorization` header the client sent is replaced. Only
hop-by-hop headers (RFC 9110 7.6.1) are dropped, the framing (chunked or Content-Length) is redone,
and aiohttp adds `Server` (and `Date`, `Content-Type: application/octet-stream`) where the server sent none.
A client that hangs up ends the upstream request too (its SSE stream to the server closes).

Listens on 127.0.0.1 only; runs its own event loop in a daemon thread, so the synchronous lab can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import threading

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

# RFC 9110 7.6.1 hop-by-hop headers, plus the framing the proxy redoes itself.
_HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Connection",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Content-Length",
    )
)
# Headers aiohttp's client would add by itself: never add what the client did not send.
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
START_TIMEOUT = 30.0


class BearerProxy:
    """`http://127.0.0.1:<port>`, forwarding to `upstream` (`http://127.0.0.1:<port>`) with the token."""

    def __init__(self, upstream: str, token: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._authorization = f"Bearer {token}"
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def url(self, path: str = "/mcp") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    # lifecycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="bearer-proxy", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), loop).result(START_TIMEOUT)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(
            auto_decompress=False,  # bytes as the server sent them, Content-Encoding kept
            cookie_jar=aiohttp.DummyCookieJar(),  # no cookie of one client replayed for another
            trust_env=False,  # straight to the loopback server, never through an HTTP(S)_PROXY
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),  # SSE streams last
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        # handler_cancellation: a client that disconnects cancels its handler, closing the upstream stream.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))  # loopback only
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._stop(), loop).result(START_TIMEOUT)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(START_TIMEOUT)
        loop.close()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    # forwarding ----------------------------------------------------------------------------------------
    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        headers: CIMultiDict[str] = CIMultiDict(
            (k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP
        )
        headers["Authorization"] = self._authorization  # added, or replacing the client's own
        body = await request.read()
        try:
            upstream = await self._session.request(
                request.method,
                self.upstream + request.rel_url.raw_path_qs,
                headers=headers,  # Host included: aiohttp sends an explicit Host as given
                skip_auto_headers=_NO_AUTO_HEADERS,
                data=body or None,
                allow_redirects=False,
            )
        except aiohttp.ClientError as exc:
            return web.Response(status=502, text=f"bearer proxy: {self.upstream} unreachable: {exc}")
        async with upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in upstream.headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    response.headers.add(key, value)
            length = upstream.headers.get("Content-Length", "")
            # With a length, the same length; without one, aiohttp sends chunks (HTTP/1.1) as they come.
            response.content_length = int(length) if length.isdigit() else None
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)  # each SSE event reaches the client as it arrives
            await response.write_eof()
            return response


def main(argv: list[str] | None = None) -> int:
    """`python external/authproxy.py http://127.0.0.1:<server port>`: the token from UNIZO_HTTP_TOKEN, until
    Ctrl-C (for running the conformance suite by hand, external/README.md)."""
    args = sys.argv[1:] if argv is None else argv
    token = os.environ.get("UNIZO_HTTP_TOKEN", "")
    if len(args) != 1 or not token:
        sys.stderr.write("usage: UNIZO_HTTP_TOKEN=<token> python authproxy.py http://127.0.0.1:<port>\n")
        return 2
    proxy = BearerProxy(args[0], token)
    proxy.start()
    sys.stdout.write(f"forwarding {proxy.url()} to {args[0]}/mcp with the bearer token; Ctrl-C stops\n")
    sys.stdout.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        proxy.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
