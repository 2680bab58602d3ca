"""Platform endpoints: health and key verification here; the integrations search and the rest of account
administration are in `services/platform.py`."""

from __future__ import annotations

from aiohttp import web

from unizo_mcp_sandbox import auth
from unizo_mcp_sandbox.accounts import PLATFORM
from unizo_mcp_sandbox.context import current_call, sandbox_of
from unizo_mcp_sandbox.errors import json_response
from unizo_mcp_sandbox.services import platform as account
from unizo_mcp_sandbox.timeutil import iso


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
            # every organization has the account-level `platform` scope; clients check the services they
            # serve against this list (unizo-mcp-platform refuses to start when `platform` is missing)
            "enabledServices": [*organization.enabled_services, PLATFORM],
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


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/health", health)
    router.add_get("/v1/auth/verify", verify)
    add_documented_routes(router)


def add_documented_routes(router: web.UrlDispatcher) -> None:
    """The documented profile's: no unauthenticated /health, no key introspection (/v1/auth/verify)."""
    router.add_get("/v1/health", authenticated_health)
    account.add_search_route(router)
