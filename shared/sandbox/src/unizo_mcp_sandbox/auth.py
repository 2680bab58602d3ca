"""Who is calling and may they: key checks (401s), IP allowlist, service and permission (403s)."""

from __future__ import annotations

import functools

from aiohttp import web

from unizo_mcp_sandbox.accounts import PLATFORM, PLATFORM_PATHS, Organization
from unizo_mcp_sandbox.errors import (
    EXPIRED_KEY,
    IP_NOT_ALLOWED,
    MALFORMED_KEY,
    MISSING_PERMISSION,
    NO_KEY,
    REVOKED_KEY,
    SERVICE_NOT_ENABLED,
    UNKNOWN_KEY,
    WRONG_ENVIRONMENT,
    ApiError,
)
from unizo_mcp_sandbox.keys import ApiKey, parse_key
from unizo_mcp_sandbox.sandbox import Sandbox
from unizo_mcp_sandbox.services import discover

METHOD_ACTIONS = {
    "GET": "read",
    "HEAD": "read",
    "POST": "write",
    "PUT": "write",
    "PATCH": "write",
    "DELETE": "delete",
}


def presented_key(request: web.Request, *, bearer_only: bool = False, documented: bool = False) -> str:
    """The key from `apikey` (preferred) or `Authorization: Bearer`. Documented profile: from the one
    header Unizo documents for the endpoint (`apikey` under /api/v1, Bearer for /v1/health), and an empty
    or missing one is no key at all, as the gateway sees it."""
    if documented:
        return _documented_key(request, bearer=bearer_only)
    if not bearer_only and "apikey" in request.headers:
        key = request.headers["apikey"].strip()
        if not key:
            raise ApiError(401, MALFORMED_KEY, "The apikey header is empty")
        return key
    authorization = request.headers.get("Authorization")
    if authorization is None:
        where = "an Authorization: Bearer header" if bearer_only else "the apikey header"
        raise ApiError(401, NO_KEY, f"No API key was sent; send it in {where}")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, MALFORMED_KEY, "The Authorization header must be 'Bearer <API key>'")
    return token.strip()


def _documented_key(request: web.Request, *, bearer: bool) -> str:
    if bearer:
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        key = token.strip() if scheme.lower() == "bearer" else ""
    else:
        key = request.headers.get("apikey", "").strip()
    if not key:
        raise ApiError(401, NO_KEY, "No API key found in request")
    return key


def authenticate(sandbox: Sandbox, request: web.Request, *, bearer_only: bool = False) -> ApiKey:
    """The caller's key, or the 401 (403 for the IP allowlist) saying why not. Each refusal has its own
    code; the documented profile renders them all as the gateway's few answers (see `errors`)."""
    text = presented_key(request, bearer_only=bearer_only, documented=sandbox.documented)
    parsed = parse_key(text)
    if parsed is None:
        raise ApiError(401, MALFORMED_KEY, "The API key is malformed; expected uz_<env>_<keyid>_<secret>")
    if parsed.environment != sandbox.config.environment:
        raise ApiError(
            401,
            WRONG_ENVIRONMENT,
            f"The API key belongs to the {parsed.environment} environment; "
            f"this host serves {sandbox.config.environment}",
        )
    key = sandbox.keys.get(parsed.key_id)
    if key is None or key.environment != parsed.environment or not key.secret_matches(parsed.secret):
        raise ApiError(401, UNKNOWN_KEY, "The API key is not known")
    if key.revoked:
        raise ApiError(401, REVOKED_KEY, f"API key {key.id} has been revoked")
    if key.expired(sandbox.clock.time()):
        raise ApiError(401, EXPIRED_KEY, f"API key {key.id} has expired")
    if not key.ip_allowed(request.remote):
        raise ApiError(
            403, IP_NOT_ALLOWED, f"Requests from {request.remote} are not allowed for API key {key.id}"
        )
    return key


def require(key: ApiKey, service: str, action: str) -> None:
    """A service the account has not enabled is refused whatever the key's permissions say."""
    organization: Organization = key.organization
    if not organization.service_enabled(service):
        raise ApiError(
            403,
            SERVICE_NOT_ENABLED,
            f"The {service} service is not enabled for organization {organization.name}",
        )
    if not key.allows(service, action):
        raise ApiError(403, MISSING_PERMISSION, f"API key {key.id} lacks permission {service}:{action}")


@functools.cache
def path_services() -> dict[str, str]:
    """Path segment after /api/v1/ -> the service whose permissions guard it. Integrations search checks
    its own."""
    guarded = {prefix: service.name for service in discover() for prefix in service.path_prefixes}
    return guarded | dict.fromkeys(PLATFORM_PATHS, PLATFORM)


def route_service(path: str) -> str | None:
    segment = path.removeprefix("/api/v1/").split("/", 1)[0]
    return path_services().get(segment)
