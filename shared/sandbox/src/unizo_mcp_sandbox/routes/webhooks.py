"""Webhook registrations under /api/v1/webhooks (account level, `platform` permissions)."""

from __future__ import annotations

import functools
import time
import uuid
from typing import Any

from aiohttp import web

from unizo_mcp_sandbox.context import caller, sandbox_of
from unizo_mcp_sandbox.errors import invalid, not_found
from unizo_mcp_sandbox.routes.common import list_response, record_response
from unizo_mcp_sandbox.services import events
from unizo_mcp_sandbox.validation import Field, boolean, json_body, text, text_list, validate
from unizo_mcp_sandbox.webhooks import Webhook, event_pattern_valid, is_loopback_url

WEBHOOK_SORT_FIELDS = frozenset({"id", "name", "url", "createdAt"})


def webhook_url(value: Any, path: str) -> str:
    url = str(text(1, 2048)(value, path))
    if not is_loopback_url(url):
        raise invalid(
            path, "the sandbox delivers only to loopback http(s) URLs such as http://127.0.0.1:8080/hook"
        )
    return url


def _event(value: Any, path: str) -> str:
    if not isinstance(value, str) or not event_pattern_valid(value):
        raise invalid(path, f"unknown event; use '*', '<noun>:*' or one of {', '.join(events())}")
    return value


@functools.cache
def _webhook_fields() -> tuple[Field, ...]:
    return (
        Field("name", text(1, 100)),
        Field("url", webhook_url, required=True),
        Field("events", text_list(len(events()) + 10, _event), required=True),
        Field("secret", text(8, 256), required=True),
        Field("active", boolean()),
        Field("description", text(0, 1000)),
    )


def _hook_in_organization(request: web.Request) -> Webhook:
    webhook_id = request.match_info["webhookId"]
    hook = sandbox_of(request).webhooks.hooks.get(webhook_id)
    if hook is None or hook.organization_id != caller(request).organization_id:
        raise not_found("webhook", webhook_id)
    return hook


async def create_webhook(request: web.Request) -> web.Response:
    fields = validate(await json_body(request), _webhook_fields())
    if not fields["events"]:
        raise invalid("events", "events must name at least one event")
    hook = Webhook(
        id=str(uuid.uuid4()),
        name=fields.get("name", "webhook"),
        url=fields["url"],
        events=fields["events"],
        secret=fields["secret"],
        organization_id=caller(request).organization_id,
        created_at=time.time(),
        active=fields.get("active", True),
    )
    sandbox = sandbox_of(request)
    sandbox.webhooks.hooks[hook.id] = hook
    sandbox.changed()
    return record_response(hook.public_view(), status=201)


async def list_webhooks(request: web.Request) -> web.Response:
    hooks = sandbox_of(request).webhooks.of_organization(caller(request).organization_id)
    return list_response(request, [hook.public_view() for hook in hooks], WEBHOOK_SORT_FIELDS)


async def get_webhook(request: web.Request) -> web.Response:
    return record_response(_hook_in_organization(request).public_view())


async def delete_webhook(request: web.Request) -> web.Response:
    hook = _hook_in_organization(request)
    sandbox = sandbox_of(request)
    del sandbox.webhooks.hooks[hook.id]
    sandbox.changed()
    return web.Response(status=204)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/webhooks", list_webhooks)
    router.add_post("/api/v1/webhooks", create_webhook)
    router.add_get("/api/v1/webhooks/{webhookId}", get_webhook)
    router.add_delete("/api/v1/webhooks/{webhookId}", delete_webhook)
