"""Fixtures of the reliability suite: in-process servers on the sandbox, fault helpers, explicit envs."""

from __future__ import annotations

import logging
import os
import ssl
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
# Small delays so that retries cost milliseconds, not seconds (Retry-After hints are still waited exactly).
FAST_RETRIES = {"UNIZO_RETRY_ATTEMPTS": "3", "UNIZO_RETRY_DELAY": "5", "UNIZO_MAX_RETRY_DELAY": "2000"}
ENV_TO_CLEAR = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("UNIZO_") and not name.startswith("UNIZO_SANDBOX"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def text_of(result: Any) -> str:
    return "\n".join(getattr(item, "text", "") for item in result.content)


def service_spec(name: str) -> Any:
    import importlib

    return importlib.import_module(f"unizo_mcp_{name}.tools").SERVICE


class Session:
    """An in-process MCP client on one server, with the ids a scenario needs."""

    def __init__(self, client: Any, sandbox: Any) -> None:
        self.client = client
        self.sandbox = sandbox

    async def call(self, tool: str, args: Mapping[str, Any] | None = None, timeout: float = 60) -> Any:
        return await self.client.call_tool(tool, dict(args or {}), read_timeout_seconds=timeout)

    async def data(self, tool: str, args: Mapping[str, Any] | None = None) -> Any:
        result = await self.call(tool, args)
        assert not result.is_error, f"{tool} failed: {text_of(result)}"
        return result.structured_content["data"]

    def integration(self, service: str) -> str:
        return str(self.sandbox.integrations(service)[0]["id"])


@asynccontextmanager
async def server_session(
    sandbox: Any,
    services: tuple[str, ...] = ("edr", "observability", "scm", "ticketing"),
    env: Mapping[str, str] | None = None,
    role: str = "full",
) -> AsyncIterator[Session]:
    from mcp import Client
    from unizo_mcp_core.server import prepare_server
    from unizo_mcp_core.settings import load_settings

    environ = {**sandbox.env(role), **FAST_RETRIES, "UNIZO_LOG_LEVEL": "warning", **(env or {})}
    if "UNIZO_API_KEY_FILE" in (env or {}):
        environ.pop("UNIZO_API_KEY", None)  # the literal key would win over the file
    settings = load_settings(services[0] if len(services) == 1 else None, environ)
    server = await prepare_server(settings, [service_spec(name) for name in services])
    async with AsyncExitStack() as stack:
        stack.push_async_callback(server.aclose)
        client = await stack.enter_async_context(Client(server))
        yield Session(client, sandbox)


async def api(
    sandbox: Any,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str | None = None,
    integration_id: str | None = None,
) -> Any:
    """Call the sandbox API directly (not through the code under test)."""
    import aiohttp

    context = ssl.create_default_context(cafile=str(sandbox.ca_file))
    headers = {"apikey": key or sandbox.keys["full"]}
    if integration_id:
        headers["integrationId"] = integration_id
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, f"{sandbox.base_url}/api/v1{path}", json=body, headers=headers, ssl=context
        ) as resp,
    ):
        data = await resp.json(content_type=None)
        assert resp.status < 300, (method, path, resp.status, data)
        return data
