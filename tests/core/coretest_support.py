"""Test doubles for the core's HTTP tests: a scriptable local HTTPS API and a fake clock.

Nothing here mocks aiohttp: `FakeApi` is a real aiohttp server on 127.0.0.1 speaking TLS with a
trustme CA, and the client under test talks to it over real sockets.
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import ssl
from collections.abc import Callable
from typing import Any

import attrs
from aiohttp import web
from multidict import CIMultiDict

KEY = "uz_prod_3f2a9c1b_Zq8xW2vN5mK7pL0rT4yU6iO9aS3dF1gH"
KEY2 = "uz_prod_7c1d2e3f_Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk"
PROXY_USER = "proxyuser"
PROXY_PASSWORD = "pr0xy-S3cret-pa55"


class FakeClock:
    """Monotonic and wall time that only move when told to (or when slept on)."""

    def __init__(self, start: float = 1_000.0, wall: float = 1_800_000_000.0) -> None:
        self._start = start
        self._mono = start
        self._wall0 = wall
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._mono

    def time(self) -> float:
        return self._wall0 + (self._mono - self._start)

    def advance(self, seconds: float) -> None:
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self._mono += max(seconds, 0.0)
        await asyncio.sleep(0)


@attrs.define
class Reply:
    """One scripted answer. `action`: None, "drop" (close before answering), "truncate" (short body),
    "stream" (`body` sent in chunks, with no Content-Length)."""

    status: int = 200
    json: Any = None  # None: no body (unless `body` is given)
    body: bytes | None = None
    headers: dict[str, str] = attrs.Factory(dict)
    delay: float = 0.0
    action: str | None = None


@attrs.frozen
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]
    body: bytes


def error_body(
    code: str, message: str, status: int, correlation_id: str = "corr-body-1", **extra: Any
) -> dict[str, Any]:
    item = {"errorCode": code, "errorMessage": message, "statusCode": status, "correlationId": correlation_id}
    item.update(extra)
    return {"errors": [item]}


class ServerBucket:
    """The server's per-minute token bucket (continuous refill, burst = limit) on a given clock."""

    def __init__(self, limit: int, clock: FakeClock, tokens: float | None = None) -> None:
        self.limit = limit
        self.rate = limit / 60.0
        self.clock = clock
        self.tokens = float(limit if tokens is None else tokens)
        self.updated = clock.now()
        self.accepted = 0
        self.rejected = 0

    def _refill(self) -> None:
        now = self.clock.now()
        self.tokens = min(self.limit, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self) -> tuple[bool, dict[str, str]]:
        self._refill()
        ok = self.tokens >= 1
        if ok:
            self.tokens -= 1
            self.accepted += 1
        else:
            self.rejected += 1
        whole = math.floor(self.tokens)
        reset_after = (whole + 1 - self.tokens) / self.rate if self.tokens < self.limit else 0.0
        full_in = (self.limit - self.tokens) / self.rate
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(whole, 0)),
            "X-RateLimit-Reset": str(math.ceil(self.clock.time() + full_in)),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        }
        return ok, headers


class FakeApi:
    """A scriptable HTTPS API: `script(method, path, *replies)`; the last reply repeats."""

    def __init__(self, server_ssl: ssl.SSLContext) -> None:
        self._ssl = server_ssl
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[Seen] = []
        self.default = Reply(200, {"data": [], "ok": True})
        self.bucket: ServerBucket | None = None
        self.hook: Callable[[web.Request], None] | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def script(self, method: str, path: str, *replies: Reply) -> None:
        self.routes[(method.upper(), path)] = list(replies)

    def seen(self, path: str | None = None) -> list[Seen]:
        return [r for r in self.requests if path is None or r.path == path]

    async def start(self, sock: socket.socket | None = None) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.01, access_log=None)
        await self._runner.setup()
        site: web.BaseSite
        if sock is not None:
            site = web.SockSite(self._runner, sock, ssl_context=self._ssl)
        else:
            site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._ssl)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Seen(request.method, request.path, dict(request.query), CIMultiDict(request.headers), body)
        )
        if self.hook is not None:
            self.hook(request)
        rate_headers: dict[str, str] = {}
        if self.bucket is not None and request.path.startswith("/api/v1"):
            ok, rate_headers = self.bucket.take()
            if not ok:
                retry_after = float(rate_headers["X-RateLimit-Reset-After"])
                return web.json_response(
                    {
                        "error": {
                            "code": "rate_limit_exceeded",
                            "message": "Rate limit exceeded",
                            "retry_after": 1,
                        }
                    },
                    status=429,
                    headers={**rate_headers, "Retry-After": str(math.ceil(retry_after))},
                )
        replies = self.routes.get((request.method, request.path))
        if not replies:
            replies = [self.default]
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if reply.delay:
            await asyncio.sleep(reply.delay)
        headers = {**rate_headers, **reply.headers}
        if "correlationId" in request.headers and "correlationId" not in headers:
            headers["correlationId"] = request.headers["correlationId"]
        if reply.action == "drop":
            assert request.transport is not None
            request.transport.close()
            raise ConnectionResetError("dropped on purpose")
        if reply.action == "truncate":
            resp = web.StreamResponse(status=reply.status, headers=headers)
            resp.content_type = "application/json"
            resp.content_length = 1000
            await resp.prepare(request)
            await resp.write(b'{"data": [1, 2, 3')
            assert request.transport is not None
            request.transport.close()
            return resp
        if reply.action == "stream":
            assert reply.body is not None
            resp = web.StreamResponse(status=reply.status, headers=headers)
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            for start in range(0, len(reply.body), 65536):
                await resp.write(reply.body[start : start + 65536])
            await resp.write_eof()
            return resp
        if reply.body is not None:
            return web.Response(status=reply.status, body=reply.body, headers=headers)
        if reply.json is None:
            return web.Response(status=reply.status, headers=headers)
        return web.Response(
            status=reply.status,
            text=json.dumps(reply.json),
            content_type="application/json",
            headers=headers,
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
