"""HTTP routes: the platform's own, then every discovered category's, then account administration.

The documented profile has only the routes Unizo documents (plus the attachment downloads records link to);
everything else, `/_sandbox/` admin included, is the gateway's unknown route there.
"""

from __future__ import annotations

from aiohttp import web

from unizo_mcp_sandbox.routes import admin, alerts, api_keys, categories, platform, webhooks


def setup_routes(app: web.Application, *, documented: bool = False) -> None:
    if documented:
        platform.add_documented_routes(app.router)
        categories.add_routes(app.router)
        webhooks.add_routes(app.router)
        admin.add_download_route(app.router)
        return
    for module in (platform, categories, api_keys, alerts, webhooks, admin):
        module.add_routes(app.router)
