"""Sandbox controls under /_sandbox/, guarded by the `x-sandbox-admin-token` header (not an API key)."""

from __future__ import annotations

import hmac
import re
from typing import Any

import attrs
from aiohttp import web

from unizo_mcp_sandbox.config import LimitSettings
from unizo_mcp_sandbox.context import sandbox_of
from unizo_mcp_sandbox.errors import NO_KEY, UNKNOWN_KEY, ApiError, invalid, json_response, not_found
from unizo_mcp_sandbox.faults import FaultSpecError
from unizo_mcp_sandbox.validation import Field, integer, json_body, validate

ADMIN_HEADER = "x-sandbox-admin-token"
ATTACHMENT_ID = re.compile(r"[0-9]{1,20}")


def _number(low: float, high: float) -> Any:
    def check(value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise invalid(path, f"{path} must be a number between {low} and {high}")
        return float(value)

    return check


LIMIT_FIELDS = (
    Field("rateLimit", integer(1, 10**7)),
    Field("dailyQuota", integer(1, 10**9)),
    Field("maxConcurrency", integer(1, 10_000)),
    Field("rateWindow", _number(0.001, 86_400)),
)


def _require_admin(request: web.Request) -> None:
    token = request.headers.get(ADMIN_HEADER)
    if not token:
        raise ApiError(401, NO_KEY, f"Send the sandbox admin token in the {ADMIN_HEADER} header")
    if not hmac.compare_digest(token.encode(), sandbox_of(request).admin_token.encode()):
        raise ApiError(401, UNKNOWN_KEY, "Wrong sandbox admin token")


def _limits_json(limits: LimitSettings) -> dict[str, Any]:
    return {
        "rateLimit": limits.rate_limit,
        "dailyQuota": limits.daily_quota,
        "maxConcurrency": limits.max_concurrency,
        "rateWindow": limits.rate_window,
    }


async def get_requests(request: web.Request) -> web.Response:
    _require_admin(request)
    return json_response({"data": [entry.to_json() for entry in sandbox_of(request).recorder.entries()]})


async def clear_requests(request: web.Request) -> web.Response:
    _require_admin(request)
    sandbox_of(request).recorder.clear()
    return web.Response(status=204)


async def get_faults(request: web.Request) -> web.Response:
    _require_admin(request)
    return json_response({"spec": sandbox_of(request).faults.spec})


async def put_faults(request: web.Request) -> web.Response:
    """Body `{"spec": "..."}`, or the spec itself as text/plain."""
    _require_admin(request)
    if request.content_type == "application/json":
        spec = validate(await json_body(request), (Field("spec", lambda value, path: str(value)),)).get(
            "spec"
        )
    else:
        spec = (await request.text()).strip() or None
    try:
        sandbox_of(request).faults.configure(spec)
    except FaultSpecError as exc:
        raise invalid("spec", str(exc)) from None
    return json_response({"spec": sandbox_of(request).faults.spec})


async def delete_faults(request: web.Request) -> web.Response:
    _require_admin(request)
    sandbox_of(request).faults.configure(None)
    return web.Response(status=204)


async def reset(request: web.Request) -> web.Response:
    _require_admin(request)
    await sandbox_of(request).reset()
    return json_response({"status": "reset"})


async def get_limits(request: web.Request) -> web.Response:
    _require_admin(request)
    return json_response(_limits_json(sandbox_of(request).limiter.settings))


async def put_limits(request: web.Request) -> web.Response:
    """Change some limits; buckets restart full. Daily counts are kept."""
    _require_admin(request)
    fields = validate(await json_body(request), LIMIT_FIELDS)
    sandbox = sandbox_of(request)
    current = sandbox.limiter.settings
    names = {"rateLimit": "rate_limit", "dailyQuota": "daily_quota", "maxConcurrency": "max_concurrency"}
    changes = {names.get(name, "rate_window"): value for name, value in fields.items()}
    sandbox.set_limits(attrs.evolve(current, **changes))
    return json_response(_limits_json(sandbox.limiter.settings))


async def advance_clock(request: web.Request) -> web.Response:
    """Body `{"seconds": N}`: move the sandbox clock (buckets, quotas, expiry, usage) forward."""
    _require_admin(request)
    fields = validate(
        await json_body(request), (Field("seconds", _number(0, 10 * 365 * 86_400), required=True),)
    )
    sandbox_of(request).clock.advance(fields["seconds"])
    return json_response({"now": sandbox_of(request).clock.time()})


async def stats(request: web.Request) -> web.Response:
    _require_admin(request)
    sandbox = sandbox_of(request)
    return json_response({"maxInFlight": dict(sandbox.limiter.max_in_flight)})


async def deliveries(request: web.Request) -> web.Response:
    _require_admin(request)
    return json_response({"data": [attrs.asdict(item) for item in sandbox_of(request).webhooks.deliveries]})


async def download(request: web.Request) -> web.StreamResponse:
    """The `downloadUrl` of uploaded attachments. Unguarded, like a vendor's pre-signed link."""
    attachment_id = request.match_info["attachmentId"]
    path = sandbox_of(request).state_dir.attachments / attachment_id
    if not ATTACHMENT_ID.fullmatch(attachment_id) or not path.is_file():
        raise not_found("file", attachment_id)
    return web.Response(body=path.read_bytes(), content_type="application/octet-stream")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/_sandbox/requests", get_requests)
    router.add_delete("/_sandbox/requests", clear_requests)
    router.add_get("/_sandbox/faults", get_faults)
    router.add_put("/_sandbox/faults", put_faults)
    router.add_delete("/_sandbox/faults", delete_faults)
    router.add_post("/_sandbox/reset", reset)
    router.add_get("/_sandbox/limits", get_limits)
    router.add_put("/_sandbox/limits", put_limits)
    router.add_post("/_sandbox/clock", advance_clock)
    router.add_get("/_sandbox/stats", stats)
    router.add_get("/_sandbox/deliveries", deliveries)
    add_download_route(router)


def add_download_route(router: web.UrlDispatcher) -> None:
    """Served in both profiles: uploaded attachments' `downloadUrl` points here."""
    router.add_get("/_sandbox/files/{attachmentId}", download)
