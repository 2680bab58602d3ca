"""The one SSL context every API call uses: verification always on.

Trust = the system default store (which honours SSL_CERT_FILE / SSL_CERT_DIR) plus, when set,
UNIZO_CA_BUNDLE (a corporate TLS-inspection CA or a private deployment's CA). There is no
parameter that turns verification off, on purpose.

Loading the trust store is OpenSSL's work, done without the GIL: `prepare_ssl_context` starts it on a
thread while a starting server imports its HTTP stack, and the client's `create_ssl_context` then
takes the context that thread built (or waits for it) instead of loading the store again.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path

from .errors import ConfigError

__all__ = ["create_ssl_context", "prepare_ssl_context"]


_CACHE_SIZE = 8
# per CA files: the context, or the build in progress (a failed build is not kept)
_cache: dict[tuple[object, ...], Future[ssl.SSLContext]] = {}
_cache_lock = threading.Lock()


def _stamp(path: str | Path | None) -> tuple[str, int, int] | None:
    """Identity of a file's current content (path, mtime, size); a replaced file gets a new stamp."""
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return (str(path), -1, -1)
    return (str(path), stat.st_mtime_ns, stat.st_size)


def create_ssl_context(
    ca_bundle: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> ssl.SSLContext:
    """A verifying client context: default store + SSL_CERT_FILE + `ca_bundle`.

    Loading the default store is slow (~40 ms), so contexts are cached per CA files (and their
    modification times), and a build in progress on another thread is waited for rather than
    repeated: treat the returned context as read-only.
    Raises ConfigError when `ca_bundle` is not a readable PEM file of certificates.
    """
    env = os.environ if environ is None else environ
    cert_file = env.get("SSL_CERT_FILE", "").strip() or None
    key = (_stamp(ca_bundle), _stamp(cert_file), env.get("SSL_CERT_DIR", ""))
    with _cache_lock:
        pending = _cache.get(key)
        if pending is None:
            pending = _cache[key] = Future()
            if len(_cache) > _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            building = True
        else:
            building = False
    if building:
        try:
            pending.set_result(_build(ca_bundle, cert_file))
        except BaseException as exc:
            with _cache_lock:
                if _cache.get(key) is pending:
                    del _cache[key]
            pending.set_exception(exc)
    return pending.result()


def prepare_ssl_context(ca_bundle: Path | None = None) -> None:
    """Start building `create_ssl_context(ca_bundle)`'s context on a thread, for a caller about to
    need it. Errors are left for that caller's own `create_ssl_context` to raise."""
    threading.Thread(target=_prepare, args=(ca_bundle,), name="unizo-tls").start()


def _prepare(ca_bundle: Path | None) -> None:
    with contextlib.suppress(Exception):
        create_ssl_context(ca_bundle)


def _build(ca_bundle: Path | None, cert_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # create_default_context() reads SSL_CERT_FILE through OpenSSL's default paths when OpenSSL
    # names it as its CA file (the usual case); load it explicitly only otherwise, so it works
    # whatever the platform's default-path behaviour is. Loading it twice cost ~40 ms and ~1 MiB.
    if cert_file and os.path.isfile(cert_file) and not _is_default_cafile(cert_file):
        # A broken SSL_CERT_FILE leaves the default store in force, as OpenSSL itself does.
        with contextlib.suppress(ssl.SSLError, OSError):
            context.load_verify_locations(cafile=cert_file)
    if ca_bundle is not None:
        try:
            context.load_verify_locations(cafile=str(ca_bundle))
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ConfigError(
                f"Invalid UNIZO_CA_BUNDLE: expected a PEM file of CA certificates ({ca_bundle}: "
                f"{getattr(exc, 'reason', None) or getattr(exc, 'strerror', None) or exc})"
            ) from None
    # Belt and braces: nothing above can weaken these, and nothing below may.
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _is_default_cafile(cert_file: str) -> bool:
    """Whether OpenSSL's default verify paths, which `create_default_context()` loaded, are this file.

    They are when OpenSSL reads its CA file from the SSL_CERT_FILE variable of this process and
    that variable names `cert_file` (`environ` passed to `create_ssl_context` may differ from it).
    """
    paths = ssl.get_default_verify_paths()
    if paths.openssl_cafile_env != "SSL_CERT_FILE" or paths.cafile is None:
        return False
    try:
        return os.path.samefile(paths.cafile, cert_file)
    except OSError:
        return False
