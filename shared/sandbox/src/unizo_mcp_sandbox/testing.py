"""pytest plugin (entry point `unizo_sandbox`): the sandbox as fixtures.

- `sandbox_server` (session): one sandbox for the whole run, in a temporary state dir (`full` profile).
- `sandbox` (function): the same sandbox, reset before the test: seeded data and keys, default limits,
  no faults, no webhooks, empty request log.
- `documented_sandbox_server` (session) and `documented_sandbox` (function, reset like `sandbox`): a
  second sandbox serving the `documented` profile, only what Unizo documents.
- `any_sandbox` (function, parametrized `full` / `documented`): the test runs once against each.
- `sandbox_client` (function): a `SandboxClient` over HTTPS to `sandbox` (see `unizo_mcp_sandbox.testclient`).
- `webhook_receiver` (function): a `WebhookReceiver` on loopback for webhook deliveries.

`start_sandbox()`, `SandboxHandle`, `sandbox_services()` and `service_role()` are re-exported for use outside
pytest (demo, benchmarks); this module imports without pytest (and without aiohttp until a fixture needs it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from unizo_mcp_sandbox.handle import SandboxHandle, start_sandbox
from unizo_mcp_sandbox.recording import RecordedRequest

if TYPE_CHECKING:
    from unizo_mcp_sandbox.services import SandboxService
    from unizo_mcp_sandbox.testclient import SandboxClient, WebhookReceiver

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["RecordedRequest", "SandboxHandle", "sandbox_services", "service_role", "start_sandbox"]


def sandbox_services() -> tuple[SandboxService, ...]:
    """The emulated categories, ordered by name (the modules of `unizo_mcp_sandbox.services`)."""
    from unizo_mcp_sandbox.services import discover

    return discover()


def service_role(service: str) -> str:
    """The seeded role whose key has every action on `service` and nothing else, e.g. `edr_only`."""
    from unizo_mcp_sandbox.keys import service_role as role

    return role(service)


try:
    import pytest
except ImportError:  # pragma: no cover - only the fixtures need pytest
    pass
else:
    # pytest-asyncio's fixture works whatever the project's asyncio mode; without it, the async fixtures
    # need the project's own async plugin
    try:
        import pytest_asyncio

        async_fixture = cast("Callable[[F], F]", pytest_asyncio.fixture)
    except ImportError:  # pragma: no cover
        async_fixture = cast("Callable[[F], F]", pytest.fixture)

    @pytest.fixture(scope="session")
    def sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
        handle = start_sandbox(state_dir=tmp_path_factory.mktemp("unizo-sandbox"))
        try:
            yield handle
        finally:
            handle.stop()

    @pytest.fixture
    def sandbox(sandbox_server: SandboxHandle) -> SandboxHandle:
        sandbox_server.reset()
        return sandbox_server

    @pytest.fixture(scope="session")
    def documented_sandbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
        handle = start_sandbox(
            state_dir=tmp_path_factory.mktemp("unizo-sandbox-documented"), profile="documented"
        )
        try:
            yield handle
        finally:
            handle.stop()

    @pytest.fixture
    def documented_sandbox(documented_sandbox_server: SandboxHandle) -> SandboxHandle:
        documented_sandbox_server.reset()
        return documented_sandbox_server

    @pytest.fixture(params=["full", "documented"], ids=["full", "documented"])
    def any_sandbox(request: pytest.FixtureRequest) -> SandboxHandle:
        """The reset sandbox of each profile in turn (`sandbox`, then `documented_sandbox`)."""
        name = "sandbox" if request.param == "full" else "documented_sandbox"
        return cast("SandboxHandle", request.getfixturevalue(name))

    @async_fixture
    async def sandbox_client(sandbox: SandboxHandle) -> AsyncIterator[SandboxClient]:
        from unizo_mcp_sandbox.testclient import sandbox_client as open_client

        async with open_client(sandbox) as client:
            yield client

    @async_fixture
    async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
        from unizo_mcp_sandbox.testclient import webhook_receiver as open_receiver

        async with open_receiver() as receiver:
            yield receiver
