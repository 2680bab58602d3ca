"""Account administration under /api/v1 (webhooks, watches, connectors, integrations by id; the `platform`
permission scope): served by `services/platform.py`, registered here in both profiles."""

from __future__ import annotations

from aiohttp import web

from unizo_mcp_sandbox.services import platform as account

WEBHOOK_SORT_FIELDS = account.WEBHOOK_SORT_FIELDS


def add_routes(router: web.UrlDispatcher) -> None:
    account.add_routes(router)
