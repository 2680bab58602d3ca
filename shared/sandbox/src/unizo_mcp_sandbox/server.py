"""Start and stop the sandbox: in the current event loop (`SandboxServer`) or in a thread of its own
(`BackgroundServer`, which the pytest plugin, the demo and the benchmarks use)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import attrs
from aiohttp import web

from unizo_mcp_sandbox.app import create_app
from unizo_mcp_sandbox.config import SandboxConfig
from unizo_mcp_sandbox.sandbox import Sandbox
from unizo_mcp_sandbox.tls import TlsFiles, ensure_certificates

log = logging.getLogger(__name__)

T = TypeVar("T")
SHUTDOWN_TIMEOUT = 1.0  # seconds given to in-flight requests when stopping
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tfs'  # no headers: keys travel in headers


class SandboxServer:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._sandbox: Sandbox | None = None
        self._runner: web.AppRunner | None = None
        self.tls: TlsFiles | None = None

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            raise RuntimeError("the sandbox is not running")
        return self._sandbox

    @property
    def base_url(self) -> str:
        return self.sandbox.base_url

    @property
    def ca_file(self) -> Path:
        if self.tls is None:
            raise RuntimeError("the sandbox is not running")
        return self.tls.ca

    async def start(self) -> None:
        sandbox = Sandbox(self.config)
        sandbox.state_dir.lock()
        try:
            self.tls, ssl_context = ensure_certificates(sandbox.state_dir.path)
            app = create_app(sandbox)
            runner = web.AppRunner(
                app,
                handle_signals=False,
                shutdown_timeout=SHUTDOWN_TIMEOUT,
                access_log=log if self.config.access_log else None,
                access_log_format=ACCESS_LOG_FORMAT,
            )
            await runner.setup()
            port = await self._bind(runner, ssl_context, sandbox.previous_port)
        except BaseException:
            sandbox.state_dir.unlock()
            raise
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        sandbox.base_url = f"https://{host}:{port}"
        self._sandbox, self._runner = sandbox, runner
        sandbox.save()
        sandbox.start_flusher()
        log.info(
            "Unizo sandbox (%s, %s profile) serving %s from %s",
            self.config.environment,
            self.config.profile,
            sandbox.base_url,
            sandbox.state_dir.path,
        )

    async def _bind(self, runner: web.AppRunner, ssl_context: Any, previous_port: int | None) -> int:
        """`port=None`: the previous run's port if free (stable URLs across restarts), else any."""
        candidates = [self.config.port] if self.config.port is not None else [previous_port or 0, 0]
        for index, port in enumerate(candidates):
            site = web.TCPSite(runner, self.config.host, port, ssl_context=ssl_context, reuse_address=True)
            try:
                await site.start()
            except OSError:
                if index == len(candidates) - 1:
                    raise
                log.info("port %s is taken; picking a free one", port)
                continue
            return int(runner.addresses[-1][1])
        raise AssertionError("unreachable")

    async def stop(self) -> None:
        """Stop serving, finish in-flight requests briefly, save the state and release the state dir."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._sandbox is not None:
            try:
                await self._sandbox.close()
            finally:
                self._sandbox.state_dir.unlock()
            self._sandbox = None


class BackgroundServer:
    """A SandboxServer on its own event loop in a daemon thread. Methods may be called from any thread."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="unizo-sandbox", daemon=True)
        self.server = SandboxServer(config)

    def start(self) -> None:
        self._thread.start()
        self.run(self.server.start())

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def call(self, function: Callable[[Sandbox], T], timeout: float = 30.0) -> T:
        """Run `function(sandbox)` on the sandbox's loop, so it sees a consistent state."""

        async def invoke() -> T:
            return function(self.server.sandbox)

        return self.run(invoke(), timeout)

    def restart(self) -> None:
        """Stop and start again on the same port and state dir; everything persisted survives."""
        port = self.server.sandbox.port
        self.run(self.server.stop())
        self.server = SandboxServer(attrs.evolve(self.config, port=port))
        self.run(self.server.start())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            self.run(self.server.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
