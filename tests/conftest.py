"""Fixtures shared by all the test folders. Shared helpers live in tests/unizo_testkit.py."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from unizo_testkit import Proxy, run_proxy


@pytest.fixture(autouse=True)
def private_limits_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own cache directory, so the local store of shared rate limits (limitstore,
    UNIZO_RATE_LIMIT_BACKEND=local, the default) starts empty: the sandbox resets its limits between
    tests, and a test's calls must not count against the next test's key, nor the user's."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


@pytest.fixture(scope="session")
def start_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, str], Proxy]]:
    """`start_proxy(user, password)` → a running proxy.py (`Proxy`) that requires those credentials.

    Each call starts its own process (skips the test when proxy.py is not installed); all of them
    are stopped at the end of the session.
    """
    with contextlib.ExitStack() as stack:

        def start(user: str, password: str) -> Proxy:
            return stack.enter_context(run_proxy(tmp_path_factory.mktemp("proxy"), user, password))

        yield start
