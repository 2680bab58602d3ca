"""Fixtures for the sandbox tests. `sandbox`, `sandbox_server`, `documented_sandbox`, `any_sandbox`,
`sandbox_client` and `webhook_receiver` come from the package's pytest plugin."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from unizo_mcp_sandbox.testclient import SandboxClient, sandbox_client
from unizo_mcp_sandbox.testing import SandboxHandle


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


@pytest.fixture
def unlimited(sandbox: SandboxHandle) -> SandboxHandle:
    """For tests that make many calls: the per-minute limit out of the way."""
    sandbox.set_limits(rate_limit=100_000)
    return sandbox


@pytest.fixture
async def documented_api(documented_sandbox: SandboxHandle) -> AsyncIterator[SandboxClient]:
    """A client of the sandbox serving the documented profile."""
    async with sandbox_client(documented_sandbox) as client:
        yield client


@pytest.fixture
async def any_api(any_sandbox: SandboxHandle) -> AsyncIterator[SandboxClient]:
    """A client of each profile's sandbox in turn (`any_api.sandbox.profile` says which)."""
    async with sandbox_client(any_sandbox) as client:
        yield client
