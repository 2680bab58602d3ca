"""Streamable HTTP serving: loopback by default, DNS-rebinding protection always on.

`check_bind()` is pure (used by the CLI before anything else happens); the serving part imports
the MCP SDK and uvicorn lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
import logging
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from .errors import INTERRUPTED, ConfigError, ExitCode, UnizoError
from .settings import Settings
from .spec import ServiceSpec
from .stdio import serve_stdio

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

    from .server import UnizoServer

__all__ = [
    "MCP_PATH",
    "allowed_hosts",
    "check_bind",
    "is_loopback",
    "serve",
    "serve_http",
    "serve_stdio",
    "transport_security",
]

MCP_PATH = "/mcp"
log = logging.getLogger("unizo_mcp.transport")
_LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings) -> None:
    """Refuse a non-loopback bind without --allow-remote, and --allow-remote without credentials the
    operator chose (UNIZO_HTTP_TOKEN, or per-request keys): ConfigError, exit 2."""
    if settings.transport != "streamable-http" or is_loopback(settings.host):
        return
    if not settings.allow_remote:
        raise ConfigError(
            f"Refusing to serve MCP over HTTP on the non-loopback address {settings.host}: "
            "anyone who can reach it "
            "could use this server's API key. Bind 127.0.0.1 (the default), or pass --allow-remote "
            "(UNIZO_ALLOW_REMOTE=true) with UNIZO_HTTP_TOKEN or --auth per-request"
        )
    if settings.http_auth != "per-request" and settings.http_token is None:
        raise ConfigError(
            f"Refusing --allow-remote on {settings.host} without a token you chose: set UNIZO_HTTP_TOKEN "
            "(clients send Authorization: Bearer <token>), or use --auth per-request (each client sends "
            "its own Unizo key)"
        )


def _host_pattern(host: str) -> str:
    return f"[{host}]:*" if ":" in host and not host.startswith("[") else f"{host}:*"


def allowed_hosts(settings: Settings) -> list[str]:
    """`Host` header values accepted: loopback names, plus the bind address when remote is allowed."""
    hosts = list(_LOOPBACK_HOSTS)
    host = settings.host.strip()
    if not is_loopback(host):
        names = [host]
        try:
            wildcard = ipaddress.ip_address(host.strip("[]")).is_unspecified
        except ValueError:
            wildcard = False
        if wildcard:
            names = [socket.gethostname(), socket.getfqdn()]
        hosts += [_host_pattern(n) for n in names if n]
    elif host not in ("127.0.0.1", "localhost", "::1"):
        hosts.append(_host_pattern(host))
    return list(dict.fromkeys(hosts))


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Explicit DNS-rebinding protection: foreign `Host` and `Origin` headers are refused."""
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = allowed_hosts(settings)
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def _bind(settings: Settings) -> socket.socket:
    host = settings.host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(
            f"Cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"
        ) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"Cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
            hint="Choose another port with --port (UNIZO_PORT).",
        ) from None
    return sock


async def serve_http(server: UnizoServer, settings: Settings) -> None:
    """Serve `server` at http://host:port/mcp until interrupted."""
    import uvicorn

    from .httpgate import HttpGate, new_token_file

    sock = _bind(settings)
    port = sock.getsockname()[1]
    app = server.mcp.streamable_http_app(
        streamable_http_path=MCP_PATH,
        transport_security=transport_security(settings),
        host=settings.host,
        stateless_http=settings.stateless,
        session_idle_timeout=settings.session_idle_timeout,
        max_sessions=settings.max_sessions,
    )
    token_file = None
    if settings.http_auth == "per-request":
        gate = HttpGate(app, per_request=True)
        log.info("per-request authentication: each client sends its own Unizo key (Authorization: Bearer)")
    else:
        token = settings.http_token
        if token is None:
            token_file = new_token_file(server.mcp.name, port)
            token = token_file.token
            log.info(
                "clients authenticate with Authorization: Bearer <token>; the token is in %s (readable by "
                "you only, removed when the server stops), or set UNIZO_HTTP_TOKEN",
                token_file.path,
            )
        gate = HttpGate(app, token=token, on_shutdown=token_file.close if token_file else None)
    config = uvicorn.Config(
        gate,
        log_config=None,  # uvicorn logs propagate to the root logger: stderr, redacted
        log_level=settings.log_level,
        lifespan="on",
        server_header=False,
    )
    shown = f"[{settings.host}]" if ":" in settings.host else settings.host
    log.info("serving MCP over streamable HTTP at http://%s:%d%s", shown, port, MCP_PATH)
    try:
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        sock.close()
        if token_file is not None:
            token_file.close()


