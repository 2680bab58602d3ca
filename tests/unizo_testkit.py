"""Support code shared by the test folders (core, mcp, security, reliability, servers).

Import it as `unizo_testkit` from any folder: pytest loads tests/conftest.py before the folders' own
conftest files and, in its default "prepend" import mode, puts tests/ on sys.path to do so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

# --- a known environment and restored logging ------------------------------------------------------

# any JSON value, small: for property tests of what parses, validates or shapes JSON
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)

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


def clear_env(monkeypatch: pytest.MonkeyPatch, keep: tuple[str, ...] = ()) -> None:
    """Unset the proxy and CA variables and every UNIZO_* variable but those starting with one of `keep`."""
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("UNIZO_") and not name.startswith(keep):
            monkeypatch.delenv(name, raising=False)


@contextlib.contextmanager
def preserved_logging(loggers: Iterable[str] = ()) -> Iterator[None]:
    """Put back the root logger's handlers and level, and the levels of `loggers`, on leaving."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    levels = {logger: logger.level for logger in (root, *map(logging.getLogger, loggers))}
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    for logger, level in levels.items():
        if logger.level != level:  # only where it changed: every setLevel clears every logger's cache
            logger.setLevel(level)


# --- MCP results and messages ----------------------------------------------------------------------


def mcp_hints(notes: Any) -> dict[str, bool]:
    """A tool's `Annotations` as the hints the MCP wire carries (openWorldHint only when stated)."""
    hints = {
        "readOnlyHint": notes.read_only,
        "destructiveHint": notes.destructive,
        "idempotentHint": notes.idempotent,
    }
    if notes.open_world is not None:
        hints["openWorldHint"] = notes.open_world
    return hints


def text_of(result: Any) -> str:
    """The text of all the content items of a tool result, one per line."""
    return "\n".join(getattr(item, "text", "") for item in result.content)


def initialize_request(client_name: str, client_version: str = "1") -> dict[str, Any]:
    """A JSON-RPC `initialize` request (id 1), as a raw client sends it first."""
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": client_name, "version": client_version},
        },
    }


# --- the sandbox's API, called directly ------------------------------------------------------------


async def sandbox_api(
    sandbox: Any,
    method: str,
    path: str,
    body: Any = None,
    *,
    key: str | None = None,
    integration_id: str | None = None,
) -> Any:
    """Call the sandbox API directly (not through the code under test)."""
    import aiohttp

    context = ssl.create_default_context(cafile=str(sandbox.ca_file))
    headers = {"apikey": key or sandbox.keys["full"]}
    if integration_id:
        headers["integrationId"] = integration_id
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            method, f"{sandbox.base_url}/api/v1{path}", json=body, headers=headers, ssl=context
        ) as resp,
    ):
        data = await resp.json(content_type=None)
        assert resp.status < 300, (method, path, resp.status, data)
        return data


# --- a real CONNECT proxy (proxy.py) with basic auth -----------------------------------------------


class Proxy:
    """proxy.py (a real CONNECT proxy) requiring basic auth, as `run_proxy` starts it."""

    def __init__(self, port: int, user: str, password: str, log_file: Path) -> None:
        self.port = port
        self.user = user
        self.password = password
        self.log_file = log_file

    def url(self, password: str | None = None) -> str:
        return f"http://{self.user}:{password or self.password}@127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def wait_for_log(self, needle: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log():
                return True
            time.sleep(0.05)
        return False


@contextlib.contextmanager
def run_proxy(work: Path, user: str, password: str) -> Iterator[Proxy]:
    """proxy.py on 127.0.0.1 (a free port) requiring `user`:`password`, logging to work/proxy.log."""
    # A missing test dependency is an error, never a skip: proxy.py is in the test dependency group.
    import proxy  # noqa: F401

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
