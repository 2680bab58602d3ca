"""Fixtures shared by all the test folders. Shared helpers live in tests/unizo_testkit.py."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator

import pytest
from unizo_testkit import Proxy, run_proxy


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection built (modules, the test items, their parameters, the seeded data the examples
    come from) lives until the run ends: frozen out of the garbage collector's way, so that its full
    collections, and pytest's own at the end, do not walk it again and again."""
    gc.freeze()


@pytest.fixture(scope="session")
def start_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, str], Proxy]]:
    """`start_proxy(user, password)` → a running proxy.py (`Proxy`) that requires those credentials.

    Each call starts its own process (an error, never a skip, without proxy.py); all of them
    are stopped at the end of the session.
    """
    with contextlib.ExitStack() as stack:

        def start(user: str, password: str) -> Proxy:
            return stack.enter_context(run_proxy(tmp_path_factory.mktemp("proxy"), user, password))

        yield start
