"""Logging that cannot leak the key: stderr only, every record scrubbed.

The first line of defence is that nothing logs a key, a header or a body. This module is the
second: `RedactionFilter` removes every secret the process knows (`keys.known_secrets()`),
`apikey`/`Authorization`/`Proxy-Authorization` values and `user:password@` in URLs from the
message, its arguments, the exception text and the stack text of each record that reaches a
handler. `configure_logging()` installs one stderr handler (stdout belongs to the stdio protocol)
carrying that filter.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping
from typing import TextIO

from .errors import OUTPUT_CLOSED, OutputClosed
from .keys import known_secrets, remember_secret
from .proxy import proxy_passwords

__all__ = [
    "LOGGER_NAMESPACE",
    "REDACTED",
    "RedactedWriter",
    "RedactionFilter",
    "configure_logging",
    "output_closed",
    "register_proxy_secrets",
    "scrub",
    "scrub_known",
    "write_scrubbed",
]

REDACTED = "[REDACTED]"
LOGGER_NAMESPACE = "unizo_mcp"

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_OFF = logging.CRITICAL + 10

# `apikey: v`, `"apikey": "v"`, `x-api-key=v`, `apiKey='v'` ...
_APIKEY = re.compile(
    r"""(?i)(\b(?:x-)?api[-_]?key\b["']?\s*[:=]\s*["']?)(?!\[REDACTED\]|<)([^\s"',;&}\]]+)"""
)
# `Authorization: Bearer v`, `Proxy-Authorization: Basic v`, `'Authorization': 'v'` ...
_AUTHORIZATION = re.compile(
    r"""(?i)(\b(?:proxy-)?authorization\b["']?\s*[:=]\s*["']?(?>(?:(?:bearer|basic|token)\s+)?))(?!\[REDACTED\]|<)([^\s"',;}\]]+)"""
)
# (a value already redacted is left alone, so scrubbing twice changes nothing; a placeholder such as
# `<token>` in a message is not a credential)
# scheme://user:password@host
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s:@'\"]+:[^/\s@'\"]*@")

_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def scrub_known(text: str, secrets: frozenset[str] | None = None) -> str:
    """`text` with every secret this process knows (keys, proxy passwords) replaced; the cheap pass
    applied to every tool result."""
    for secret in sorted(known_secrets() if secrets is None else secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub(text: str, secrets: frozenset[str] | None = None) -> str:
    """`text` with every known secret, credential header value and URL password replaced."""
    if not text:
        return text
    text = scrub_known(text, secrets)
    text = _APIKEY.sub(lambda m: m.group(1) + REDACTED, text)
    text = _AUTHORIZATION.sub(lambda m: m.group(1) + REDACTED, text)
    return _URL_CREDENTIALS.sub(lambda m: m.group(1) + REDACTED + "@", text)


@contextlib.contextmanager
def _reader_may_leave() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise OutputClosed from None


def write_scrubbed(stream: TextIO, text: str, *, flush: bool = True) -> int:
    """`text`, scrubbed, on `stream`; `OutputClosed` when its reader has gone away."""
    with _reader_may_leave():
        written = stream.write(scrub(text))
        if flush:
            stream.flush()
    return written


def output_closed() -> int:
    """The exit code after `OutputClosed`, with stdout pointed at the null device: the interpreter's
    last flush of it would fail again, and print a traceback."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return OUTPUT_CLOSED


class RedactedWriter:
    """A text stream whose every write is scrubbed first: what a command prints goes through the same
    redaction as the logs (a proxy's refusal can echo its credentials, an error can quote a header)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    @property
    def encoding(self) -> str | None:
        return getattr(self._stream, "encoding", None)

    def write(self, text: str) -> int:
        return write_scrubbed(self._stream, text, flush=False)

    def flush(self) -> None:
        with _reader_may_leave():
            self._stream.flush()


class RedactionFilter(logging.Filter):
    """Scrubs secrets from a record in place; never drops a record.

    The message is rendered (`msg % args`) and scrubbed, and `args` cleared, so a secret hidden in
    an argument cannot come back at formatting time. Exception and stack text are rendered and
    scrubbed into `exc_text`/`stack_info`, which formatters use instead of re-rendering.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = known_secrets()
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what we can, scrubbed
            message = f"{record.msg!s} {record.args!r}"
        record.msg = scrub(message, secrets)
        record.args = None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, secrets)
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, name, scrub(value, secrets))
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at emit time (never stdout)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def register_proxy_secrets(environ: Mapping[str, str] | None = None) -> None:
    """Remember the passwords of the proxy variables so the filter scrubs them everywhere."""
    for password in proxy_passwords(environ):
        remember_secret(password)


def configure_logging(level: str, *, log_auth: bool = False) -> None:
    """Route all logging to one filtered stderr handler.

    Like `logging.basicConfig(force=True)`: existing root handlers (for example the one the MCP
    SDK installs) are removed, so every record goes through the redaction filter. `level`
    (debug, info, warning, error) applies to the `unizo_mcp.*` loggers; other libraries log at
    warning or above. `unizo_mcp.auth` is silent unless `log_auth`.
    """
    numeric = logging.getLevelName(level.strip().upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    register_proxy_secrets()

    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactionFilter())

    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(max(numeric, logging.WARNING))

    logging.getLogger(LOGGER_NAMESPACE).setLevel(numeric)
    auth = logging.getLogger(f"{LOGGER_NAMESPACE}.auth")
    auth.setLevel(min(numeric, logging.INFO) if log_auth else _OFF)
