"""Fixtures of the security suite: a clean environment, restored logging, a real proxy with credentials."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from unizo_testkit import Proxy, clear_env, preserved_logging

from .support import SERVERS, inprocess_client

# Thousands of calls: lift the per-minute limits on both sides, no retries (one call = one request).
UNLIMITED = {"rate_limit": 1_000_000, "daily_quota": 100_000_000}
CLIENT_ENV = {
    "UNIZO_RATE_LIMIT": "1000000",
    "UNIZO_DAILY_QUOTA": "100000000",
    "UNIZO_RETRY_ATTEMPTS": "0",
    "UNIZO_LOG_LEVEL": "warning",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process servers read os.environ (proxies, CA files): start every test from a known one."""
    clear_env(monkeypatch, keep=("UNIZO_SANDBOX",))


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging() replaces the root handlers; put pytest's back afterwards."""
    with preserved_logging(list(logging.root.manager.loggerDict)):
        yield


@pytest.fixture(scope="session")
def proxy(start_proxy: Callable[[str, str], Proxy]) -> Proxy:
    """proxy.py (a real CONNECT proxy) requiring basic auth, with a password made for this run."""
    return start_proxy("suite-user", "pw-" + secrets.token_hex(12))


class PortalSession:
    """The all-in-one server in this process, driven from sync code (hypothesis) through an anyio portal."""

    def __init__(self, portal: BlockingPortal, client: Any, integrations: dict[str, str]) -> None:
        self.portal = portal
        self.client = client
        self.integrations = integrations

    def call(self, name: str, args: dict[str, Any]) -> Any:
        return self.portal.call(lambda: self.client.call_tool(name, args, read_timeout_seconds=60))


@pytest.fixture(scope="module")
def portal_session(sandbox_server: Any) -> Iterator[PortalSession]:
    sandbox_server.reset()
    sandbox_server.set_limits(**UNLIMITED)
    env = {**sandbox_server.env("full"), **CLIENT_ENV}
    integrations = {s: sandbox_server.integrations(s)[0]["id"] for s in SERVERS["server"]}
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(inprocess_client("server", env)) as (client, _server),
    ):
        yield PortalSession(portal, client, integrations)
