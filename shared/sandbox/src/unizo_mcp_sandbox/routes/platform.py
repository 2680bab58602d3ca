"""Platform endpoints: health, key verification, and the integrations search."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from unizo_mcp_sandbox import auth
from unizo_mcp_sandbox.accounts import all_services
from unizo_mcp_sandbox.context import caller, current_call, sandbox_of
from unizo_mcp_sandbox.errors import MISSING_PERMISSION, ApiError, invalid, json_response
from unizo_mcp_sandbox.listing import pagination
from unizo_mcp_sandbox.services import discover
from unizo_mcp_sandbox.timeutil import iso
from unizo_mcp_sandbox.validation import Field, integer, json_body, validate

SEARCH_PROPERTIES = {
    "/type": ("type",),
    "/serviceProfile/name": ("serviceProfile", "name"),
    "/organization/id": ("organization", "id"),
    "/id": ("id",),
    "/name": ("name",),
    "/state": ("state",),
}
SEARCH_MAX_LIMIT = 1000
PAGINATION_FIELDS = (Field("offset", integer(0, 10**9)), Field("limit", integer(1, SEARCH_MAX_LIMIT)))


async def health(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    return json_response(
        {"status": "ok", "version": sandbox.version, "environment": sandbox.config.environment}
    )


async def authenticated_health(request: web.Request) -> web.Response:
    """`GET /v1/health` with `Authorization: Bearer <key>`, as Unizo's authentication page shows it (the
    `full` profile takes the apikey header too). The body is ours: the docs show none. No limit applies."""
    sandbox = sandbox_of(request)
    bearer_only = sandbox.documented or "apikey" not in request.headers
    current_call().key = auth.authenticate(sandbox, request, bearer_only=bearer_only)
    return json_response({"status": "ok"})


async def verify(request: web.Request) -> web.Response:
    """Bearer per the contract (the apikey header is accepted too). Counts against no limit."""
    sandbox = sandbox_of(request)
    key = auth.authenticate(sandbox, request, bearer_only="apikey" not in request.headers)
    current_call().key = key
    limits = sandbox.limiter.settings
    organization = key.organization
    response = json_response(
        {
            "valid": True,
            "keyId": key.id,
            "name": key.name,
            "environment": key.environment,
            "permissions": key.permissions,
            "enabledServices": list(organization.enabled_services),
            "expiresAt": iso(key.expires_at) if key.expires_at is not None else None,
            "organization": organization.reference(),
            "rateLimits": {
                "perMinute": limits.rate_limit,
                "perDay": limits.daily_quota,
                "concurrency": limits.max_concurrency,
                "windowSeconds": limits.rate_window,
            },
        }
    )
    response.headers.update(sandbox.limiter.snapshot(key.id).headers())
    return response


def _search_terms(body: dict[str, Any]) -> list[tuple[str, tuple[str, ...], set[str]]]:
    filter_ = body.get("filter")
    if filter_ is None:
        return []
    if (
        not isinstance(filter_, dict)
        or set(filter_) - {"and"}
        or not isinstance(filter_.get("and", []), list)
    ):
        raise invalid("filter", 'filter must be {"and": [{"property", "operator", "values"}]}')
    terms = []
    for index, term in enumerate(filter_.get("and", [])):
        where = f"filter.and[{index}]"
        if not isinstance(term, dict):
            raise invalid(where, f"{where} must be an object")
        property_ = term.get("property")
        if property_ not in SEARCH_PROPERTIES:
            raise invalid(
                f"{where}.property", f"cannot filter on {property_!r}; use {', '.join(SEARCH_PROPERTIES)}"
            )
        if term.get("operator", "=") != "=":
            raise invalid(f"{where}.operator", "the only supported operator is '='")
        values = term.get("values")
        if not isinstance(values, list) or not values or not all(isinstance(value, str) for value in values):
            raise invalid(f"{where}.values", "values must be a non-empty list of strings")
        terms.append((property_, SEARCH_PROPERTIES[property_], {value.lower() for value in values}))
    return terms


def _value(record: dict[str, Any], path: tuple[str, ...]) -> str:
    value: Any = record
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return str(value).lower() if value is not None else ""


async def search_integrations(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    key = caller(request)
    raw = await request.read()
    body = await json_body(request) if raw.strip() else {}  # an empty body lists everything
    if not isinstance(body, dict):
        raise invalid("body", "body must be a JSON object")
    for name in sorted(set(body) - {"filter", "pagination"}):
        raise invalid(name, f"unknown property '{name}'")
    terms = _search_terms(body)
    paging = validate(body.get("pagination") or {}, PAGINATION_FIELDS, prefix="pagination.")
    types = next((values for name, _, values in terms if name == "/type"), None)
    if types is None:
        if not any(key.allows(service, "read") for service in all_services()):
            raise ApiError(403, MISSING_PERMISSION, f"API key {key.id} has no read permission on any service")
    else:
        filtered = sorted(service.name for service in discover() if service.category.lower() in types)
        for name in filtered:
            auth.require(key, name, "read")
    matches = [
        integration
        for integration in sandbox.integrations_of(key.organization_id)
        if all(_value(integration, path) in values for _, path, values in terms)
    ]
    offset, limit = paging.get("offset", 0), paging.get("limit", 20)
    return json_response(
        {"pagination": pagination(len(matches), offset, limit), "data": matches[offset : offset + limit]}
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/health", health)
    router.add_get("/v1/auth/verify", verify)
    add_documented_routes(router)


def add_documented_routes(router: web.UrlDispatcher) -> None:
    """The documented profile's: no unauthenticated /health, no key introspection (/v1/auth/verify)."""
    router.add_get("/v1/health", authenticated_health)
    router.add_post("/api/v1/integrations/search", search_integrations)
