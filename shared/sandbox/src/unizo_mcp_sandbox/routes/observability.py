"""Observability: logs. Served at /api/v1/logs without a category segment, like Unizo's own server."""

from __future__ import annotations

from aiohttp import web

from unizo_mcp_sandbox.context import sandbox_of
from unizo_mcp_sandbox.data.observability import LOG_SORT_FIELDS
from unizo_mcp_sandbox.routes.common import find, integration_for, list_response, record_response


async def list_logs(request: web.Request) -> web.Response:
    integration = integration_for(request, "observability")
    return list_response(
        request, sandbox_of(request).records.items("logs", (integration["id"],)), LOG_SORT_FIELDS
    )


async def get_log(request: web.Request) -> web.Response:
    integration = integration_for(request, "observability")
    return record_response(
        find(sandbox_of(request), "logs", (integration["id"],), request.match_info["logId"], "log")
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/logs", list_logs)
    router.add_get("/api/v1/logs/{logId}", get_log)
