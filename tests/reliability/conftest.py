"""Fixtures of the reliability suite: in-process servers on the sandbox, fault helpers, explicit envs."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from unizo_testkit import clear_env, preserved_logging, sandbox_api, text_of

BIN = Path(sys.executable).parent
# Small delays so that retries cost milliseconds, not seconds (Retry-After hints are still waited exactly).
FAST_RETRIES = {"UNIZO_RETRY_ATTEMPTS": "3", "UNIZO_RETRY_DELAY": "5", "UNIZO_MAX_RETRY_DELAY": "2000"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_env(monkeypatch, keep=("UNIZO_SANDBOX",))


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    with preserved_logging():
        yield


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
        client = await stack.enter_async_context(Client(server.mcp))
        yield Session(client, sandbox)


api = sandbox_api  # the reliability tests import it by this name
