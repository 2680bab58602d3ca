"""Key administration for rotation: create (the key is shown once), list, describe, revoke, usage.

`GET .../usage` without `since` answers the last 24 hours by status; with `since` (a duration such as `90m`,
`24h`, `7d`, or an ISO-8601 date-time, at most seven days back) requests, errors, by status, by service and
every hour of the window.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from aiohttp import web

from unizo_mcp_sandbox.accounts import ACTIONS, all_services
from unizo_mcp_sandbox.config import ENVIRONMENTS
from unizo_mcp_sandbox.context import caller, sandbox_of
from unizo_mcp_sandbox.errors import invalid, json_response, not_found
from unizo_mcp_sandbox.keys import ApiKey, format_key, hash_secret, new_secret
from unizo_mcp_sandbox.routes.common import list_response, record_response
from unizo_mcp_sandbox.timeutil import iso, parse_iso
from unizo_mcp_sandbox.usage import RETENTION
from unizo_mcp_sandbox.validation import Field, future_datetime, json_body, one_of, text, text_list, validate

KEY_SORT_FIELDS = frozenset({"id", "name", "environment", "createdAt", "expiresAt", "revoked"})
DURATION = re.compile(r"([0-9]{1,7})([smhd])")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def _permissions(value: Any, path: str) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        raise invalid(path, 'permissions must be an object like {"<service>": ["read"]}')
    for service, actions in value.items():
        if service not in all_services():
            raise invalid(f"{path}.{service}", f"unknown service '{service}'")
        if not isinstance(actions, list):
            raise invalid(f"{path}.{service}", "actions must be a list")
        for index, action in enumerate(actions):
            if action not in ACTIONS:
                raise invalid(f"{path}.{service}[{index}]", f"action must be one of {', '.join(ACTIONS)}")
    return {service: list(dict.fromkeys(actions)) for service, actions in value.items()}


def _network(value: Any, path: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except (TypeError, ValueError):
        raise invalid(path, f"{path} must be an IP address or CIDR range") from None


def _key_in_organization(request: web.Request) -> ApiKey:
    key_id = request.match_info["keyId"]
    key = sandbox_of(request).keys.get(key_id)
    if key is None or key.organization_id != caller(request).organization_id:
        raise not_found("API key", key_id)
    return key


async def create_key(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    fields = validate(
        await json_body(request),
        (
            Field("name", text(1, 100), required=True),
            Field("permissions", _permissions, required=True),
            Field("environment", one_of(*ENVIRONMENTS)),
            Field("expiresAt", future_datetime(sandbox.clock.time)),
            Field("ipAllowlist", text_list(50, _network)),
        ),
    )
    environment = fields.get("environment", sandbox.config.environment)
    secret = new_secret()
    key = ApiKey(
        id=sandbox.keys.new_key_id(),
        name=fields["name"],
        environment=environment,
        secret_sha256=hash_secret(secret),
        permissions=fields["permissions"],
        organization_id=caller(request).organization_id,
        created_at=sandbox.clock.time(),
        expires_at=fields.get("expiresAt"),
        ip_allowlist=fields.get("ipAllowlist", []),
    )
    sandbox.keys.add(key)
    sandbox.changed()
    return record_response({**key.public_view(), "key": format_key(environment, key.id, secret)}, status=201)


async def list_keys(request: web.Request) -> web.Response:
    keys = sandbox_of(request).keys.of_organization(caller(request).organization_id)
    return list_response(request, [key.public_view() for key in keys], KEY_SORT_FIELDS)


async def get_key(request: web.Request) -> web.Response:
    return record_response(_key_in_organization(request).public_view())


async def revoke_key(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    key = _key_in_organization(request)
    if key.revoked_at is None:
        key.revoked_at = sandbox.clock.time()
        sandbox.changed()
    return record_response(key.public_view())


def since_moment(value: str, now: float) -> float:
    """The start of a usage window: `now` minus a duration (`90m`, `24h`, `7d`), or an ISO-8601 date-time."""
    match = DURATION.fullmatch(value.strip())
    if match:
        start = now - int(match[1]) * UNIT_SECONDS[match[2]]
    else:
        try:
            start = parse_iso(value.strip())
        except ValueError:
            start = None
    limit = "at most 7 days back (7d)"
    if start is None:
        raise invalid("since", f"since must be a duration (24h, 7d) or an ISO-8601 date-time, {limit}")
    if start >= now:
        raise invalid("since", "since must be in the past")
    if start < now - RETENTION:
        raise invalid("since", f"since must be {limit}: older usage is not kept")
    return start


async def key_usage(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    key = _key_in_organization(request)
    now = sandbox.clock.time()
    if "since" not in request.query:
        return json_response({"keyId": key.id, "last24h": sandbox.usage.last_24h(key.id, now)})
    start = since_moment(request.query["since"], now)
    window = sandbox.usage.window([key.id], start, now)
    window["byHour"] = [{**hour, "hour": iso(hour["hour"])} for hour in window["byHour"]]
    return json_response({"keyId": key.id, "since": iso(start), "until": iso(now), **window})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/apiKeys", list_keys)
    router.add_post("/api/v1/apiKeys", create_key)
    router.add_get("/api/v1/apiKeys/{keyId}", get_key)
    router.add_post("/api/v1/apiKeys/{keyId}/revoke", revoke_key)
    router.add_get("/api/v1/apiKeys/{keyId}/usage", key_usage)
