"""One proxy decision (`proxy.resolve_proxy`) for the client, `--verify-connection` and the redaction.

The table is the documented rule set; the last tests prove on a real proxy that the client and the
diagnostics take the same path for the same environment (the variable set disagreed before).
"""

from __future__ import annotations

import io

import pytest
from coretest_support import FakeApi
from unizo_mcp_core.diagnostics import verify_connection
from unizo_mcp_core.errors import ConfigError
from unizo_mcp_core.keys import known_secrets
from unizo_mcp_core.proxy import bypassed, proxy_passwords, resolve_proxy

API = "https://api.unizo.ai"
P = "http://proxy.corp:3128"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"HTTPS_PROXY": P}, P),
        ({"https_proxy": P}, P),
        ({"ALL_PROXY": P}, P),  # the case the client used to ignore
        ({"all_proxy": "proxy.corp:3128"}, P),  # scheme defaults to http
        ({"HTTP_PROXY": P}, None),  # http_proxy is for http:// URLs; the API is https
        ({"HTTPS_PROXY": P, "ALL_PROXY": "http://other:1"}, P),  # the specific one wins
        ({"https_proxy": P, "HTTPS_PROXY": "http://upper:1"}, P),  # lower case first, as urllib
        ({"HTTPS_PROXY": "http://proxy.corp"}, "http://proxy.corp:80"),
        ({"HTTPS_PROXY": "https://proxy.corp"}, "https://proxy.corp:443"),
        ({"HTTPS_PROXY": "http://[fd00::1]:8080"}, "http://[fd00::1]:8080"),
        ({"HTTPS_PROXY": P, "NO_PROXY": "*"}, None),
        ({"HTTPS_PROXY": P, "NO_PROXY": "unizo.ai"}, None),  # a domain covers its subdomains
        ({"HTTPS_PROXY": P, "NO_PROXY": ".unizo.ai"}, None),
        ({"HTTPS_PROXY": P, "NO_PROXY": "api.unizo.ai"}, None),
        ({"HTTPS_PROXY": P, "NO_PROXY": "other.com, pi.unizo.ai"}, P),  # no partial label match
        ({"HTTPS_PROXY": P, "NO_PROXY": "api.unizo.ai:8443"}, P),  # another port
        ({"HTTPS_PROXY": P, "NO_PROXY": "api.unizo.ai:443"}, None),
        ({"HTTPS_PROXY": P, "no_proxy": "api.unizo.ai", "NO_PROXY": "x"}, None),
    ],
)
def test_resolution_table(env: dict[str, str], expected: str | None) -> None:
    found = resolve_proxy(API, env)
    assert (found.shown if found else None) == expected


@pytest.mark.parametrize(
    ("host", "no_proxy", "exempt"),
    [
        ("10.1.2.3", "10.0.0.0/8", True),
        ("10.1.2.3", "192.168.0.0/16,10.1.2.3", True),
        ("11.1.2.3", "10.0.0.0/8", False),
        ("127.0.0.1", "localhost", False),  # names are not resolved: localhost does not cover 127.0.0.1
        ("fd00::5", "fd00::/8", True),
        ("[fd00::5]", "[fd00::5]:443", True),
        ("example.com", ".example.com", True),
        ("notexample.com", "example.com", False),
    ],
)
def test_no_proxy_entries(host: str, no_proxy: str, exempt: bool) -> None:
    assert bypassed(host, 443, no_proxy) is exempt


def test_credentials_are_parsed_registered_and_hidden() -> None:
    found = resolve_proxy(API, {"HTTPS_PROXY": "http://u:p%40ss-Res0lver@proxy.corp:3128"})
    assert found is not None
    assert (found.username, found.password, found.shown) == ("u", "p@ss-Res0lver", P)
    assert "p@ss" not in repr(found)
    assert "p@ss-Res0lver" in known_secrets()
    assert "p@ss-Res0lver" in proxy_passwords({"ALL_PROXY": "http://u:p%40ss-Res0lver@h:1"})


@pytest.mark.parametrize("raw", ["socks5://proxy.corp:1080", "socks5h://u:p@proxy:1080"])
def test_socks_proxies_are_refused_not_bypassed(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"socks5h?:// proxies are not supported"):
        resolve_proxy(API, {"ALL_PROXY": raw})


@pytest.mark.parametrize(
    ("raw", "password"),
    [("http://u:Unclosed-Br4cket@[proxy.corp:3128", "Unclosed-Br4cket"), ("u:N0-Scheme@[::1", "N0-Scheme")],
)
def test_a_url_urlsplit_refuses_is_a_config_error_and_its_password_stays_secret(
    raw: str, password: str
) -> None:
    assert password not in known_secrets()
    with pytest.raises(ConfigError, match=r"^Invalid HTTPS_PROXY: not a URL; expected a proxy URL") as info:
        resolve_proxy(API, {"HTTPS_PROXY": raw})
    assert password not in info.value.describe()
    assert password in known_secrets()  # registered before the value could fail to parse
    assert password in proxy_passwords({"https_proxy": raw})


def test_bad_port_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="port"):
        resolve_proxy(API, {"HTTPS_PROXY": "http://proxy:99999"})


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])
async def test_client_and_diagnostics_take_the_same_path(
    variable: str, api: FakeApi, make_client, make_settings, proxy, monkeypatch
) -> None:
    monkeypatch.setenv(variable, proxy.url())
    client = make_client()
    assert (await client.request("GET", "/any/thing")).status == 200
    await client.close()
    assert proxy.wait_for_log(f"CONNECT 127.0.0.1:{api.port}"), "the client went direct"
    settings = make_settings()
    out = io.StringIO()
    await verify_connection(lambda: (settings, []), out=out)
    tcp = next(line for line in out.getvalue().splitlines() if "TCP connect" in line)
    assert f"through the proxy http://127.0.0.1:{proxy.port}" in tcp, out.getvalue()


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "127.0.0.0/8", "*"])
async def test_no_proxy_sends_both_direct(
    no_proxy: str, api: FakeApi, make_client, make_settings, proxy, monkeypatch
) -> None:
    monkeypatch.setenv("ALL_PROXY", proxy.url())
    monkeypatch.setenv("NO_PROXY", no_proxy)
    client = make_client()
    assert (await client.request("GET", "/any/thing")).status == 200
    await client.close()
    settings = make_settings()
    out = io.StringIO()
    await verify_connection(lambda: (settings, []), out=out)
    tcp = next(line for line in out.getvalue().splitlines() if "TCP connect" in line)
    assert "through the proxy" not in tcp and f"to 127.0.0.1:{api.port}" in tcp, out.getvalue()
    assert f"CONNECT 127.0.0.1:{api.port}" not in proxy.log()
