"""`--test-auth` and `--verify-connection`: what the key may do, and a checklist from DNS to a real read.

Both write only their report to stdout and return the exit code of the first failure class
(`errors.ExitCode`). DNS, TCP, proxy CONNECT and TLS are checked with asyncio and ssl directly.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import ssl
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO, cast
from urllib.parse import urlsplit

import attrs

from .auth import KeyInfoLike, check_key, format_permissions, key_label, permissions_for, require_permission
from .errors import (
    ConfigError,
    ConnectError,
    DnsError,
    ExitCode,
    NetworkError,
    NotFoundError,
    ProxyError,
    TlsError,
    UnizoError,
)
from .keys import remember_secret
from .proxy import Proxy, resolve_proxy
from .redaction import RedactedWriter, scrub
from .scopes import key_groups
from .settings import Settings
from .spec import ServiceSpec
from .values import header_value

if TYPE_CHECKING:
    from .client import UnizoClient

__all__ = [
    "Report",
    "run_test_auth",
    "run_verify_connection",
    "test_auth",
    "verify_connection",
]

CONFIG_REMEDY = "Set the variable named above to a valid value (--help lists every setting and its flag)."
LOW_HEADROOM = 0.1  # warn when less than this share of the per-minute allowance is left
SLOW_MS = 2000.0


# --- output ------------------------------------------------------------------------------------


def _marks(out: TextIO) -> dict[str, str]:
    fancy = {"ok": "✓", "fail": "✗", "warn": "!", "skip": "-"}
    try:
        "✓✗".encode(out.encoding or "ascii")
    except (LookupError, UnicodeEncodeError):
        return {"ok": "[ok]", "fail": "[fail]", "warn": "[warn]", "skip": "[skip]"}
    return fancy


class Report:
    """A checklist on `out`: one line per step; remembers the first failure's exit code."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.marks = _marks(out)
        self.first_failure: ExitCode | None = None

    def line(self, kind: str, label: str, detail: str, remedy: str | None = None) -> None:
        text = f"{self.marks[kind]} {label}: {' '.join(detail.split())}"
        if remedy:
            text += f" Remedy: {' '.join(remedy.split())}"
        self.out.write(text + "\n")
        self.out.flush()

    def ok(self, label: str, detail: str) -> None:
        self.line("ok", label, detail)

    def warn(self, label: str, detail: str, remedy: str | None = None) -> None:
        self.line("warn", label, detail, remedy)

    def skip(self, label: str, detail: str = "skipped after an earlier failure") -> None:
        self.line("skip", label, detail)

    def fail(self, label: str, exc: UnizoError) -> None:
        detail = exc.message.rstrip(".")
        facts = [
            f"HTTP {exc.status}" if exc.status else "",
            f"errorCode {exc.error_code}" if exc.error_code else "",
        ]
        facts += [f"correlationId {exc.correlation_id}" if exc.correlation_id else ""]
        shown = ", ".join(f for f in facts if f)
        remedy = exc.hint or (CONFIG_REMEDY if isinstance(exc, ConfigError) else None)
        self.line("fail", label, f"{detail}{f' ({shown})' if shown else ''}.", remedy)
        if self.first_failure is None:
            self.first_failure = exc.exit_code

    @property
    def exit_code(self) -> int:
        return int(self.first_failure if self.first_failure is not None else ExitCode.OK)


# --- formatting helpers --------------------------------------------------------------------------


def _name(entries: Any) -> str:
    """Certificate subject/issuer tuples → "CN=..., O=..."."""
    wanted = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU"}
    parts = []
    for rdn in entries or ():
        for key, value in rdn:
            if key in wanted:
                parts.append(f"{wanted[key]}={value}")
    return ", ".join(parts) or "(no name)"


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _expiry(value: Any) -> str:
    if value is None:
        return "never"
    when: datetime | None = value if isinstance(value, datetime) else None
    if when is None:
        try:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    days = (when - datetime.now(UTC)).days
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{stamp} (in {days} days)" if days >= 0 else f"{stamp} (expired)"


def _organization(value: Any) -> str:
    if isinstance(value, Mapping):
        name, ident = value.get("name"), value.get("id")
        if name and ident:
            return f"{name} ({ident})"
        return str(name or ident or "unknown")
    return "unknown" if value is None else str(value)


