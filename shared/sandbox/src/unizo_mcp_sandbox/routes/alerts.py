"""Usage alerts under /api/v1/alerts (ours, `full` profile; `platform` permissions): create, list, describe,
delete. Reads evaluate the alerts first, so `state` and `lastValue` are current.

    POST /api/v1/alerts {"name"?, "condition": {"metric", "operator", "threshold", "windowSeconds"},
                         "keyId"?, "notify"?: [{"type": "webhook", "url", "secret"?}]}

A webhook target without a `secret` gets a generated one, shown once in the 201 answer.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from aiohttp import web

from unizo_mcp_sandbox.alerts import MAX_WINDOW, METRICS, MIN_WINDOW, OPERATORS, Alert
from unizo_mcp_sandbox.context import caller, sandbox_of
from unizo_mcp_sandbox.errors import invalid, not_found
from unizo_mcp_sandbox.routes.common import list_response, record_response
from unizo_mcp_sandbox.services.platform import webhook_url
from unizo_mcp_sandbox.validation import Field, integer, json_body, object_list, one_of, text, validate

ALERT_SORT_FIELDS = frozenset({"id", "name", "state", "createdAt"})
MAX_TARGETS = 10


def _threshold(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1e12:
        raise invalid(path, f"{path} must be a number from 0 to 10^12")
    return float(value)


def _window(value: Any, path: str) -> int:
    seconds = int(integer(MIN_WINDOW, MAX_WINDOW)(value, path))
    if seconds % 60:
        raise invalid(path, f"{path} must be a whole number of minutes (a multiple of 60)")
    return seconds


CONDITION_FIELDS = (
    Field("metric", one_of(*METRICS), required=True),
    Field("operator", one_of(*OPERATORS), required=True),
    Field("threshold", _threshold, required=True),
    Field("windowSeconds", _window, required=True),
)
TARGET_FIELDS = (
    Field("type", one_of("webhook"), required=True),
    Field("url", webhook_url, required=True),
    Field("secret", text(8, 256)),
)


def _condition(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(path, f"{path} must be an object with metric, operator, threshold and windowSeconds")
    fields = validate(value, CONDITION_FIELDS, prefix=f"{path}.")
    if fields["metric"] == "error_rate" and fields["threshold"] > 100:
        raise invalid(f"{path}.threshold", "error_rate is a percentage: the threshold must be 0 to 100")
    return fields


def _alert_in_organization(request: web.Request) -> Alert:
    alert_id = request.match_info["alertId"]
    alert = sandbox_of(request).alerts.alerts.get(alert_id)
    if alert is None or alert.organization_id != caller(request).organization_id:
        raise not_found("alert", alert_id)
    return alert


async def create_alert(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    organization_id = caller(request).organization_id
    fields = validate(
        await json_body(request),
        (
            Field("name", text(1, 100)),
            Field("condition", _condition, required=True),
            Field("keyId", text(1, 64)),
            Field("notify", object_list(TARGET_FIELDS, 0, MAX_TARGETS)),
        ),
    )
    key_id = fields.get("keyId")
    if key_id is not None:
        key = sandbox.keys.get(key_id)
        if key is None or key.organization_id != organization_id:
            raise invalid("keyId", f"no API key '{key_id}' in this organization")
    targets, generated = [], []
    for target in fields.get("notify", []):
        secret = target.get("secret")
        if secret is None:
            secret = "whsec_" + secrets.token_urlsafe(24)
        generated.append(None if "secret" in target else secret)
        targets.append({"type": target["type"], "url": target["url"], "secret": secret})
    condition = fields["condition"]
    alert = Alert(
        id=str(uuid.uuid4()),
        name="",
        organization_id=organization_id,
        metric=condition["metric"],
        operator=condition["operator"],
        threshold=condition["threshold"],
        window_seconds=condition["windowSeconds"],
        created_at=sandbox.clock.time(),
        key_id=key_id,
        notify=targets,
    )
    alert.name = fields.get("name") or alert.expression
    sandbox.alerts.alerts[alert.id] = alert
    sandbox.changed()
    sandbox.evaluate_alerts(organization_id)
    view = alert.public_view()
    for shown, secret in zip(view["notify"], generated, strict=True):
        if secret is not None:
            shown["secret"] = secret  # generated: shown this once
    return record_response(view, status=201)


async def list_alerts(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    organization_id = caller(request).organization_id
    sandbox.evaluate_alerts(organization_id)
    alerts = sandbox.alerts.of_organization(organization_id)
    return list_response(request, [alert.public_view() for alert in alerts], ALERT_SORT_FIELDS)


async def get_alert(request: web.Request) -> web.Response:
    alert = _alert_in_organization(request)
    sandbox_of(request).evaluate_alerts(alert.organization_id)
    return record_response(alert.public_view())


async def delete_alert(request: web.Request) -> web.Response:
    alert = _alert_in_organization(request)
    sandbox = sandbox_of(request)
    del sandbox.alerts.alerts[alert.id]
    sandbox.changed()
    return web.Response(status=204)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/alerts", list_alerts)
    router.add_post("/api/v1/alerts", create_alert)
    router.add_get("/api/v1/alerts/{alertId}", get_alert)
    router.add_delete("/api/v1/alerts/{alertId}", delete_alert)
