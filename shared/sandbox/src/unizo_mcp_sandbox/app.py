"""The aiohttp application: routes plus two middlewares.

`outer` owns what every request gets: a correlation id, Unizo error bodies, and a line in the request log.
`gate` plays the API gateway in front of `/api/v1`: authentication, limits, routing, permissions, then
the injected faults that stand in for a failing backend.

The documented profile's gateway works as Kong's plugins run: the route first (an unknown one is a 404
whoever asks), then the key, the IP allowlist, the permission, and only then the rate limit.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from unizo_mcp_sandbox import auth, faults
from unizo_mcp_sandbox.context import SANDBOX, begin_call, current_call
from unizo_mcp_sandbox.errors import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    NO_ROUTE,
    PAYLOAD_TOO_LARGE,
    ApiError,
)
from unizo_mcp_sandbox.recording import CLIENT_CLOSED_REQUEST, DROPPED, RecordedRequest
from unizo_mcp_sandbox.routes import setup_routes
from unizo_mcp_sandbox.sandbox import Sandbox
from unizo_mcp_sandbox.usage import OTHER

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_BODY = 16 * 1024 * 1024
UNGATED = ("/health", "/v1/auth/verify", "/v1/health")


def _correlation_id(request: web.Request) -> str:
    """Echo the caller's id when it is a sane token, else mint a UUID (never reflect arbitrary text)."""
    given = request.headers.get("correlationId", "").strip()
    return given if CORRELATION_ID.fullmatch(given) else str(uuid.uuid4())


def _http_error(exc: web.HTTPException) -> ApiError:
    if exc.status == 404:
        return ApiError(404, NO_ROUTE, "No route matches this path")
    if exc.status == 405:
        return ApiError(405, METHOD_NOT_ALLOWED, "This method is not allowed on this path")
    if exc.status == 413:
        return ApiError(413, PAYLOAD_TOO_LARGE, "The request body is too large")
    if exc.status < 500:
        return ApiError(exc.status, INVALID_REQUEST, exc.reason)
    return ApiError(exc.status, INTERNAL_ERROR, exc.reason)


@web.middleware
async def outer_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    sandbox = request.app[SANDBOX]
    call = begin_call(_correlation_id(request))
    try:
        response = await handler(request)
    except ApiError as err:
        response = err.to_response(call.correlation_id, documented=sandbox.documented)
    except web.HTTPException as exc:
        response = _http_error(exc).to_response(call.correlation_id, documented=sandbox.documented)
    except ConnectionResetError:  # the client left while its body was being read; nobody gets an answer
        log.debug("client disconnected during %s %s", request.method, request.path)
        call.client_gone = True
        response = web.Response(status=CLIENT_CLOSED_REQUEST)
    except Exception:
        log.exception("unexpected error serving %s %s", request.method, request.path)
        response = ApiError(500, INTERNAL_ERROR, "Internal server error").to_response(
            call.correlation_id, documented=sandbox.documented
        )
    if not response.prepared:
        response.headers["correlationId"] = call.correlation_id
    status = DROPPED if call.dropped else CLIENT_CLOSED_REQUEST if call.client_gone else response.status
    sandbox.recorder.add(
        RecordedRequest(
            method=request.method,
            raw_path=request.raw_path,
            path=request.path,
            status=status,
            integration_id=request.headers.get("integrationId"),
            key_id=call.key.id if call.key else None,
            correlation_id=call.correlation_id,
            fault=call.fault,
            timestamp=sandbox.clock.time(),
        )
    )
    if call.key is not None and request.path.startswith("/api/"):
        sandbox.record_usage(call.key, status, auth.route_service(request.path) or OTHER)
    return response


async def _with_faults(sandbox: Sandbox, request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.can_read_body and not request.content_type.startswith("multipart/"):
        # Receive the whole body first, as a gateway does before the backend is slow: a write whose client
        # gave up during injected latency still happens, which is what timeout tests need to see.
        await request.read()
    plan = sandbox.faults.plan(request.method, request.path)
    call = current_call()
    call.fault = plan.name
    if await faults.apply_before(plan, request):
        call.dropped = True
        return web.Response(status=204)  # never reaches the client: the connection is closed
    response = await handler(request)
    if plan.rule is None or not isinstance(response, web.Response):
        return response
    response.headers["correlationId"] = call.correlation_id
    call.dropped = plan.rule.kind == "drop_after"
    return await faults.apply_after(plan, request, response)


def _route_error(request: web.Request) -> ApiError | None:
    exc = request.match_info.http_exception
    return _http_error(exc) if exc is not None else None


async def _api_gate(sandbox: Sandbox, request: web.Request, handler: Handler) -> web.StreamResponse:
    call = current_call()
    try:
        call.key = key = auth.authenticate(sandbox, request)
    except ApiError as err:
        err.headers.update(sandbox.limiter.snapshot(None).headers())
        raise
    limiter = sandbox.limiter
    limiter.arrive(key.id)
    try:
        limiter.admit(key.id)
        try:
            route_error = _route_error(request)
            if route_error is not None:
                raise route_error
            service = auth.route_service(request.path)
            if service is not None:
                auth.require(key, service, auth.METHOD_ACTIONS.get(request.method, "write"))
            response = await _gated_handler(sandbox, request, handler, key.id)
        finally:
            limiter.release(key.id)
    except ApiError as err:
        err.headers.update(limiter.snapshot(key.id).headers())
        raise
    finally:
        limiter.depart(key.id)
    return response


async def _documented_api_gate(
    sandbox: Sandbox, request: web.Request, handler: Handler
) -> web.StreamResponse:
    route_error = _route_error(request)
    if route_error is not None:
        raise route_error
    call = current_call()
    call.key = key = auth.authenticate(sandbox, request)
    limiter = sandbox.limiter
    limiter.arrive(key.id)
    metered = False  # answers carry the rate-limit headers once the request reached the limiter
    try:
        service = auth.route_service(request.path)
        if service is not None:
            auth.require(key, service, auth.METHOD_ACTIONS.get(request.method, "write"))
        metered = True
        limiter.admit(key.id)
        try:
            response = await _gated_handler(sandbox, request, handler, key.id)
        finally:
            limiter.release(key.id)
    except ApiError as err:
        if metered:
            err.headers.update(limiter.snapshot(key.id).headers())
        raise
    finally:
        limiter.depart(key.id)
    return response


async def _gated_handler(
    sandbox: Sandbox, request: web.Request, handler: Handler, key_id: str
) -> web.StreamResponse:
    """Run the handler with faults; rate headers go on before any post-handler fault prepares the answer."""

    async def with_headers(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except ApiError as err:
            response = err.to_response(current_call().correlation_id, documented=sandbox.documented)
        response.headers.update(sandbox.limiter.snapshot(key_id).headers())
        return response

    return await _with_faults(sandbox, request, with_headers)


@web.middleware
async def gate_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    sandbox = request.app[SANDBOX]
    path = request.path
    if path.startswith("/api/v1/"):
        gate = _documented_api_gate if sandbox.documented else _api_gate
        return await gate(sandbox, request, handler)
    route_error = _route_error(request)
    if route_error is not None:
        raise route_error
    if path in UNGATED:  # no key needed (verify and /v1/health check their own), but faults apply
        return await _with_faults(sandbox, request, handler)
    return await handler(request)  # /_sandbox/: admin handlers check their token themselves


def create_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(middlewares=[outer_middleware, gate_middleware], client_max_size=MAX_BODY)
    app[SANDBOX] = sandbox
    setup_routes(app, documented=sandbox.documented)
    return app