def _ca_source(settings: Settings) -> str:
    if settings.ca_bundle is not None:
        return f"CA file {settings.ca_bundle} (UNIZO_CA_BUNDLE) + system store"
    if os.environ.get("SSL_CERT_FILE"):
        return f"CA file {os.environ['SSL_CERT_FILE']} (SSL_CERT_FILE)"
    return "system CA store"


def _ssl_context(settings: Settings) -> ssl.SSLContext:
    from .tls import create_ssl_context

    return create_ssl_context(settings.ca_bundle)


def _new_client(
    settings: Settings, package: str | None, version: str | None, services: Sequence[ServiceSpec]
) -> Any:
    from .client import UnizoClient
    from .registry import user_agent

    return UnizoClient(settings, user_agent=user_agent(services, package, version))


def _key_variable(settings: Settings, services: Sequence[ServiceSpec]) -> str:
    """The variable a message tells the user to set: the service's own, or the one the key came from."""
    if len(services) == 1:
        return services[0].key_variable
    origin = settings.api_key.origin if settings.api_key is not None else ""
    return origin.removesuffix("_FILE") or "UNIZO_API_KEY"


def _by_key(settings: Settings, services: Sequence[ServiceSpec]) -> list[tuple[Settings, list[ServiceSpec]]]:
    """(settings with that key, its services) for each key the services use (the all-in-one server
    gives each service its own key when one is set)."""
    return [
        (attrs.evolve(settings, api_key=key, service_keys=()), [s for s in services if s.name in names])
        for key, names in key_groups(settings, services)
    ]


# --- --test-auth ---------------------------------------------------------------------------------


async def test_auth(
    settings: Settings,
    services: Sequence[ServiceSpec],
    *,
    out: TextIO,
    client: UnizoClient | None = None,
    package: str | None = None,
    version: str | None = None,
) -> int:
    """Verify each key the services use and print what the API says of it; the first failure's code."""
    codes = []
    for scoped, members in _by_key(settings, services):
        codes.append(
            await _test_one_key(scoped, members, out=out, client=client, package=package, version=version)
        )
    return next((code for code in codes if code), int(ExitCode.OK))


async def _test_one_key(
    settings: Settings,
    services: Sequence[ServiceSpec],
    *,
    out: TextIO,
    client: UnizoClient | None,
    package: str | None,
    version: str | None,
) -> int:
    """Fingerprint, environment, name, expiry, organization and permissions of one key."""
    own = client is None
    api = client if client is not None else _new_client(settings, package, version, services)
    names = [s.name for s in services]
    fp = settings.api_key.fingerprint() if settings.api_key is not None else None
    origin = settings.api_key.origin if settings.api_key is not None else ""

    def show(label: str, value: str) -> None:
        out.write(f"  {label:<13} {value}\n")

    out.write(f"Unizo API key check ({', '.join(names)})\n")
    show("key", f"{fp} from {origin}" if origin else str(fp))
    for warning in settings.api_key.warnings if settings.api_key is not None else ():
        show("warning", warning)
    show("API", f"{settings.base_url} (expected environment {settings.environment})")
    try:
        info: KeyInfoLike = await api.verify_key(services[0].category)
        show("valid", "yes" if info.valid else "no")
        show("name", str(getattr(info, "name", None) or "unknown"))
        show("key id", str(getattr(info, "key_id", None) or "unknown"))
        show("environment", str(info.environment or "unknown"))
        show("expires", _expiry(getattr(info, "expires_at", None)))
        show("organization", _organization(getattr(info, "organization", None)))
        for service, granted in format_permissions(info, names).items():
            show("permissions", f"{service}: {granted}")
        check_key(info, settings)
        require_permission(info, names, fp, _key_variable(settings, services))
    except UnizoError as exc:
        out.write(f"Result: FAILED: {exc.describe()}\n")
        out.flush()
        return int(exc.exit_code)
    finally:
        if own:
            await api.close()
    allowed = [s for s, a in (permissions_for(info, names) or {}).items() if a is None or a]
    out.write(f"Result: OK: the key is valid and can use {', '.join(allowed)}.\n")
    out.flush()
    return int(ExitCode.OK)


test_auth.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite the name


def run_test_auth(
    settings: Settings,
    services: Sequence[ServiceSpec],
    *,
    package: str | None = None,
    version: str | None = None,
) -> int:
    out = cast(TextIO, RedactedWriter(sys.stdout))
    return asyncio.run(test_auth(settings, services, out=out, package=package, version=version))


# --- --verify-connection -------------------------------------------------------------------------


async def _open(
    host: str, port: int, timeout: float, **kw: Any
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(host, port, **kw), timeout)


