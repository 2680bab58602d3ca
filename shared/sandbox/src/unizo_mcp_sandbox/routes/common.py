"""Helpers the handlers share: the integration header, list and record answers, who made a change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from unizo_mcp_sandbox.context import caller, sandbox_of
from unizo_mcp_sandbox.data.common import Record
from unizo_mcp_sandbox.errors import INTEGRATION_NOT_FOUND, MISSING_INTEGRATION, ApiError, json_response
from unizo_mcp_sandbox.listing import page, parse_list_query

if TYPE_CHECKING:
    from unizo_mcp_sandbox.services import SandboxService


def integration_for(request: web.Request, service: SandboxService) -> Record:
    """The integration named by the `integrationId` header: of this category and the caller's organization."""
    integration_id = request.headers.get("integrationId", "").strip()
    if not integration_id:
        raise ApiError(
            400, MISSING_INTEGRATION, "The integrationId header is required", property="integrationId"
        )
    integration = sandbox_of(request).integrations.get(integration_id)
    if (
        integration is None
        or integration["type"] != service.category
        or integration["organization"]["id"] != caller(request).organization_id
    ):
        raise ApiError(
            404,
            INTEGRATION_NOT_FOUND,
            f"No {service.name} integration '{integration_id}' in this organization",
        )
    return integration


def list_response(request: web.Request, records: Sequence[Record], sortable: frozenset[str]) -> web.Response:
    return json_response(page(records, parse_list_query(request.query, sortable)))


def record_response(record: Any, status: int = 200) -> web.Response:
    return json_response(record, status=status)


def actor(request: web.Request) -> Record:
    """Who made a change, as changeLog shows it: the API key's name stands in for a user."""
    key = caller(request)
    return {"id": key.id, "firstName": key.name, "lastName": "(API key)"}
