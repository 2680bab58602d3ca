"""HTTP routes: the platform's own, then every discovered category's, then account administration."""

from __future__ import annotations

from aiohttp import web

from unizo_mcp_sandbox.routes import admin, api_keys, categories, platform, webhooks


def setup_routes(app: web.Application) -> None:
    for module in (platform, categories, api_keys, webhooks, admin):
        module.add_routes(app.router)
