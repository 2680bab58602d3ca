"""Fixtures of the security suite: a clean environment, restored logging, a real proxy with credentials,
the all-in-one server in process for a module, and one stdio process per server for the test session
(per xdist worker)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import anyio
import forkserver
import pytest
import pytest_asyncio
from anyio.from_thread import BlockingPortal, start_blocking_portal
from servicekit import VERIFY_PATH
from unizo_testkit import Proxy, clear_env, preserved_logging

from .support import (
    ALL_IN_ONE,
    SERVICES,
    base_env,
    inprocess_client,
    integrations_of,
    stdio_client,
)

# Thousands of calls: lift the per-minute limits on both sides, no retries (one call = one request).
UNLIMITED = {"rate_limit": 1_000_000, "daily_quota": 100_000_000}
CLIENT_ENV = {
    "UNIZO_RATE_LIMIT": "1000000",
    "UNIZO_DAILY_QUOTA": "100000000",
    "UNIZO_RETRY_ATTEMPTS": "0",
    "UNIZO_LOG_LEVEL": "warning",
}
# The stdio servers: verbose, authenticated logging, fast retries, no client-side throttling.
VERBOSE = {"UNIZO_LOG_LEVEL": "debug", "UNIZO_LOG_AUTH": "true"}
FAST_RETRIES = {"UNIZO_RETRY_ATTEMPTS": "3", "UNIZO_RETRY_DELAY": "10", "UNIZO_MAX_RETRY_DELAY": "2000"}
UNTHROTTLED = {"UNIZO_RATE_LIMIT": "100000", "UNIZO_DAILY_QUOTA": "10000000"}
CALL_TIMEOUT = 60


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


def sandbox_env(sandbox: Any, role: str = "full") -> dict[str, str]:
    """The sandbox's base URL and CA, without the key."""
    env = dict(sandbox.env(role))
    env.pop("UNIZO_API_KEY", None)
    return env


# --- the all-in-one server in process, for a whole module ------------------------------------------


