"""Fixtures for the core tests: a trustme CA, a local HTTPS fake API, a real CONNECT proxy."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from coretest_support import KEY, PROXY_PASSWORD, PROXY_USER, FakeApi
from unizo_mcp_core.client import UnizoClient
from unizo_mcp_core.settings import Settings, load_settings

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
LOGGERS = ("", "unizo_mcp", "unizo_mcp.auth", "unizo_mcp.client", "unizo_mcp.retry", "backoff")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("UNIZO_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging() changes global state; put it back after each test."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


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
    """make_settings(UNIZO_X="value", UNIZO_Y=None) -> Settings for service edr against the fake API."""

    def make(service: str | None = "edr", **env: str | None) -> Settings:
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


class Proxy:
    def __init__(self, port: int, log_file: Path) -> None:
        self.port = port
        self.log_file = log_file

    def url(self, user: str = PROXY_USER, password: str = PROXY_PASSWORD) -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def wait_for_log(self, needle: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log():
                return True
            time.sleep(0.05)
        return False


@pytest.fixture(scope="session")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    pytest.importorskip("proxy", reason="proxy.py is needed for the proxy tests (pip install proxy.py)")
    work = tmp_path_factory.mktemp("proxy")
    port_file, log_file = work / "port", work / "proxy.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "proxy",
            "--hostname",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--basic-auth",
            f"{PROXY_USER}:{PROXY_PASSWORD}",
            "--num-workers",
            "1",
            "--num-acceptors",
            "1",
            "--log-level",
            "INFO",
            "--log-file",
            str(log_file),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"proxy.py did not start: {log_file.read_text() if log_file.exists() else ''}"
                )
            time.sleep(0.05)
        yield Proxy(int(port_file.read_text().strip()), log_file)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
