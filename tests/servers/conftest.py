"""Fixtures for the server tests: in-process servers against the sandbox, and key rotation."""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from unizo_testkit import text_of

from .catalog import all_services

SPECS = all_services()


class Session:
    """An in-process MCP client session on one server, plus what a test needs to drive it."""

    def __init__(self, client: Any, sandbox: Any, key_file: Path | None) -> None:
        self.client = client
        self.sandbox = sandbox
        self.key_file = key_file
        self._integrations: dict[str, str] = {}

    async def call(self, tool: str, args: Mapping[str, Any] | None = None) -> Any:
        return await self.client.call_tool(tool, dict(args or {}))

    async def data(self, tool: str, args: Mapping[str, Any] | None = None) -> Any:
        """The `data` of a successful call; fails the test with the tool's message otherwise."""
        result = await self.call(tool, args)
        assert not result.is_error, f"{tool} failed: {text_of(result)}"
        return result.structured_content["data"]

    async def integration(self, service: str) -> str:
        """The first integration of the first connector, found with the discovery tools."""
        if service not in self._integrations:
            connectors = await self.data(f"{service}_list_connectors")
            assert connectors, f"the sandbox has no {service} connector"
            first = connectors[0]
            connector = first["name"] if isinstance(first, Mapping) else first
            found = await self.data(f"{service}_list_integrations", {"connector": connector})
            assert found, f"no integration for connector {connector}"
            self._integrations[service] = found[0]["id"]
        return self._integrations[service]

    async def tool_names(self) -> list[str]:
        return [t.name for t in (await self.client.list_tools()).tools]

    def rotate_key(self, key: str) -> None:
        """Replace the key in the server's key file (UNIZO_API_KEY_FILE), as a secret manager would."""
        assert self.key_file is not None, "open the server with key_file=True to rotate its key"
        before = self.key_file.stat().st_mtime_ns
        self.key_file.write_text(key + "\n")
        # a distinct mtime, whatever the file system's timestamp granularity
        os.utime(self.key_file, ns=(before + 5_000_000_000, before + 5_000_000_000))


@pytest.fixture
def open_server(sandbox, tmp_path):
    """`async with open_server("edr", role="readonly") as s:` → Session on an in-process server.

    `service=None` serves `services` in one server; without them, what unizo-mcp-server would serve.
    `key_file=True` passes the key through UNIZO_API_KEY_FILE so the test can rotate it.
    The client is entered and left in the test's own task (anyio cancel scopes require it).
    """
    from mcp import Client
    from unizo_mcp_core.registry import discover_services, select_services
    from unizo_mcp_core.server import prepare_server
    from unizo_mcp_core.settings import load_settings

    @asynccontextmanager
    async def _open(
        service: str | None = None,
        *,
        role: str = "full",
        services: tuple[str, ...] | None = None,
        env: Mapping[str, str] | None = None,
        key_file: bool = False,
        mode: str = "auto",
    ) -> AsyncIterator[Session]:
        environ = dict(sandbox.env(role))
        path = None
        if key_file:
            path = tmp_path / f"key-{len(list(tmp_path.glob('key-*')))}"
            path.write_text(environ.pop("UNIZO_API_KEY") + "\n")
            path.chmod(0o600)
            environ["UNIZO_API_KEY_FILE"] = str(path)
        environ.update(env or {})
        settings = load_settings(service, environ)
        if service:
            specs = [SPECS[service]]
        elif services:
            specs = [SPECS[s] for s in services]
        else:  # what unizo-mcp-server does: installed services, narrowed by UNIZO_SERVICES
            specs = select_services(discover_services(), settings.services)
        server = await prepare_server(settings, specs)
        try:
            async with Client(server.mcp, mode=mode) as client:
                yield Session(client, sandbox, path)
        finally:
            await server.aclose()

    return _open


@pytest.fixture
def new_key(sandbox):
    """`await new_key({"comms": ["read"]})` → a new key of the seeded organization with those permissions."""

    async def _create(permissions: Mapping[str, list[str]], name: str = "test-limited") -> str:
        import aiohttp

        context = ssl.create_default_context(cafile=str(sandbox.ca_file))
        headers = {"apikey": sandbox.keys["full"]}
        body = {"name": name, "permissions": dict(permissions)}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{sandbox.base_url}/api/v1/apiKeys", json=body, headers=headers, ssl=context) as resp,
        ):
            data = await resp.json()
            assert resp.status == 201, data
        return data["key"]

    return _create
