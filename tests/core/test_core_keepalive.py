"""A keep-alive connection the API closed while the loop was busy is not reused for the next request.

The sandbox runs in its own thread; `restart()` blocks this test's event loop while the sandbox closes
every connection, so the client learns of the closes only when its loop next polls. A POST written to
such a dead connection would fail (aiohttp retries only idempotent methods on a stale connection).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from unizo_mcp_core.client import UnizoClient
from unizo_mcp_core.settings import load_settings
from unizo_mcp_sandbox.handle import start_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Any]:
    handle = start_sandbox(rate_limit=1_000_000, max_concurrency=100)
    try:
        yield handle
    finally:
        handle.stop()


async def test_post_after_the_api_closed_idle_connections(sandbox: Any) -> None:
    settings = load_settings("demo", {**sandbox.env("full"), "UNIZO_RETRY_ATTEMPTS": "0"})
    async with UnizoClient(settings, user_agent="test/0") as client:
        search = {"pagination": {"offset": 0, "limit": 1}}
        for _ in range(2):  # the pool now holds an idle keep-alive connection
            assert (await client.request("POST", "/integrations/search", json=search, idempotent=True)).status
        sandbox.restart()  # closes it while this loop is blocked
        # not idempotent: a write to the dead connection would be an error, not a retry
        response = await client.request("POST", "/integrations/search", json=search, idempotent=False)
        assert response.status == 200
