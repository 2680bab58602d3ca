"""Fixtures for the sandbox tests. `sandbox`, `sandbox_server`, `sandbox_client` and `webhook_receiver` come
from the package's pytest plugin."""

from __future__ import annotations

import pytest
from unizo_mcp_sandbox.testclient import SandboxClient
from unizo_mcp_sandbox.testing import SandboxHandle


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


@pytest.fixture
def unlimited(sandbox: SandboxHandle) -> SandboxHandle:
    """For tests that make many calls: the per-minute limit out of the way."""
    sandbox.set_limits(rate_limit=100_000)
    return sandbox
