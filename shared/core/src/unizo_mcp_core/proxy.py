"""Which proxy an API call goes through: one decision for the client, the diagnostics and the redaction.

Honoured, for the https:// API (the only scheme the servers speak):

* `HTTPS_PROXY`, then `ALL_PROXY`; `HTTP_PROXY` applies to http:// URLs only (as in curl and
  Python's urllib), so it never carries an API call. Each name is read lower-case first, then
  upper-case (urllib's rule when both are set).
* `NO_PROXY` (lower-case first): comma- or space-separated entries; `*` exempts everything; a host
  name exempts itself and its subdomains (`example.com` and `.example.com` both match
  `api.example.com`; the leading dot also matches `example.com`, as curl does); an IP address or a
  CIDR range (`10.0.0.0/8`, `fd00::/8`) exempts the addresses in it; `host:port` exempts that port only.
* A proxy URL is `http://[user:password@]host[:port]` (the scheme defaults to http, the port to 80;
  `https://` proxies default to 443). SOCKS proxies are refused with a ConfigError: the client cannot
  use them, and silently going direct would bypass the network's rules.

Pure: the standard library and `errors`/`keys` only. Passwords are registered with the redaction
filter the moment they are read.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import attrs

from .errors import ConfigError
from .keys import remember_secret

__all__ = ["PROXY_VARIABLES", "Proxy", "bypassed", "proxy_passwords", "resolve_proxy"]

# Every variable that may hold proxy credentials, for the redaction filter.
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "http_proxy", "HTTP_PROXY")
_FOR_HTTPS = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
_FOR_HTTP = ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")
_SCHEMES = {"http": 80, "https": 443}


@attrs.frozen
class Proxy:
    """A proxy to go through; the credentials are never part of its repr or `shown`."""

    scheme: str
    host: str
    port: int
    variable: str  # where it came from, for messages
    username: str | None = attrs.field(default=None, repr=False)
    password: str | None = attrs.field(default=None, repr=False)

    @property
    def shown(self) -> str:
        """The proxy's address without credentials: http://proxy.example:3128."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def _first(env: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def _password(raw: str) -> str | None:
    """The password in a proxy URL's user info, as `urlsplit` would find it, but also in a URL it
    refuses (an unclosed `[`): the redaction must know it before anything can fail on the value."""
    rest = raw.split("://", 1)[1] if "://" in raw else raw
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    userinfo, at, _ = netloc.rpartition("@")
    _, colon, password = userinfo.partition(":")
    return password if at and colon and password else None


def _parse(variable: str, raw: str) -> Proxy:
    password = _password(raw)
    if password:
        remember_secret(password)
        remember_secret(unquote(password))
    try:
        parts = urlsplit(raw if "://" in raw else f"http://{raw}")
    except ValueError:  # "Invalid IPv6 URL" and the like; the value is not repeated: it may hold a password
        raise ConfigError(
            f"Invalid {variable}: not a URL; expected a proxy URL such as http://proxy.example:3128"
        ) from None
    scheme = (parts.scheme or "http").lower()
    if scheme not in _SCHEMES:
        raise ConfigError(
            f"Invalid {variable}: {scheme}:// proxies are not supported; use an http:// or https:// proxy "
            "(or unset the variable to connect directly)"
        )
    try:
        port = parts.port or _SCHEMES[scheme]
    except ValueError:
        raise ConfigError(f"Invalid {variable}: the proxy port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ConfigError(f"Invalid {variable}: expected a proxy URL such as http://proxy.example:3128")
    username = unquote(parts.username) if parts.username else None
    return Proxy(scheme, parts.hostname, port, variable, username, unquote(password) if password else None)


def bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Whether NO_PROXY exempts `host` (a name or an IP address) on `port`."""
    host = host.lower().strip("[]").rstrip(".")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in no_proxy.replace(",", " ").split():
        entry = entry.strip().lower()
        if entry == "*":
            return True
        name, wanted_port = _split_port(entry)
        if wanted_port is not None and wanted_port != port:
            continue
        if address is not None:
            try:
                if address in ipaddress.ip_network(name, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name = name.lstrip(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    """'host:8443' → ('host', 8443); '[::1]:443' → ('::1', 443); an IPv6 address or CIDR stays whole."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if port.isdigit():
            return host, int(port)
    return entry, None


def resolve_proxy(url: str, environ: Mapping[str, str] | None = None) -> Proxy | None:
    """The proxy a request to `url` goes through, or None for a direct connection."""
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    found = _first(env, _FOR_HTTPS if scheme == "https" else _FOR_HTTP)
    if found is None:
        return None
    no_proxy = _first(env, ("no_proxy", "NO_PROXY"))
    port = parts.port or _SCHEMES.get(scheme)
    if no_proxy is not None and bypassed(parts.hostname or "", port, no_proxy[1]):
        return None
    return _parse(*found)


def proxy_passwords(environ: Mapping[str, str] | None = None) -> list[str]:
    """The passwords (raw and percent-decoded) of every proxy variable, for the redaction filter."""
    env = os.environ if environ is None else environ
    found: list[str] = []
    for name in PROXY_VARIABLES:
        raw = env.get(name, "").strip()
        if not raw:
            continue
        password = _password(raw)
        if password:
            found += [password, unquote(password)]
    return found
