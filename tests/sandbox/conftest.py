"""Fixtures for the sandbox tests. `sandbox` and `sandbox_server` come from the package's pytest plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from unizo_mcp_sandbox.testing import SandboxHandle

from .support import Api


@pytest.fixture
async def api(sandbox: SandboxHandle) -> AsyncIterator[Api]:
    connector = aiohttp.TCPConnector(ssl=sandbox.ssl_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield Api(sandbox, session)


@pytest.fixture
def unlimited(sandbox: SandboxHandle) -> SandboxHandle:
    """For tests that make many calls: the per-minute limit out of the way."""
    sandbox.set_limits(rate_limit=100_000)
    return sandbox
