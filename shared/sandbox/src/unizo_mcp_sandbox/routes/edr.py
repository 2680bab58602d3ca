"""EDR: devices and their alerts (read-only, as in Unizo's EDR API)."""

from __future__ import annotations

from aiohttp import web

from unizo_mcp_sandbox.context import sandbox_of
from unizo_mcp_sandbox.data.edr import ALERT_SORT_FIELDS, DEVICE_SORT_FIELDS
from unizo_mcp_sandbox.routes.common import find, integration_for, list_response, record_response


async def list_devices(request: web.Request) -> web.Response:
    integration = integration_for(request, "edr")
    return list_response(
        request, sandbox_of(request).records.items("devices", (integration["id"],)), DEVICE_SORT_FIELDS
    )


async def get_device(request: web.Request) -> web.Response:
    integration = integration_for(request, "edr")
    device_id = request.match_info["deviceId"]
    return record_response(find(sandbox_of(request), "devices", (integration["id"],), device_id, "device"))


async def list_alerts(request: web.Request) -> web.Response:
    integration = integration_for(request, "edr")
    sandbox = sandbox_of(request)
    device_id = request.match_info["deviceId"]
    find(sandbox, "devices", (integration["id"],), device_id, "device")
    return list_response(
        request, sandbox.records.items("alerts", (integration["id"], device_id)), ALERT_SORT_FIELDS
    )


async def get_alert(request: web.Request) -> web.Response:
    integration = integration_for(request, "edr")
    sandbox = sandbox_of(request)
    device_id = request.match_info["deviceId"]
    find(sandbox, "devices", (integration["id"],), device_id, "device")
    alert_id = request.match_info["alertId"]
    return record_response(find(sandbox, "alerts", (integration["id"], device_id), alert_id, "alert"))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/edr/devices", list_devices)
    router.add_get("/api/v1/edr/devices/{deviceId}", get_device)
    router.add_get("/api/v1/edr/devices/{deviceId}/alerts", list_alerts)
    router.add_get("/api/v1/edr/devices/{deviceId}/alerts/{alertId}", get_alert)
