"""pytest plugin (entry point `unizo_sandbox`): the sandbox as fixtures.

- `sandbox_server` (session): one sandbox for the whole run, in a temporary state dir.
- `sandbox` (function): the same sandbox, reset before the test: seeded data and keys, default limits,
  no faults, no webhooks, empty request log.

`start_sandbox()` and `SandboxHandle` are re-exported for use outside pytest (demo, benchmarks); this module
imports without pytest installed.
"""

from __future__ import annotations

from collections.abc import Iterator

from unizo_mcp_sandbox.handle import SandboxHandle, start_sandbox
from unizo_mcp_sandbox.recording import RecordedRequest

__all__ = ["RecordedRequest", "SandboxHandle", "start_sandbox"]

try:
    import pytest
except ImportError:  # pragma: no cover - only the fixtures need pytest
    pass
else:

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