async def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is None:
        return
    writer.close()
    with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
        await asyncio.wait_for(writer.wait_closed(), 2)


async def _connect_tunnel(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    proxy: Proxy,
    host: str,
    port: int,
    timeout: float,
) -> None:
    lines = [f"CONNECT {host}:{port} HTTP/1.1", f"Host: {host}:{port}"]
    if proxy.username is not None:
        token = base64.b64encode(f"{proxy.username}:{proxy.password or ''}".encode()).decode()
        remember_secret(token)  # a proxy may echo it back in its refusal
        lines.append(f"Proxy-Authorization: Basic {token}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or parts[1] != "200":
        raise ProxyError(
            f"The proxy {proxy.shown} refused the tunnel to {host}:{port}: {scrub(status_line.strip())}",
            status=int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None,
        )


async def verify_connection(
    load: Callable[[], tuple[Settings, Sequence[ServiceSpec]]],
    *,
    out: TextIO,
    client: UnizoClient | None = None,
    package: str | None = None,
    version: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """The checklist; returns the exit code of the first failure class (0 when every check passed)."""
    report = Report(out)
    try:
        settings, services = load()
    except UnizoError as exc:
        report.fail("settings", exc)
        return report.exit_code
    names = [s.name for s in services]
    try:
        keyed = _by_key(settings, services)
    except UnizoError as exc:
        report.fail("settings", exc)
        return report.exit_code
    keys = "; ".join(
        f"key {_fingerprint(scoped)} from {_origin(scoped)}"
        + (f" ({', '.join(s.name for s in members)})" if len(keyed) > 1 else "")
        for scoped, members in keyed
    )
    report.ok(
        "settings",
        f"{settings.base_url}, environment {settings.environment}, services {', '.join(names)}, {keys}",
    )
    for scoped, _ in keyed:
        for warning in scoped.api_key.warnings if scoped.api_key is not None else ():
            report.warn("key file", warning, "Keep the key readable only by you.")
    parts = urlsplit(settings.base_url)
    host = parts.hostname or ""
    port = parts.port or 443
    timeout = min(settings.timeout, 15.0)
    proxy = resolve_proxy(settings.base_url, environ)
    loop = asyncio.get_running_loop()

    # DNS
    network_ok = True
    try:
        start = time.perf_counter()
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=0, proto=6), timeout)
        addresses = sorted({str(i[4][0]) for i in infos})
        report.ok("DNS", f"{host} resolves to {', '.join(addresses[:4])} ({_ms(start):.0f} ms)")
    except (OSError, TimeoutError) as exc:
        if proxy is not None:
            report.warn(
                "DNS", f"{host} does not resolve locally ({exc}); the proxy {proxy.shown} resolves it"
            )
        else:
            report.fail("DNS", DnsError(f"{host} does not resolve: {getattr(exc, 'strerror', None) or exc}"))
            network_ok = False

    # TCP (to the proxy when one applies)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    if network_ok:
        target = (proxy.host, proxy.port) if proxy else (host, port)
        try:
            start = time.perf_counter()
            if proxy is not None and proxy.scheme == "https":  # TLS to the proxy, then the tunnel inside
                context = _ssl_context(settings)
                reader, writer = await _open(*target, timeout, ssl=context, server_hostname=proxy.host)
            else:
                reader, writer = await _open(*target, timeout)
            peer = writer.get_extra_info("peername")
            where = f"{peer[0]}:{peer[1]}" if peer else f"{target[0]}:{target[1]}"
            via = f"through the proxy {proxy.shown} ({where})" if proxy else f"to {where}"
            report.ok("TCP connect", f"connected {via} in {_ms(start):.0f} ms")
        except (OSError, TimeoutError) as exc:
            reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
            if proxy:
                report.fail("TCP connect", ProxyError(f"Cannot connect to the proxy {proxy.shown}: {reason}"))
            else:
                report.fail("TCP connect", ConnectError(f"Cannot connect to {host}:{port}: {reason}"))
            network_ok = False
    else:
        report.skip("TCP connect")

    # TLS (inside the CONNECT tunnel when proxied)
    if network_ok and reader is not None and writer is not None:
        try:
            context = _ssl_context(settings)
            start = time.perf_counter()
            if proxy:
                await _connect_tunnel(reader, writer, proxy, host, port, timeout)
                await asyncio.wait_for(writer.start_tls(context, server_hostname=host), timeout)
            else:
                await _close(writer)
                reader, writer = await _open(host, port, timeout, ssl=context, server_hostname=host)
            ssl_object = writer.get_extra_info("ssl_object")
            cert = ssl_object.getpeercert() if ssl_object is not None else None
            subject = _name(cert.get("subject")) if cert else "unknown"
            issuer = _name(cert.get("issuer")) if cert else "unknown"
            protocol = ssl_object.version() if ssl_object is not None else "?"
            report.ok(
                "TLS handshake",
                f"{protocol}, certificate {subject}, issued by {issuer}, "
                f"verified with {_ca_source(settings)} "
                f"({_ms(start):.0f} ms)",
            )
        except ssl.SSLCertVerificationError as exc:
            report.fail(
                "TLS handshake",
                TlsError(
                    f"The certificate of {host} could not be verified ({exc.verify_message or exc.reason}) "
                    f"with {_ca_source(settings)}"
                ),
            )
            network_ok = False
        except (ProxyError, ConfigError) as exc:
            report.fail("TLS handshake", exc)
            network_ok = False
        except (
            ssl.SSLError,
            OSError,
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ) as exc:
            report.fail("TLS handshake", TlsError(f"TLS handshake with {host} failed: {exc}"))
            network_ok = False
        finally:
            await _close(writer)
    else:
        report.skip("TLS handshake")

    if not network_ok:
        for label in ("health", "key", "permission", "read", "rate limit", "latency"):
            report.skip(label)
        return report.exit_code

    timings: dict[str, float] = {}
    for index, (scoped, members) in enumerate(keyed):
        own = client is None
        api = client if client is not None else _new_client(scoped, package, version, members)
        try:
            await _http_checks(report, api, scoped, members, timings, health=index == 0)
        finally:
            if own:
                await api.close()
    if timings:
        shown = ", ".join(f"{k} {v:.0f} ms" for k, v in timings.items())
        slowest = max(timings.values())
        if slowest > SLOW_MS:
            report.warn(
                "latency", f"round trips: {shown}", "Expect slow tool calls; check the network or proxy."
            )
        else:
            report.ok("latency", f"round trips: {shown}")
    else:
        report.skip("latency")
    return report.exit_code