@contextlib.contextmanager
def collector_paused() -> Iterator[Callable[[], None]]:
    """The garbage collector off for a server's start, until the `started()` this yields is called.

    A start imports the SDK and aiohttp and builds the server: objects that live as long as the process,
    which the collector would walk again and again and find no garbage in. `started()` freezes what the
    start built out of later collections (`gc.freeze`) and turns the collector back on; leaving the block
    puts it back as it was, whether or not the start got that far."""
    was_enabled = gc.isenabled()
    gc.disable()

    def started() -> None:
        gc.freeze()
        if was_enabled:
            gc.enable()

    try:
        yield started
    finally:
        if was_enabled:
            gc.enable()


async def _serve(
    settings: Settings,
    services: Sequence[ServiceSpec],
    name: str | None,
    version: str | None,
    package: str | None,
    started: Callable[[], None],
) -> int:
    from .scopes import close_scopes, open_scopes

    # Verify the key(s) before importing the MCP SDK: a refused key fails fast. Per-request
    # authentication has no key of its own: each request's key is verified when it comes.
    per_request = settings.transport == "streamable-http" and settings.http_auth == "per-request"
    scopes = [] if per_request else await open_scopes(settings, services, package=package, version=version)
    try:
        from .server import prepare_server

        server = await prepare_server(
            settings, services, name=name, version=version, package=package, scopes=scopes or None
        )
        started()
        if settings.transport == "streamable-http":
            await serve_http(server, settings)
        else:
            log.info("serving MCP over stdio")
            with _stopped_by(signal.SIGTERM, signal.SIGINT) as received:
                await serve_stdio(server)
            if signal.SIGINT in received:
                return INTERRUPTED
    finally:
        await close_scopes(scopes)
    return int(ExitCode.OK)


@contextlib.contextmanager
def _stopped_by(*signums: signal.Signals) -> Iterator[list[signal.Signals]]:
    """Stop serving on any of `signums` as on stdin EOF: calls in flight are cancelled, then the cleanup
    runs (a call's share of the key's limits ends now, not when its lease expires; the HTTP session
    closes). Yields the signals received. MCP clients send SIGTERM to a server still running a moment
    after they closed its stdin; Ctrl-C sends SIGINT. (uvicorn does the same for the HTTP transport.)"""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[signal.Signals] = []

    def stop(signum: signal.Signals) -> None:
        if not received:
            log.info("stopping: %s received", signum.name)
        received.append(signum)
        task.cancel()

    try:
        for signum in signums:
            loop.add_signal_handler(signum, stop, signum)
    except (ValueError, RuntimeError):  # not the main thread (an embedding application's): its signals
        yield received
        return
    try:
        yield received
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        if not received:
            raise
        # the stop asked for: cancelled, or an error of the SDK's tasks torn down mid-message
        task.uncancel()
        if not isinstance(exc, asyncio.CancelledError):
            log.debug("serving ended by the stop with %r", exc)
    finally:
        for signum in signums:
            loop.remove_signal_handler(signum)


def serve(
    settings: Settings,
    services: Sequence[ServiceSpec],
    *,
    name: str | None = None,
    version: str | None = None,
    package: str | None = None,
) -> int:
    """Blocking: verify the key, build the server, serve until the client leaves (stdio EOF) or a signal.

    Returns the exit code: `ExitCode.OK`, or `INTERRUPTED` when Ctrl-C stopped stdio serving. Raises
    `UnizoError` for startup refusals (the CLI maps them to exit codes).
    """
    try:
        with collector_paused() as started:
            return asyncio.run(_serve(settings, services, name, version, package, started))
    except BaseExceptionGroup as group:  # task groups wrap errors; surface the first UnizoError
        matched, _ = group.split(UnizoError)
        if matched is not None:
            raise _first(matched) from None
        raise


def _first(group: BaseExceptionGroup[UnizoError]) -> UnizoError:
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    assert isinstance(exc, UnizoError)
    return exc
