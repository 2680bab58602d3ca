"""Who may use the streamable HTTP transport: an ASGI gate in front of the SDK's app.

Loopback is not an authentication boundary on a shared machine: any local user can reach
127.0.0.1. So the HTTP transport always authenticates, one of two ways:

* `token` (default): every request carries `Authorization: Bearer <token>`. The token is
  UNIZO_HTTP_TOKEN, or a random one generated at startup and written to a file only the user can read
  (its path is logged, the token never). Compared in constant time.
* `per-request`: every request carries its own Unizo key (`Authorization: Bearer <key>` or
  `X-Unizo-Api-Key`), verified by the server like a server key; the server's environment key is never
  used. For multi-user deployments.

A request without valid credentials gets 401 with a JSON-RPC error body (and `WWW-Authenticate`), before
the MCP app sees it. Standard library only (the gate is plain ASGI).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from .keys import remember_secret

__all__ = ["HttpGate", "TokenFile", "new_token_file", "run_to_the_end"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

UNAUTHORIZED = -32001  # a server-defined JSON-RPC error code (the spec reserves -32000..-32099)


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return str(value.decode("latin-1")).strip()
    return ""


def _bearer(scope: Scope) -> str:
    scheme, _, token = _header(scope, b"authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def run_to_the_end(app: App, scope: Scope, receive: Receive, send: Send) -> None:
    """`app`, and then the last (empty) chunk of a response it started but left open when it returned.

    The SDK returns from a GET event stream without ending it when the server shuts down: uvicorn then
    logs "ASGI callable returned without completing response" as an ERROR at every restart while a
    client listens, and the client sees its stream cut instead of ended."""
    open_response = False

    async def watched(message: MutableMapping[str, Any]) -> None:
        nonlocal open_response
        kind = message.get("type")
        if kind == "http.response.start":
            open_response = True
        elif kind == "http.response.body" and not message.get("more_body", False):
            open_response = False
        await send(message)

    await app(scope, receive, watched)
    if open_response:
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class HttpGate:
    """ASGI middleware: only requests with the right credentials reach `app`."""

    def __init__(
        self,
        app: App,
        *,
        token: str | None = None,
        per_request: bool = False,
        on_shutdown: Callable[[], None] | None = None,
    ) -> None:
        if (token is None) == (not per_request):
            raise ValueError("HttpGate needs a token, or per_request")
        self._app = app
        self._token = token.encode() if token is not None else None
        self._per_request = per_request
        self._on_shutdown = on_shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "lifespan" and self._on_shutdown is not None:
            await self._app(scope, receive, self._watch_shutdown(send))
            return
        if scope.get("type") != "http":
            await self._app(scope, receive, send)
            return
        problem = self._problem(scope)
        if problem is None:
            await run_to_the_end(self._app, scope, receive, send)
            return
        body = json.dumps(
            {"jsonrpc": "2.0", "id": None, "error": {"code": UNAUTHORIZED, "message": problem}}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="unizo-mcp"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _watch_shutdown(self, send: Send) -> Send:
        """`send`, running `on_shutdown` once the app has shut down: uvicorn re-raises SIGTERM right after,
        before any `finally` of the caller would run."""

        async def watched(message: MutableMapping[str, Any]) -> None:
            await send(message)
            if message.get("type") in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                assert self._on_shutdown is not None
                self._on_shutdown()

        return watched

    def _problem(self, scope: Scope) -> str | None:
        if self._per_request:
            if _bearer(scope) or _header(scope, b"x-unizo-api-key"):
                return None
            return (
                "Unauthorized: send your Unizo API key (Authorization: Bearer <key> or X-Unizo-Api-Key); "
                "this server uses each request's own key"
            )
        presented = _bearer(scope).encode()
        assert self._token is not None
        if presented and hmac.compare_digest(presented, self._token):
            return None
        if not presented:
            return "Unauthorized: this server needs Authorization: Bearer <token> (UNIZO_HTTP_TOKEN)"
        return "Unauthorized: the bearer token is not this server's"


class TokenFile:
    """A random token written to a file only the user can read; removed on close."""

    def __init__(self, path: Path, token: str) -> None:
        self.path = path
        self.token = token

    def close(self) -> None:
        self.path.unlink(missing_ok=True)


def _token_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime and os.path.isdir(runtime) else Path(tempfile.gettempdir())
    folder = base / f"unizo-mcp-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & 0o077:
        raise PermissionError(f"{folder} is not private to this user")
    return folder


def new_token_file(name: str, port: int) -> TokenFile:
    """A new random token in `<runtime dir>/unizo-mcp-<uid>/<name>-<port>.token`, mode 600."""
    token = secrets.token_urlsafe(32)
    remember_secret(token)
    path = _token_dir() / f"{name}-{port}.token"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return TokenFile(path, token)
