"""Per-request context shared by the middlewares and handlers.

aiohttp runs each request in its own task, so a ContextVar set by the outermost middleware is private to
that request (and avoids `web.RequestKey`, which needs aiohttp 3.14).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import attrs
from aiohttp import web

from unizo_mcp_sandbox.keys import ApiKey
from unizo_mcp_sandbox.sandbox import Sandbox

SANDBOX = web.AppKey("sandbox", Sandbox)


@attrs.define
class CallContext:
    correlation_id: str
    key: ApiKey | None = None
    fault: str | None = None
    dropped: bool = False  # a fault closed the connection
    client_gone: bool = False  # the client closed it first
    integration: dict[str, Any] | None = None  # a category endpoint's integration, once checked


_current: ContextVar[CallContext] = ContextVar("unizo_sandbox_call")


def begin_call(correlation_id: str) -> CallContext:
    context = CallContext(correlation_id)
    _current.set(context)
    return context


def current_call() -> CallContext:
    return _current.get()


def sandbox_of(request: web.Request) -> Sandbox:
    return request.app[SANDBOX]


def current_integration(request: web.Request) -> dict[str, Any]:
    """The integration of a category endpoint; its routes check the `integrationId` header first."""
    integration = current_call().integration
    if integration is None:
        raise RuntimeError(f"{request.path} was served without an integration check")
    return integration


def caller(request: web.Request) -> ApiKey:
    """The authenticated key; only valid under /api/v1, where the gate has run."""
    key = current_call().key
    if key is None:
        raise RuntimeError(f"{request.path} was served without authentication")
    return key