def _fingerprint(settings: Settings) -> str:
    return settings.api_key.fingerprint() if settings.api_key is not None else "none"


def _origin(settings: Settings) -> str:
    return settings.api_key.origin if settings.api_key is not None else ""


async def _http_checks(
    report: Report,
    api: Any,
    settings: Settings,
    services: Sequence[ServiceSpec],
    timings: dict[str, float],
    *,
    health: bool,
) -> None:
    """Health (once), then this key: validity, permission, a read per service, rate-limit headroom."""
    names = [s.name for s in services]
    key_fp = _fingerprint(settings)
    if health and not await _health(report, api, settings, timings):
        return
    await _key_checks(report, api, settings, services, names, key_fp, timings)


async def _health(report: Report, api: Any, settings: Settings, timings: dict[str, float]) -> bool:
    """The health line; False (and the later checks skipped) only when the API cannot be reached.

    A missing health endpoint is a warning: Unizo documents health at different paths in different
    places, and the key, permission and read checks say more anyway.
    """
    try:
        start = time.perf_counter()
        path, health = await api.health()
        timings["health"] = _ms(start)
    except NotFoundError as exc:
        report.warn(
            "health",
            f"no health endpoint answered (GET /health and GET /v1/health: HTTP {exc.status})",
            "Nothing to do if the checks below pass: the key, permission and read checks still run.",
        )
        return True
    except NetworkError as exc:
        report.fail("health", exc)
        for label in ("key", "permission", "read", "rate limit"):
            report.skip(label)
        return False
    except UnizoError as exc:
        report.warn("health", f"{exc.message.rstrip('.')}", "The checks below show whether the API works.")
        return True
    body = getattr(health, "data", health)
    if isinstance(body, Mapping):
        detail = ", ".join(f"{k} {body[k]}" for k in ("status", "version", "environment") if body.get(k))
    else:
        detail = "ok"
    environment = body.get("environment") if isinstance(body, Mapping) else None
    if environment and str(environment).lower() != settings.environment:
        report.warn(
            "health",
            f"GET {path}: {detail or 'ok'}; this API serves {environment}, not {settings.environment}",
            "Set UNIZO_ENVIRONMENT and UNIZO_BASE_URL to the same environment as your key.",
        )
    else:
        report.ok("health", f"GET {path}: {detail or 'ok'}")
    return True


