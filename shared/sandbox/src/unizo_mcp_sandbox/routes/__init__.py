"""HTTP routes, one module per area."""

from __future__ import annotations

from aiohttp import web

from unizo_mcp_sandbox.routes import admin, api_keys, edr, observability, platform, scm, ticketing, webhooks


def setup_routes(app: web.Application) -> None:
    for module in (platform, edr, scm, ticketing, observability, api_keys, webhooks, admin):
        module.add_routes(app.router)