class InProcess:
    """The all-in-one server in this process, in the module's event loop (the hypothesis tests run there:
    `pytestmark = pytest.mark.asyncio(loop_scope="module")`), and the sandbox's log since `mark()`."""

    def __init__(self, client: Any, sandbox: Any, integrations: dict[str, str]) -> None:
        self.client = client
        self.sandbox = sandbox
        self.integrations = integrations
        self._seen = 0

    async def call(self, name: str, args: dict[str, Any]) -> Any:
        return await self.client.call_tool(name, args, read_timeout_seconds=CALL_TIMEOUT)

    def mark(self) -> None:
        """Empty the sandbox's request log."""
        self.sandbox.clear_requests()
        self._seen = 0

    def sent(self) -> list[Any]:
        """What the sandbox received since the last `mark()` or `sent()`, key checks left out: in a run on
        one process, the stdio servers started in the background (`launch_stdio_servers`) check their
        key against the same sandbox while these tests run."""
        entries = self.sandbox.requests()
        new, self._seen = entries[self._seen :], len(entries)
        return [entry for entry in new if entry.path != VERIFY_PATH]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def all_in_one(sandbox_server: Any) -> AsyncIterator[InProcess]:
    sandbox_server.reset()
    sandbox_server.set_limits(**UNLIMITED)
    env = {**sandbox_server.env("full"), **CLIENT_ENV}
    integrations = integrations_of(sandbox_server, SERVICES)
    # anyio's cancel scopes must be left in the task that entered them: one task holds the client
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()

    async def hold() -> None:
        async with inprocess_client(ALL_IN_ONE, env) as (client, _server):
            ready.set_result(client)
            await stop.wait()

    holder = asyncio.create_task(hold())
    await asyncio.wait({ready, holder}, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        await holder  # it failed before the client was ready: raise its error
    try:
        yield InProcess(ready.result(), sandbox_server, integrations)
    finally:
        stop.set()
        await holder


# --- one stdio process per server -----------------------------------------------------------------------


class StdioServer:
    """A server's console script over stdio (through stdio_tee.py: every byte of its stdout and stderr is
    kept in `work`), verbose, with its key in `key_file` and every API call through the suite's proxy.

    The client lives in the pool's portal (its own thread and event loop): tests call it from sync code.
    """

    def __init__(self, name: str, portal: BlockingPortal, client: Any, work: Path, home: Path, key: Path):
        self.name = name
        self.portal = portal
        self.client = client
        self.work = work
        self.home = home
        self.key_file = key

    def call(self, tool: str, args: Mapping[str, Any] | None = None) -> Any:
        call = functools.partial(
            self.client.call_tool, tool, dict(args or {}), read_timeout_seconds=CALL_TIMEOUT
        )
        return self.portal.call(call)

    def list_tools(self, **kwargs: Any) -> Any:
        return self.portal.call(functools.partial(self.client.list_tools, **kwargs))

    def run(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run the coroutine function `func(*args)` in the client's event loop."""
        return self.portal.call(func, *args)

    def stdout(self) -> str:
        return (self.work / "stdout.log").read_text(errors="replace")

    def stderr(self) -> str:
        return (self.work / "stderr.log").read_text(errors="replace")

    def pid(self) -> int:
        """The server process: forked for stdio_tee.py's child (tests/forkserver.py), in this server's
        own working directory."""
        forked = forkserver.served_child(self.work)
        if forked is not None:
            return forked
        raise AssertionError(f"no process of {self.name} runs in {self.work}")

    def peer_ports(self) -> set[int]:
        """The remote ports of the server's established TCP connections (Linux /proc)."""
        pid = self.pid()
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[len("socket:[") : -1])
        ports = set()
        for table in ("tcp", "tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[9] in inodes and fields[3] == "01":  # ESTABLISHED
                        ports.add(int(fields[2].rsplit(":", 1)[1], 16))
        return ports


class StdioServers:
    """Kept for the test session: tests that only read share one process per server (the no-leak session
    restores what it changes: its key file, the sandbox's faults). A server starts on first use, or
    earlier in the background (`launch`); each client lives in a task of the portal, so that they all
    start, and are all closed, at once."""

    def __init__(
        self, portal: BlockingPortal, sandbox: Any, proxy: Proxy, tmp: pytest.TempPathFactory
    ) -> None:
        self._portal = portal
        self._sandbox = sandbox
        self._proxy = proxy
        self._tmp = tmp
        self._launched: dict[str, tuple[Future[StdioServer], anyio.Event, Future[None]]] = {}

    def __getitem__(self, name: str) -> StdioServer:
        self.launch([name])
        return self._launched[name][0].result(timeout=120)

    def launch(self, names: Iterable[str]) -> None:
        """Start the servers not started yet, without waiting for them."""
        for name in names:
            if name not in self._launched:
                self._launched[name] = self._launch(name)

    def _launch(self, name: str) -> tuple[Future[StdioServer], anyio.Event, Future[None]]:
        root = self._tmp.mktemp(f"stdio-{name}")
        work, home, secrets_dir = root / "work", root / "home", root / "secrets"
        for folder in (work, home, secrets_dir):
            folder.mkdir()
        key_file = secrets_dir / "key"
        key_file.write_text(self._sandbox.keys["full"] + "\n")
        key_file.chmod(0o600)
        env = base_env(
            home,
            {
                **sandbox_env(self._sandbox),
                **VERBOSE,
                **FAST_RETRIES,
                **UNTHROTTLED,
                "UNIZO_API_KEY_FILE": str(key_file),
                "HTTPS_PROXY": self._proxy.url(),
            },
        )
        ready: Future[StdioServer] = Future()
        stop = self._portal.call(anyio.Event)

        async def serve() -> None:
            try:
                async with stdio_client(name, env, work) as client:
                    ready.set_result(StdioServer(name, self._portal, client, work, home, key_file))
                    await stop.wait()
            except BaseException as exc:
                if not ready.done():
                    ready.set_exception(exc)
                raise

        return ready, stop, self._portal.start_task_soon(serve)

    def close(self) -> None:
        for _ready, stop, _done in self._launched.values():
            self._portal.call(stop.set)
        for name, (_ready, _stop, done) in self._launched.items():
            try:
                done.result(timeout=30)
            except Exception as exc:  # a server that never started: its tests have reported it
                logging.getLogger(__name__).warning("stdio server %s: %r", name, exc)


@pytest.fixture(scope="session")
def stdio_servers(
    sandbox_server: Any, proxy: Proxy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StdioServers]:
    """`stdio_servers["<console script>"]` → its `StdioServer`, started once per test session."""
    with start_blocking_portal() as portal:
        servers = StdioServers(portal, sandbox_server, proxy, tmp_path_factory)
        try:
            yield servers
        finally:
            servers.close()


@pytest.fixture(scope="session", autouse=True)
def launch_stdio_servers(request: pytest.FixtureRequest) -> None:
    """In a run on one process, start every stdio server the selected tests use at once, in the
    background: they boot on the other cores while the first tests run. (A test names its server by its
    `server` parameter, else it uses the all-in-one.) Under xdist a worker does not know which tests it
    will get: each starts its servers on first use."""
    if hasattr(request.config, "workerinput"):
        return
    names = []
    for item in request.session.items:
        if "stdio_servers" in getattr(item, "fixturenames", ()):
            callspec = getattr(item, "callspec", None)
            names.append(callspec.params.get("server", ALL_IN_ONE) if callspec else ALL_IN_ONE)
    if names:
        servers: StdioServers = request.getfixturevalue("stdio_servers")
        servers.launch(dict.fromkeys(names))
