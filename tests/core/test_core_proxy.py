"""Proxies from the environment, through a real CONNECT proxy (proxy.py) with basic auth."""

from __future__ import annotations

import logging
import socket
import traceback

import pytest
from coretest_support import KEY, PROXY_PASSWORD, PROXY_USER, FakeApi
from unizo_mcp_core.errors import ProxyError, TlsError

PATH = "/api/v1/any/path"


def dead_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    return sock, sock.getsockname()[1]


async def test_requests_go_through_the_proxy(api: FakeApi, make_client, proxy, monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url())
    client = make_client()
    resp = await client.request("GET", "/any/path", integration_id="i-1")
    assert resp.status == 200
    assert api.seen(PATH)[0].headers["apikey"] == KEY  # the tunnel carries the real request
    assert "Proxy-Authorization" not in api.seen(PATH)[0].headers  # proxy credentials stay at the proxy
    await client.close()
    assert proxy.wait_for_log(f"CONNECT 127.0.0.1:{api.port}"), proxy.log()[-2000:]


async def test_tls_is_still_verified_through_the_proxy(api: FakeApi, make_client, proxy, monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url())
    with pytest.raises(TlsError):
        await make_client(UNIZO_CA_BUNDLE=None).request("GET", "/any/path")
    assert api.requests == []


async def test_wrong_proxy_credentials(api: FakeApi, make_client, proxy, monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="unizo_mcp")
    wrong = "Wr0ng-pr0xy-pa55word"
    monkeypatch.setenv("HTTPS_PROXY", proxy.url(password=wrong))
    with pytest.raises(ProxyError) as info:
        await make_client().request("GET", "/any/path")
    error = info.value
    assert error.status == 407
    assert f"http://127.0.0.1:{proxy.port}" in error.message
    assert "refused to open a tunnel" in error.message
    text = error.describe()
    assert "HTTPS_PROXY" in text
    for secret in (wrong, f"{PROXY_USER}:{wrong}", PROXY_PASSWORD):
        assert secret not in text
        assert secret not in caplog.text
    assert not [r for r in caplog.records if r.name == "unizo_mcp.retry"]  # 407 is not retried
    assert api.requests == []
    # aiohttp's proxy error repr carries Proxy-Authorization; nothing of it may stay chained.
    assert error.__context__ is None and error.__cause__ is None
    chained = "".join(traceback.format_exception(error))
    assert wrong not in chained and "Proxy-Authorization" not in chained


async def test_proxy_down(api: FakeApi, make_client, monkeypatch, caplog) -> None:
    caplog.set_level(logging.INFO, logger="unizo_mcp.retry")
    sock, port = dead_port()
    with sock:
        monkeypatch.setenv("HTTPS_PROXY", f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}")
        with pytest.raises(ProxyError) as info:
            await make_client(UNIZO_RETRY_ATTEMPTS="2").request("POST", "/any/path", json={})
    error = info.value
    assert f"could not connect to the proxy http://127.0.0.1:{port}" in error.message
    assert PROXY_PASSWORD not in error.describe() and PROXY_USER not in error.describe()
    # never reached the API, so even a POST is retried
    assert (
        len([r for r in caplog.records if r.name == "unizo_mcp.retry" and ": retry " in r.getMessage()]) == 2
    )
    assert api.requests == []


async def test_no_proxy_bypasses_the_proxy(api: FakeApi, make_client, monkeypatch) -> None:
    sock, port = dead_port()
    with sock:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        resp = await make_client().request("GET", "/any/path")
    assert resp.status == 200 and len(api.requests) == 1


async def test_no_proxy_localhost_does_not_cover_127_0_0_1(api: FakeApi, make_client, monkeypatch) -> None:
    """aiohttp matches NO_PROXY by name: `localhost` does not exempt `127.0.0.1`."""
    sock, port = dead_port()
    with sock:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("NO_PROXY", "localhost")
        with pytest.raises(ProxyError):
            await make_client(UNIZO_RETRY_ATTEMPTS="0").request("GET", "/any/path")
    assert api.requests == []


async def test_proxy_host_not_resolving(api: FakeApi, make_client, monkeypatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://{PROXY_USER}:{PROXY_PASSWORD}@proxy.nonexistent.invalid:3128")
    with pytest.raises(ProxyError) as info:
        await make_client(UNIZO_RETRY_ATTEMPTS="0").request("GET", "/any/path")
    message = info.value.describe()
    assert "proxy host name proxy.nonexistent.invalid could not be resolved" in message
    assert "http://proxy.nonexistent.invalid:3128" in message
    assert PROXY_PASSWORD not in message and PROXY_USER not in message
    assert api.requests == []


async def test_proxy_is_looked_up_once_per_client(api: FakeApi, make_client, proxy, monkeypatch) -> None:
    """No per-request proxy (or .netrc) lookups in worker threads: one decision per session."""
    import unizo_mcp_core.client as client_module

    calls = []
    lookup = client_module.resolve_proxy

    def counting(url):  # type: ignore[no-untyped-def]
        calls.append(str(url))
        return lookup(url)

    monkeypatch.setattr(client_module, "resolve_proxy", counting)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url())
    client = make_client()
    for _ in range(3):
        assert (await client.request("GET", "/any/path")).status == 200
    assert calls == [api.url]
    assert len(api.seen(PATH)) == 3
    await client.close()
    assert proxy.wait_for_log(f"CONNECT 127.0.0.1:{api.port}"), proxy.log()[-2000:]


async def test_netrc_credentials_are_never_sent_to_the_api(
    api: FakeApi, make_client, monkeypatch, tmp_path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login netrc-user password netrc-s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = make_client()
    assert (await client.request("GET", "/any/path")).status == 200
    assert "Authorization" not in api.seen(PATH)[0].headers
    info = await client.verify_key()
    assert info.valid  # the key's own Bearer header, not the .netrc one
    await client.close()


async def test_proxy_credentials_are_registered_for_redaction(make_client, monkeypatch) -> None:
    from unizo_mcp_core.keys import known_secrets

    monkeypatch.setenv("HTTPS_PROXY", "http://agent:Pr0xy-Pa55@proxy.example:3128")
    client = make_client()
    client._get_session()  # the proxy is resolved with the session
    assert "Pr0xy-Pa55" in known_secrets()
    await client.close()
