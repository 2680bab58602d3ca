"""Fixtures of the reliability suite: in-process servers on the sandbox, fault helpers, explicit envs.

Services and tools are chosen by what they are (servicekit's selectors), arguments found in the seeded
data (`security.calls.Driver`): no scenario names a service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from security.calls import CachedSession, Driver
from servicekit import API, expected_path, installed
from unizo_mcp_core.spec import ServiceSpec, ToolSpec
from unizo_testkit import clear_env, preserved_logging, sandbox_api, text_of

# Small delays so that retries cost milliseconds, not seconds (Retry-After hints are still waited exactly).
FAST_RETRIES = {"UNIZO_RETRY_ATTEMPTS": "3", "UNIZO_RETRY_DELAY": "5", "UNIZO_MAX_RETRY_DELAY": "2000"}

__all__ = ["text_of"]  # re-exported for the test modules


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The reliability scenarios mostly wait on real timers (a paced load, timeouts, Retry-After): run
    them first, so that under xdist the other workers keep busy meanwhile instead of waiting for them at
    the end. (Stable: every worker computes the same order.)"""
    here = Path(__file__).parent
    for item in items:  # the Redis group: `pytest -m redis` runs exactly the tests on a real redis-server
        callspec = getattr(item, "callspec", None)
        on_redis = callspec is not None and callspec.params.get("backend") == "redis"
        if on_redis or "redis_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)
    mine = [item for item in items if here in item.path.parents]
    if mine:
        items[:] = mine + [item for item in items if here not in item.path.parents]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_env(monkeypatch, keep=("UNIZO_SANDBOX",))


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    with preserved_logging():
        yield


class Session:
    """An in-process MCP client on one server, and real arguments for any of its tools."""

    def __init__(self, client: Any, sandbox: Any) -> None:
        self.client = client
        self.sandbox = sandbox
        self.driver = Driver(CachedSession(client, sandbox))

    async def call(self, tool: str, args: Mapping[str, Any] | None = None, timeout: float = 60) -> Any:
        return await self.client.call_tool(tool, dict(args or {}), read_timeout_seconds=timeout)

    async def data(self, tool: str, args: Mapping[str, Any] | None = None) -> Any:
        result = await self.call(tool, args)
        assert not result.is_error, f"{tool} failed: {text_of(result)}"
        return result.structured_content["data"]

    def integration(self, service: str) -> str:
        return str(self.sandbox.integrations(service)[0]["id"])

    def scope(self, spec: ServiceSpec) -> dict[str, str]:
        """`integration_id` for a category's tools; nothing for an account-level service's."""
        return {"integration_id": self.integration(spec.name)} if spec.discovery else {}

    async def args(self, spec: ServiceSpec, tool: ToolSpec) -> dict[str, Any]:
        """Arguments from the seeded data for a successful call (found through this server)."""
        return await self.driver.arguments(spec, tool)


@asynccontextmanager
async def server_session(
    sandbox: Any,
    services: Sequence[ServiceSpec] | None = None,
    env: Mapping[str, str] | None = None,
    role: str = "full",
) -> AsyncIterator[Session]:
    """One server in this process for `services` (every installed one by default)."""
    from mcp import Client
    from unizo_mcp_core.server import prepare_server
    from unizo_mcp_core.settings import load_settings

    specs = list(services or installed().values())
    environ = {**sandbox.env(role), **FAST_RETRIES, "UNIZO_LOG_LEVEL": "warning", **(env or {})}
    if "UNIZO_API_KEY_FILE" in (env or {}):
        environ.pop("UNIZO_API_KEY", None)  # the literal key would win over the file
    settings = load_settings(specs[0].name if len(specs) == 1 else None, environ)
    server = await prepare_server(settings, specs)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(server.aclose)
        client = await stack.enter_async_context(Client(server.mcp))
        yield Session(client, sandbox)


def rendered(tool: ToolSpec, args: Mapping[str, Any]) -> str:
    """The tool's path relative to /api/v1, with `args`' path ids in it (percent-encoded)."""
    return expected_path(tool, args).removeprefix(API)


api = sandbox_api  # the reliability tests import it by this name