async def _key_checks(
    report: Report,
    api: Any,
    settings: Settings,
    services: Sequence[ServiceSpec],
    names: list[str],
    key_fp: str,
    timings: dict[str, float],
) -> None:
    # key
    try:
        start = time.perf_counter()
        info = await api.verify_key(services[0].category)
        timings[f"verify {key_fp}" if "verify" in timings else "verify"] = _ms(start)
        check_key(info, settings)
        report.ok(
            "key",
            f"{key_label(info, key_fp)} valid, environment {info.environment}, "
            f"expires {_expiry(getattr(info, 'expires_at', None))}, "
            f"organization {_organization(getattr(info, 'organization', None))}",
        )
    except UnizoError as exc:
        report.fail("key", exc)
        for label in ("permission", "read", "rate limit"):
            report.skip(label)
        return

    # permission
    shown = "; ".join(f"{s}: {a}" for s, a in format_permissions(info, names).items())
    try:
        require_permission(info, names, key_fp, _key_variable(settings, services))
    except UnizoError as exc:
        report.fail("permission", exc)
        for label in ("read", "rate limit"):
            report.skip(label)
        return
    known = permissions_for(info, names) or {}
    lacking = [s for s, a in known.items() if a is not None and not a]
    if lacking:
        report.warn(
            "permission", shown, f"The key has no permission on {', '.join(lacking)}: those tools are hidden."
        )
    else:
        report.ok("permission", shown)

    # a cheap read on each service: list its integrations; rate-limit headroom from its headers
    headers: Mapping[str, str] = {}
    readable = [s for s in services if known.get(s.name) is None or "read" in (known.get(s.name) or ())]
    if not readable:
        report.warn("read", "skipped: the key has no read permission on the selected services")
    for service in readable:
        try:
            start = time.perf_counter()
            response = await api.search_integrations(service.category)
            timings[f"{service.name} read"] = _ms(start)
            body = response.data if isinstance(response.data, Mapping) else {}
            raw_items = body.get("data")
            items: list[Any] = raw_items if isinstance(raw_items, list) else []
            counts: dict[str, int] = {}
            for item in items:
                profile = item.get("serviceProfile") if isinstance(item, Mapping) else None
                connector = str(profile.get("name", "?")).lower() if isinstance(profile, Mapping) else "?"
                counts[connector] = counts.get(connector, 0) + 1
            listing = ", ".join(f"{c}: {n}" for c, n in sorted(counts.items()))
            report.ok(
                "read",
                f"{service.name}: {len(items)} integration(s){f' ({listing})' if listing else ''}",
            )
            headers = response.headers or {}
        except UnizoError as exc:
            report.fail("read", exc)
    _rate_limit(report, headers, info)


def _rate_limit(report: Report, headers: Mapping[str, str], info: Any) -> None:
    limits = getattr(info, "rate_limits", None)
    configured = ""
    if isinstance(limits, Mapping) and limits:
        configured = "; key limits " + ", ".join(f"{k} {v}" for k, v in sorted(limits.items()))
    limit, remaining = (
        header_value(headers, "X-RateLimit-Limit"),
        header_value(headers, "X-RateLimit-Remaining"),
    )
    if limit is None or remaining is None:
        report.warn("rate limit", f"no X-RateLimit headers in the response{configured}")
        return
    try:
        left, total = int(float(remaining)), int(float(limit))
    except ValueError:
        report.warn("rate limit", f"unreadable X-RateLimit headers ({remaining}/{limit}){configured}")
        return
    reset = header_value(headers, "X-RateLimit-Reset-After")
    detail = (
        f"{left} of {total} requests left this minute{f', next in {reset} s' if reset else ''}{configured}"
    )
    if total > 0 and left < total * LOW_HEADROOM:
        report.warn(
            "rate limit", detail, "Little headroom: other clients share this key's limit; wait or use fewer."
        )
    else:
        report.ok("rate limit", detail)


def run_verify_connection(
    load: Callable[[], tuple[Settings, Sequence[ServiceSpec]]],
    *,
    package: str | None = None,
    version: str | None = None,
) -> int:
    def loaded() -> tuple[Settings, Sequence[ServiceSpec]]:
        settings, services = load()
        from .redaction import configure_logging

        configure_logging(settings.log_level, log_auth=settings.log_auth)
        return settings, services

    out = cast(TextIO, RedactedWriter(sys.stdout))
    return asyncio.run(verify_connection(loaded, out=out, package=package, version=version))
