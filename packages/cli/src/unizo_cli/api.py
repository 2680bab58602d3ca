"""The account-administration endpoints `unizo` calls, in one place.

Unizo documents no API for key administration, key usage or usage alerts: every path, body field and answer
here is a convention of this repository ("ours" in docs/api-contract.md), served by the sandbox's `full`
profile (its `documented` profile answers 404 for them, as Unizo's gateway would for an unknown route). When
Unizo documents such endpoints, this module is what changes:

    GET    /api/v1/apiKeys?offset=&limit=  {pagination, data: [key]}
    POST   /api/v1/apiKeys               {name, permissions, environment?, expiresAt?, ipAllowlist?}
                                         -> 201 key + "key" (the secret, shown once)
    GET    /api/v1/apiKeys/{id}          key
    POST   /api/v1/apiKeys/{id}/revoke   key (revoked: true)
    GET    /api/v1/apiKeys/{id}/usage?since=24h
                                         {requests, errors, byStatus, byService, byHour, since, until}
    GET    /api/v1/alerts, POST /api/v1/alerts, GET|DELETE /api/v1/alerts/{id}

A key is shown as {id, name, prefix, environment, permissions, organization, createdAt, expiresAt, revoked,
revokedAt, ipAllowlist, lastUsedAt}. Every call goes through `UnizoClient.request` (HTTPS, CA bundle, proxy,
rate limiter, retries, error mapping); ids are checked as single path segments before they are sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from unizo_mcp_core.errors import InvalidResponseError

if TYPE_CHECKING:
    from unizo_mcp_core.client import UnizoClient

KEYS = "/apiKeys"
ALERTS = "/alerts"
PAGE_LIMIT = 100  # the API's largest page
MAX_PAGES = 1000
ACTIONS = ("read", "write", "delete")
ENVIRONMENTS = ("production", "staging", "development")
# The permission that guards account administration (keys, alerts, webhooks).
PLATFORM = "platform"
# metric -> what it counts (the alert conditions the API evaluates)
METRICS = {
    "api_requests": "requests",
    "api_errors": "answers with status 400 or above (and requests that got none)",
    "error_rate": "errors as a percentage of requests",
    "rate_limited": "answers with status 429 (rate limited)",
    "forbidden": "answers with status 403 (permission, IP or quota refused)",
    "server_errors": "answers with status 500 or above",
}
PERCENT_METRICS = frozenset({"error_rate"})
OPERATORS = (">=", "<=", "==", "!=", ">", "<")
MIN_WINDOW = 60  # alert windows are whole minutes, from one minute ...
MAX_WINDOW = 7 * 86_400  # ... to seven days, the usage the API keeps
MAX_SINCE = MAX_WINDOW
# The key format `uz_<env>_<keyid>_<secret>` (ours: Unizo documents none): used only to name a key's
# environment and id in `config check`, which asks no API.
KEY_FORMAT = re.compile(r"uz_(prod|stg|dev)_([0-9a-f]{8})_[A-Za-z0-9_-]{32}")
KEY_ENVIRONMENTS = {"prod": "production", "stg": "staging", "dev": "development"}


def segment(value: str, what: str) -> str:
    """`value` checked as one path segment (the core's rules for tool arguments) and percent-encoded."""
    from unizo_mcp_core.paths import check_value

    return quote(check_value(what, value, what=f"{what} (an id)"), safe="")


def key_environment(key: str) -> str | None:
    match = KEY_FORMAT.fullmatch(key.strip())
    return KEY_ENVIRONMENTS[match[1]] if match else None


def key_id_of(key: str) -> str | None:
    match = KEY_FORMAT.fullmatch(key.strip())
    return match[2] if match else None


def _record(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, Mapping) or "id" not in data:
        raise InvalidResponseError(f"The API's answer for {what} is not a record with an id")
    return dict(data)


# --- keys ---------------------------------------------------------------------------------------------------


async def _every_page(client: UnizoClient, path: str, what: str) -> list[dict[str, Any]]:
    """Every record of a list endpoint, page by page."""
    found: list[dict[str, Any]] = []
    offset = 0
    for _ in range(MAX_PAGES):
        answer = await client.request("GET", path, params={"offset": offset, "limit": PAGE_LIMIT})
        body = answer.data if isinstance(answer.data, Mapping) else {}
        page = body.get("data")
        if not isinstance(page, list):
            raise InvalidResponseError(f"The API's {what} list has no data array")
        found += [_record(item, f"a {what}") for item in page]
        following = (body.get("pagination") or {}).get("next")
        if following is None or not page:
            break
        offset = int(following)
    return found


async def list_keys(client: UnizoClient) -> list[dict[str, Any]]:
    """Every key of the organization (no secrets)."""
    return await _every_page(client, KEYS, "key")


async def get_key(client: UnizoClient, key_id: str) -> dict[str, Any]:
    answer = await client.request("GET", f"{KEYS}/{segment(key_id, '--key-id')}")
    return _record(answer.data, f"key {key_id}")


def key_body(
    name: str,
    permissions: Mapping[str, Sequence[str]],
    *,
    environment: str | None = None,
    expires_at: datetime | None = None,
    ip_allowlist: Sequence[str] = (),
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "permissions": {k: list(v) for k, v in permissions.items()}}
    if environment:
        body["environment"] = environment
    if expires_at is not None:
        body["expiresAt"] = expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if ip_allowlist:
        body["ipAllowlist"] = list(ip_allowlist)
    return body


async def create_key(client: UnizoClient, body: Mapping[str, Any]) -> dict[str, Any]:
    """The new key's record, with its secret in "key" (shown this once). Not retried once sent: a lost answer
    may still have created it (the error says so)."""
    answer = await client.request("POST", KEYS, json=dict(body))
    record = _record(answer.data, "the new key")
    if not isinstance(record.get("key"), str) or not record["key"]:
        raise InvalidResponseError("The API created a key but did not return it")
    return record


async def revoke_key(client: UnizoClient, key_id: str) -> dict[str, Any]:
    # Revoking twice is harmless: safe to retry.
    answer = await client.request("POST", f"{KEYS}/{segment(key_id, '--key-id')}/revoke", idempotent=True)
    return _record(answer.data, f"key {key_id}")


async def key_usage(client: UnizoClient, key_id: str, since: str) -> dict[str, Any]:
    """Usage of the key from `since` (a duration such as `24h`, or an ISO-8601 date-time) to now."""
    path = f"{KEYS}/{segment(key_id, '--key-id')}/usage"
    answer = await client.request("GET", path, params={"since": since})
    data = answer.data
    if not isinstance(data, Mapping) or not isinstance(data.get("byHour"), list):
        raise InvalidResponseError("The API's usage answer has no byHour list")
    return dict(data)


def key_status(key: Mapping[str, Any], now: datetime | None = None) -> str:
    if key.get("revoked"):
        return "revoked"
    expires = parse_time(key.get("expiresAt"))
    if expires is not None and expires <= (now or datetime.now(UTC)):
        return "expired"
    return "active"


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# --- alerts -------------------------------------------------------------------------------------------------


def alert_body(
    condition: Mapping[str, Any],
    *,
    name: str | None = None,
    key_id: str | None = None,
    webhooks: Sequence[tuple[str, str | None]] = (),
) -> dict[str, Any]:
    """`webhooks`: (url, secret or None for one the API generates and shows once)."""
    body: dict[str, Any] = {"condition": dict(condition)}
    if name:
        body["name"] = name
    if key_id:
        body["keyId"] = key_id
    if webhooks:
        body["notify"] = [
            {"type": "webhook", "url": url, **({"secret": secret} if secret else {})}
            for url, secret in webhooks
        ]
    return body


async def create_alert(client: UnizoClient, body: Mapping[str, Any]) -> dict[str, Any]:
    answer = await client.request("POST", ALERTS, json=dict(body))
    return _record(answer.data, "the new alert")


async def list_alerts(client: UnizoClient) -> list[dict[str, Any]]:
    return await _every_page(client, ALERTS, "alert")


async def get_alert(client: UnizoClient, alert_id: str) -> dict[str, Any]:
    answer = await client.request("GET", f"{ALERTS}/{segment(alert_id, '--alert-id')}")
    return _record(answer.data, f"alert {alert_id}")


async def delete_alert(client: UnizoClient, alert_id: str) -> None:
    await client.request("DELETE", f"{ALERTS}/{segment(alert_id, '--alert-id')}")
