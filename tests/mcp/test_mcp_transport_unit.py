"""Bind checks and DNS-rebinding settings (pure parts of the HTTP transport), and the collector's pause
during a server's start."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from unizo_mcp_core.errors import ConfigError, ExitCode
from unizo_mcp_core.settings import load_settings
from unizo_mcp_core.transport import (
    allowed_hosts,
    check_bind,
    collector_paused,
    is_loopback,
    transport_security,
)

KEY = "uz_prod_0123abcd_" + "K" * 32


def settings(**env: str) -> object:
    return load_settings("demo", {"UNIZO_API_KEY": KEY, "UNIZO_TRANSPORT": "streamable-http", **env})


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.5", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "mcp.example.com"])
def test_non_loopback_bind_refused_without_allow_remote(host: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_bind(settings(UNIZO_HOST=host))  # type: ignore[arg-type]
    assert caught.value.exit_code == ExitCode.CONFIG
    assert "--allow-remote" in caught.value.describe() and host in caught.value.describe()
    # --allow-remote also needs credentials the operator chose
    with pytest.raises(ConfigError, match="UNIZO_HTTP_TOKEN"):
        check_bind(settings(UNIZO_HOST=host, UNIZO_ALLOW_REMOTE="true"))  # type: ignore[arg-type]
    token = "t" * 32
    check_bind(settings(UNIZO_HOST=host, UNIZO_ALLOW_REMOTE="true", UNIZO_HTTP_TOKEN=token))  # type: ignore[arg-type]
    check_bind(settings(UNIZO_HOST=host, UNIZO_ALLOW_REMOTE="true", UNIZO_HTTP_AUTH="per-request"))  # type: ignore[arg-type]


def test_stdio_ignores_host() -> None:
    check_bind(load_settings("demo", {"UNIZO_API_KEY": KEY, "UNIZO_HOST": "0.0.0.0"}))


def test_protection_is_explicit_and_on() -> None:
    loopback = transport_security(settings())  # type: ignore[arg-type]
    assert loopback.enable_dns_rebinding_protection is True
    assert loopback.allowed_hosts == ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    assert "http://localhost:*" in loopback.allowed_origins
    assert not any("evil" in o for o in loopback.allowed_origins)
    remote = allowed_hosts(settings(UNIZO_HOST="10.1.2.3", UNIZO_ALLOW_REMOTE="true"))  # type: ignore[arg-type]
    assert remote[-1] == "10.1.2.3:*"


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector's state as the test found it, whatever the test did to it."""
    enabled = gc.isenabled()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        else:
            gc.disable()


def test_the_collector_is_off_during_a_start_and_on_after_it_with_the_start_frozen(collector: None) -> None:
    gc.enable()
    with collector_paused() as started:
        assert not gc.isenabled()
        built: list[object] = []  # what a start builds and keeps
        assert any(o is built for o in gc.get_objects())
        started()
        assert gc.isenabled(), "serving must not run without the collector: garbage would pile up"
        assert not any(o is built for o in gc.get_objects()), "what the start built is left to collections"
    assert gc.isenabled()


def test_a_start_that_fails_turns_the_collector_back_on(collector: None) -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("the key was refused")
    assert gc.isenabled()


def test_a_collector_its_embedder_turned_off_stays_off(collector: None) -> None:
    gc.disable()
    with collector_paused() as started:
        started()
        assert not gc.isenabled()
    assert not gc.isenabled()
