"""`start_sandbox()`: a sandbox in a background thread, driven through a `SandboxHandle`.

Usable from sync tests, async tests on any loop, subprocess servers (they reach it over loopback), the demo
and the benchmarks. Handle methods act in-process on the sandbox's own loop: they bypass the HTTP API, so
they are neither rate limited nor recorded, and they work while faults are injected.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from unizo_mcp_sandbox.config import DEFAULT_SEED, FULL, LimitSettings, SandboxConfig
from unizo_mcp_sandbox.exports import server_env
from unizo_mcp_sandbox.recording import RecordedRequest

if TYPE_CHECKING:  # the runtime imports (aiohttp, trustme) wait until a sandbox starts
    from unizo_mcp_sandbox.sandbox import Sandbox
    from unizo_mcp_sandbox.server import BackgroundServer
    from unizo_mcp_sandbox.services import SandboxService
    from unizo_mcp_sandbox.webhooks import Delivery


class SandboxHandle:
    def __init__(self, server: BackgroundServer, owned_state_dir: Path | None = None) -> None:
        self._server = server
        self._owned_state_dir = owned_state_dir
        self.state_dir: Path = server.server.sandbox.state_dir.path
        self.environment: str = server.config.environment
        # "full" (everything in docs/api-contract.md) or "documented" (only what Unizo documents)
        self.profile: str = server.config.profile
        self.ca_file: Path = server.server.ca_file
        self.keys: dict[str, str] = server.call(lambda sandbox: dict(sandbox.role_keys))
        self.admin_token: str = server.call(lambda sandbox: sandbox.admin_token)

    # ---- where and who ----------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._server.server.base_url

    def env(self, role: str = "full") -> dict[str, str]:
        """UNIZO_BASE_URL, UNIZO_CA_BUNDLE, UNIZO_ENVIRONMENT and UNIZO_API_KEY for a server under test."""
        return server_env(self.base_url, self.ca_file, self.environment, self.keys[role])

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def key_id(self, role: str) -> str:
        return self.keys[role].split("_")[2]

    @property
    def services(self) -> tuple[SandboxService, ...]:
        """The emulated categories (see `unizo_mcp_sandbox.services`), ordered by name."""
        from unizo_mcp_sandbox.services import discover

        return discover()

    def disabled_services(self, role: str = "service_disabled") -> tuple[SandboxService, ...]:
        """The services the organization of `role`'s key has not enabled (Beta Corp lacks some)."""
        key_id = self.key_id(role)

        def enabled(sandbox: Sandbox) -> tuple[str, ...]:
            key = sandbox.keys.get(key_id)
            if key is None:
                raise KeyError(role)
            return key.organization.enabled_services

        names = self._server.call(enabled)
        return tuple(service for service in self.services if service.name not in names)

    def integrations(self, service: str, role: str = "full") -> list[dict[str, Any]]:
        """The integrations of `service` visible to the key of `role` (its organization's)."""
        key_id = self.key_id(role)

        def find(sandbox: Sandbox) -> list[dict[str, Any]]:
            key = sandbox.keys.get(key_id)
            return [] if key is None else sandbox.integrations_of(key.organization_id, service)

        return self._server.call(find)

    # ---- controls ---------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Seeded data and keys, startup limits and faults, no webhooks, empty request log, clock offset 0."""
        self._server.run(self._server.server.sandbox.reset())

    def set_faults(self, spec: str | None) -> None:
        self._server.call(lambda sandbox: sandbox.faults.configure(spec))

    def set_limits(
        self,
        rate_limit: int | None = None,
        daily_quota: int | None = None,
        max_concurrency: int | None = None,
        rate_window: float | None = None,
    ) -> None:
        """Change some limits (None keeps the current value); buckets restart full."""
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("rate_limit", rate_limit),
                ("daily_quota", daily_quota),
                ("max_concurrency", max_concurrency),
                ("rate_window", rate_window),
            )
            if value is not None
        }

        def apply(sandbox: Sandbox) -> None:
            sandbox.set_limits(attrs.evolve(sandbox.limiter.settings, **changes))

        self._server.call(apply)

    def limits(self) -> LimitSettings:
        return self._server.call(lambda sandbox: sandbox.limiter.settings)

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox clock forward: buckets refill, quotas roll over, keys expire, without sleeping."""
        self._server.call(lambda sandbox: sandbox.clock.advance(seconds))

    def revoke(self, role: str) -> None:
        key_id = self.key_id(role)

        def apply(sandbox: Sandbox) -> None:
            key = sandbox.keys.get(key_id)
            if key is None:
                raise KeyError(role)
            key.revoked_at = key.revoked_at or sandbox.clock.time()
            sandbox.changed()

        self._server.call(apply)

    def emit_event(self, event_type: str, integration_id: str, data: dict[str, Any]) -> None:
        """Deliver `event_type` to the matching webhooks of the integration's organization, as writes do."""

        def apply(sandbox: Sandbox) -> None:
            sandbox.emit(event_type, sandbox.integrations[integration_id], data)

        self._server.call(apply)

    def save_state(self) -> None:
        """Write the state file now (it is otherwise flushed within a fraction of a second)."""
        self._server.call(lambda sandbox: sandbox.save())

    # ---- observations -----------------------------------------------------------------------------------

    def requests(self) -> list[RecordedRequest]:
        return self._server.call(lambda sandbox: sandbox.recorder.entries())

    def clear_requests(self) -> None:
        self._server.call(lambda sandbox: sandbox.recorder.clear())

    @property
    def max_in_flight(self) -> dict[str, int]:
        """Most simultaneous requests seen per key id (rejected ones included) since the last reset."""
        return self._server.call(lambda sandbox: dict(sandbox.limiter.max_in_flight))

    def count_429s(self, role: str | None = None) -> int:
        key_id = self.key_id(role) if role else None
        return sum(1 for entry in self.requests() if entry.status == 429 and key_id in (None, entry.key_id))

    def deliveries(self) -> list[Delivery]:
        return self._server.call(lambda sandbox: list(sandbox.webhooks.deliveries))

    # ---- lifecycle --------------------------------------------------------------------------------------

    def restart(self) -> None:
        """Stop and start again on the same port and state dir, keeping everything persisted."""
        self._server.restart()

    def stop(self) -> None:
        self._server.stop()
        if self._owned_state_dir is not None:
            shutil.rmtree(self._owned_state_dir, ignore_errors=True)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def start_sandbox(
    state_dir: str | Path | None = None,
    port: int = 0,
    environment: str = "production",
    seed: int = DEFAULT_SEED,
    rate_limit: int = 100,
    daily_quota: int = 10_000,
    max_concurrency: int = 5,
    rate_window: float = 60.0,
    faults: str | None = None,
    admin_token: str | None = None,
    profile: str = FULL,
) -> SandboxHandle:
    """Start a sandbox in a background thread. Without `state_dir`: a temporary one, removed on stop.

    `profile="documented"` serves only what Unizo documents (see docs/api-contract.md); the handle's
    methods work the same in both profiles."""
    from unizo_mcp_sandbox.server import BackgroundServer  # aiohttp and trustme only when a sandbox starts

    owned: Path | None = None
    if state_dir is None:
        owned = state_dir = Path(tempfile.mkdtemp(prefix="unizo-sandbox-"))
    config = SandboxConfig(
        state_dir=Path(state_dir),
        port=port,
        environment=environment,
        seed=seed,
        limits=LimitSettings(rate_limit, daily_quota, max_concurrency, rate_window),
        faults=faults,
        admin_token=admin_token,
        profile=profile,
    )
    server = BackgroundServer(config)
    try:
        server.start()
    except BaseException:
        server.stop()
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)
        raise
    return SandboxHandle(server, owned)
