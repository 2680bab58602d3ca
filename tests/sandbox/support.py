"""Talking to the sandbox over real HTTPS: a small client that returns status, headers and body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
from multidict import CIMultiDictProxy
from unizo_mcp_sandbox.testing import SandboxHandle

TICKETING = "/api/v1/ticketing"


@attrs.frozen
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def error(self) -> dict[str, Any]:
        """The single Unizo error of a non-2xx answer."""
        errors = self.json["errors"]
        assert len(errors) == 1
        return errors[0]


class Api:
    def __init__(self, sandbox: SandboxHandle, session: aiohttp.ClientSession) -> None:
        self.sandbox = sandbox
        self.session = session

    def integration(self, service: str, connector: str | None = None, role: str = "full") -> str:
        candidates = self.sandbox.integrations(service, role)
        if connector is not None:
            candidates = [item for item in candidates if item["serviceProfile"]["name"] == connector]
        return candidates[0]["id"]

    async def call(
        self,
        method: str,
        path: str,
        *,
        role: str | None = "full",
        key: str | None = None,
        integration: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Reply:
        sent: dict[str, str] = {}
        if key is not None:
            sent["apikey"] = key
        elif role is not None:
            sent["apikey"] = self.sandbox.keys[role]
        if integration is not None:
            sent["integrationId"] = integration
        sent.update(headers or {})
        async with self.session.request(
            method, self.sandbox.base_url + path, headers=sent, **kwargs
        ) as response:
            return Reply(response.status, response.headers, await response.text())

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("POST", path, **kwargs)

    async def put(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("PUT", path, **kwargs)

    async def first(self, path: str, integration: str, **params: str) -> dict[str, Any]:
        reply = await self.get(path, integration=integration, params={"limit": "1", **params})
        assert reply.status == 200, reply.text
        return reply.json["data"][0]

    async def ticket_scope(self, connector: str = "jira") -> tuple[str, str]:
        """(integration id, tickets path) of the first collection of the first organization."""
        integration = self.integration("ticketing", connector)
        organization = await self.first(f"{TICKETING}/organizations", integration)
        collection = await self.first(f"{TICKETING}/{organization['id']}/collections", integration)
        return integration, f"{TICKETING}/{organization['id']}/collections/{collection['id']}/tickets"

    async def repository_path(self, connector: str = "github") -> tuple[str, str]:
        integration = self.integration("scm", connector)
        organization = await self.first("/api/v1/scm/organizations", integration)
        repository = await self.first(
            f"/api/v1/scm/organizations/{organization['id']}/repositories", integration
        )
        return integration, f"/api/v1/scm/organizations/{organization['id']}/repositories/{repository['id']}"


NEW_TICKET_BODY = {"name": "Sandbox test ticket", "description": "Created by a test.", "type": "task"}
