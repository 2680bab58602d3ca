"""Where the API key comes from, and how it is shown: only ever as a fingerprint.

A key given in a file (UNIZO_API_KEY_FILE) is re-read when the file changes, so a rotated key
is picked up without restarting the server.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path

from .errors import ConfigError, MissingKeyError

# Every key value this process has seen; the logging redaction filter scrubs them all.
_known_secrets: set[str] = set()
_known_lock = threading.Lock()


def remember_secret(value: str) -> None:
    """Register a value that must never be logged (keys, proxy passwords)."""
    if value and len(value) >= 4:
        with _known_lock:
            _known_secrets.add(value)


def known_secrets() -> frozenset[str]:
    with _known_lock:
        return frozenset(_known_secrets)


def fingerprint(key: str) -> str:
    """A stable, non-reversible label for a key: its last 4 characters and a short hash."""
    import hashlib  # loads OpenSSL's digests (~4 ms): not on the CLI's fast paths

    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"…{key[-4:]} (sha256:{digest})"


class KeySource:
    """The API key, literal or from a file. `repr()` and `str()` never show it."""

    def __init__(self, *, value: str | None = None, file: Path | None = None, origin: str = "") -> None:
        if (value is None) == (file is None):
            raise ValueError("KeySource needs exactly one of value or file")
        self.origin = origin  # the variable that supplied it, for messages
        self._file = file
        self._value = value.strip() if value is not None else None
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        if self._value is not None:
            remember_secret(self._value)

    @property
    def file(self) -> Path | None:
        return self._file

    def get(self) -> str:
        """The current key; re-reads the file when its mtime or size changed."""
        if self._file is None:
            assert self._value is not None
            return self._value
        with self._lock:
            try:
                stat = self._file.stat()
            except OSError as exc:
                raise MissingKeyError(
                    f"Cannot read the key file named by {self.origin}: {exc.strerror or exc}",
                    hint=f"Check that {self._file} exists and is readable.",
                ) from None
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp or self._value is None:
                self._value = _read_key_file(self._file, self.origin)
                self._stamp = stamp
                remember_secret(self._value)
            return self._value

    def fingerprint(self) -> str:
        return fingerprint(self.get())

    def __repr__(self) -> str:
        where = f"file={str(self._file)!r}" if self._file else "value=<redacted>"
        return f"KeySource({where}, origin={self.origin!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeySource) and (self._file, self._value if self._file is None else None) == (
            other._file,
            other._value if other._file is None else None,
        )

    def __hash__(self) -> int:
        return hash((self._file, self.origin))


def _read_key_file(path: Path, origin: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise MissingKeyError(
            f"Cannot read the key file named by {origin}: {getattr(exc, 'strerror', None) or exc}",
            hint=f"Check that {path} exists, is readable and holds the key as UTF-8 text.",
        ) from None
    if not text:
        raise MissingKeyError(
            f"The key file named by {origin} is empty", hint=f"Write the API key into {path}."
        )
    return text


def key_variables(service: str | None) -> list[str]:
    """The variables a server reads for its key, in precedence order."""
    own = own_key_variables(service) if service else []
    return [*own, "UNIZO_API_KEY", "UNIZO_API_KEY_FILE"]


def own_key_variables(service: str) -> list[str]:
    """The service-specific key variables of `service`: UNIZO_EDR_API_KEY, UNIZO_EDR_API_KEY_FILE."""
    prefix = f"UNIZO_{service.upper()}"
    return [f"{prefix}_API_KEY", f"{prefix}_API_KEY_FILE"]


def resolve_key(service: str | None, environ: Mapping[str, str]) -> KeySource:
    """Pick the key for `service` from the environment; a server never reads another service's key."""
    source = _first_key(key_variables(service), environ)
    if source is None:
        raise ConfigError(f"No API key: set {' or '.join(key_variables(service))}")
    return source


def find_key(service: str | None, environ: Mapping[str, str]) -> KeySource | None:
    """Like `resolve_key`, but None when no key variable is set (a set but unusable one still raises)."""
    return _first_key(key_variables(service), environ)


def resolve_own_key(service: str, environ: Mapping[str, str]) -> KeySource | None:
    """The service-specific key of `service` (UNIZO_<SERVICE>_API_KEY or its _FILE twin), if set."""
    return _first_key(own_key_variables(service), environ)


def _first_key(names: list[str], environ: Mapping[str, str]) -> KeySource | None:
    for name in names:
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        if name.endswith("_FILE"):
            path = Path(raw).expanduser()
            source = KeySource(file=path, origin=name)
            try:
                source.get()  # fail at startup, not at the first call
            except MissingKeyError as exc:
                raise ConfigError(exc.message, hint=exc.hint) from None
            return source
        if any(ch.isspace() or ord(ch) < 32 for ch in raw):
            raise ConfigError(f"{name} contains whitespace or control characters; it must hold the key alone")
        return KeySource(value=raw, origin=name)
    return None
