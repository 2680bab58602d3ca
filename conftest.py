"""Root conftest, for tests/ and every packages/<svc>/tests/: the shared test plugin (tests/servicekit.py),
and a private store of shared rate limits for each test (never the user's ~/.cache/unizo-mcp)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["servicekit"]


@pytest.fixture(scope="session", autouse=True)
def no_user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's own cache directory, set before any session- or module-scoped server starts: no test
    reads or writes the user's real store of shared rate limits (~/.cache/unizo-mcp)."""
    cache = tmp_path_factory.mktemp("session-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        yield cache


@pytest.fixture(autouse=True)
def private_limits_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own cache directory, so the local store of shared rate limits (limitstore,
    UNIZO_RATE_LIMIT_BACKEND=local, the default) starts empty: the sandbox resets its limits between
    tests, and a test's calls must not count against the next test's key, nor the user's."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache
