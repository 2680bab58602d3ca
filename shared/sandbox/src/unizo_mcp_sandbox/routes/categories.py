"""The routes of every discovered category: generic list and item handlers for its declared resources,
then its custom routes, each behind the check of the `integrationId` header."""

from __future__ import annotations

from aiohttp import web

from unizo_mcp_sandbox.context import current_call, sandbox_of
from unizo_mcp_sandbox.filters import narrow
from unizo_mcp_sandbox.raw import add_raw, wants_raw
from unizo_mcp_sandbox.resources import Handler, Resource, locate, locate_item, served
from unizo_mcp_sandbox.routes.common import integration_for, list_response, record_response
from unizo_mcp_sandbox.services import SandboxService, discover

API = "/api/v1"


def list_handler(resource: Resource) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        location = locate(request, resource)
        sandbox = sandbox_of(request)
        records = sandbox.records.items(resource.kind, location.scope)
        if resource.view is not None:
            records = [served(sandbox, resource, location.scope, record) for record in records]
        records = narrow(records, resource.filters, request.query, sandbox.clock.time())
        return list_response(request, records, resource.sortable)

    return handler


def item_handler(resource: Resource) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        location, record = locate_item(request, resource)
        return record_response(served(sandbox_of(request), resource, location.scope, record))

    return handler


def _checked(service: SandboxService, handler: Handler) -> Handler:
    """Every category endpoint needs the integrationId header first, as Unizo's do. A GET with
    `x-unizo-raw: true` answers the vendor's payload too (see `unizo_mcp_sandbox.raw`)."""

    async def checked(request: web.Request) -> web.StreamResponse:
        current_call().integration = integration_for(request, service)
        response = await handler(request)
        return add_raw(response) if request.method == "GET" and wants_raw(request) else response

    return checked


def add_service_routes(router: web.UrlDispatcher, service: SandboxService) -> None:
    # Reads in declaration order: where two GET paths could match, the first declared wins.
    for resource in service.resources:
        router.add_get(API + resource.path, _checked(service, list_handler(resource)))
        if resource.item_path is not None:
            router.add_get(API + resource.item_path, _checked(service, item_handler(resource)))
    for route in service.routes:
        router.add_route(route.method, API + route.path, _checked(service, route.handler))


def add_routes(router: web.UrlDispatcher) -> None:
    for service in discover():
        add_service_routes(router, service)
