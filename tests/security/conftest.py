"""Fixtures of the security suite: a clean environment, restored logging, a real proxy with credentials."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from .support import SERVERS, inprocess_client

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
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("UNIZO_") and not name.startswith("UNIZO_SANDBOX"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging() replaces the root handlers; put pytest's back afterwards."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    root_level = root.level
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(root_level)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


class Proxy:
    """proxy.py (a real CONNECT proxy) requiring basic auth."""

    def __init__(self, port: int, user: str, password: str, log_file: Path) -> None:
        self.port = port
        self.user = user
        self.password = password
        self.log_file = log_file

    def url(self, password: str | None = None) -> str:
        return f"http://{self.user}:{password or self.password}@127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


@pytest.fixture(scope="session")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    pytest.importorskip("proxy", reason="proxy.py is needed (pip install proxy.py)")
    work = tmp_path_factory.mktemp("proxy")
    port_file, log_file = work / "port", work / "proxy.log"
    user, password = "suite-user", "pw-" + secrets.token_hex(12)
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
            f"{user}:{password}",
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
        yield Proxy(int(port_file.read_text().strip()), user, password, log_file)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


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
