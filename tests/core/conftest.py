"""Fixtures for the core tests: a trustme CA, a local HTTPS fake API, a real CONNECT proxy."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from coretest_support import KEY, PROXY_PASSWORD, PROXY_USER, FakeApi
from unizo_mcp_core.client import UnizoClient
from unizo_mcp_core.settings import Settings, load_settings
from unizo_testkit import Proxy, clear_env, preserved_logging

LOGGERS = ("", "unizo_mcp", "unizo_mcp.auth", "unizo_mcp.client", "unizo_mcp.retry", "backoff")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_env(monkeypatch)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging() changes global state; put it back after each test."""
    with preserved_logging(LOGGERS):
        yield


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_pem(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def server_ssl(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture
async def api(server_ssl: ssl.SSLContext) -> AsyncIterator[FakeApi]:
    fake = FakeApi(server_ssl)
    await fake.start()
    yield fake
    await fake.stop()


def base_env(api: FakeApi, ca_pem: Path) -> dict[str, str]:
    return {
        "UNIZO_API_KEY": KEY,
        "UNIZO_BASE_URL": api.url,
        "UNIZO_CA_BUNDLE": str(ca_pem),
        "UNIZO_RETRY_DELAY": "1",
        "UNIZO_MAX_RETRY_DELAY": "50",
        "UNIZO_TIMEOUT": "5",
    }


@pytest.fixture
def make_settings(api: FakeApi, ca_pem: Path) -> Callable[..., Settings]:
    """make_settings(UNIZO_X="value", UNIZO_Y=None) -> Settings for service "demo" against the fake API."""

    def make(service: str | None = "demo", **env: str | None) -> Settings:
        values = base_env(api, ca_pem)
        for name, value in env.items():
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
        return load_settings(service, environ=values)

    return make


@pytest.fixture
async def make_client(make_settings: Callable[..., Settings]) -> AsyncIterator[Callable[..., UnizoClient]]:
    """make_client(settings=None, clock=None, **env) -> UnizoClient, closed after the test."""
    clients: list[UnizoClient] = []

    def make(settings: Settings | None = None, clock: Any = None, **env: str | None) -> UnizoClient:
        client = UnizoClient(settings or make_settings(**env), user_agent="unizo-mcp-test/0.0.1", clock=clock)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


# --- a real CONNECT proxy (proxy.py) with basic auth -----------------------------------------


@pytest.fixture(scope="session")
def proxy(start_proxy: Callable[[str, str], Proxy]) -> Proxy:
    return start_proxy(PROXY_USER, PROXY_PASSWORD)
