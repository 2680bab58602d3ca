"""Fixtures of the MCP-half tests: a known environment and restored logging for in-process servers."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from unizo_testkit import clear_env, preserved_logging


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process servers and CLIs read os.environ for proxies and CA files: start from a known one."""
    clear_env(monkeypatch)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The in-process CLI configures logging (replacing the root handlers); put pytest's back afterwards."""
    with preserved_logging(list(logging.root.manager.loggerDict)):
        yield
