"""Where the API key comes from, and how it is shown: only ever as a fingerprint.

A key given in a file (UNIZO_API_KEY_FILE) is re-read when the file changes, so a rotated key
is picked up without restarting the server.
"""

from __future__ import annotations

import os
import re
import stat
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


MAX_KEY_FILE_BYTES = 4096  # a key file holds one key; anything larger is not one
# A placeholder an MCP client passed on without expanding it: ${VAR}, ${env:VAR}, $VAR.
_PLACEHOLDER = re.compile(r"\$(\{(env:)?[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_BOM = "\ufeff"  # Windows Notepad starts UTF-8 files with it


def check_key_text(text: str, where: str) -> str:
    """The key in `text`, or a ConfigError that says what is wrong without showing it.

    Caught before anything is sent: an unexpanded placeholder (Claude Desktop, for one, passes `env`
    values as they are), surrounding quotes, an empty value, whitespace or control characters.
    """
    key = text.removeprefix(_BOM).strip()
    expand = (
        "Put the key itself there, point UNIZO_API_KEY_FILE at a file holding it, or use a client that "
        "expands placeholders (docs: Configure your MCP client)."
    )
    if not key:
        raise ConfigError(
            f"{where} is empty: the MCP client may have expanded a placeholder of a variable that is not set "
            "where it runs",
            hint=expand,
        )
    if _PLACEHOLDER.fullmatch(key):
        raise ConfigError(
            f"{where} holds the placeholder {key}, not a key: the MCP client passed it on unexpanded",
            hint=expand,
        )
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
        raise ConfigError(f"{where} holds the key in quotes: remove the quotes around it")
    if any(ch.isspace() or not ch.isprintable() for ch in key):
        raise ConfigError(f"{where} contains whitespace or control characters; it must hold the key alone")
    return key


class KeySource:
    """The API key, literal or from a file. `repr()` and `str()` never show it."""

    def __init__(self, *, value: str | None = None, file: Path | None = None, origin: str = "") -> None:
        if (value is None) == (file is None):
            raise ValueError("KeySource needs exactly one of value or file")
        self.origin = origin  # the variable that supplied it, for messages
        self._file = file
        self._value = check_key_text(value, origin or "the API key") if value is not None else None
        self._stamp: tuple[int, int, int, int] | None = None
        self._lock = threading.Lock()
        self.warnings: list[str] = []  # said once by whoever reports on the key (startup, diagnostics)
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
                info = os.stat(self._file)  # follows symlinks: what open() would read
            except OSError as exc:
                raise _unreadable(self._file, self.origin, exc, "exists and is readable") from None
            # an atomic replace (write, then rename) changes the inode even within one mtime tick
            stamp = (info.st_ino, info.st_dev, info.st_mtime_ns, info.st_size)
            if stamp != self._stamp or self._value is None:
                self._value = _read_key_file(self._file, self.origin)
                self._stamp = stamp
                remember_secret(self._value)
                warning = _mode_warning(self._file, info.st_mode)
                if warning and warning not in self.warnings:
                    self.warnings.append(warning)
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


def _mode_warning(path: Path, mode: int) -> str | None:
    """The warning for a key file others may read (as ssh warns about private keys)."""
    if mode & 0o077:
        return (
            f"The key file {path} can be read by other users (mode {stat.S_IMODE(mode):04o}): "
            f"run chmod 600 {path}"
        )
    return None


def _file_kind(mode: int) -> str | None:
    """What a path is when it is not a regular file (never read: a FIFO would block, a device never end)."""
    for test, kind in (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "named pipe"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return kind
    return None if stat.S_ISREG(mode) else "special file"


def _unreadable(path: Path, origin: str, exc: BaseException, check: str) -> MissingKeyError:
    hint = f"Check that {path} {check}."
    missing = not path.exists()
    placeholder = _PLACEHOLDER.search(str(path))
    if missing and path.parent == Path("."):
        # no directory in it: not shown, as it may be the key itself given where its file's path goes
        hint = (
            f"The name has no directory, so it was looked for in the working directory ({Path.cwd()}), "
            "which the MCP client chooses: give the file's absolute path. If the value is the key itself, "
            "set UNIZO_API_KEY instead."
        )
    elif missing and placeholder is not None:
        hint = (
            f"{path} holds the placeholder {placeholder.group(0)}, which the MCP client passed on "
            "unexpanded: give the file's path without variables."
        )
    reason = getattr(exc, "strerror", None) or exc
    return MissingKeyError(f"Cannot read the key file named by {origin}: {reason}", hint=hint)


def _read_key_file(path: Path, origin: str) -> str:
    where = f"The key file {path} named by {origin}"
    try:
        info = os.stat(path)
        kind = _file_kind(info.st_mode)
        if kind is not None:
            raise ConfigError(f"{where} is a {kind}, not a regular file; it was not read")
        if info.st_size > MAX_KEY_FILE_BYTES:
            raise ConfigError(
                f"{where} holds {info.st_size} bytes; a key file holds the key alone "
                f"(at most {MAX_KEY_FILE_BYTES} bytes)"
            )
        with open(path, "rb") as handle:
            raw = handle.read(MAX_KEY_FILE_BYTES + 1)
        if len(raw) > MAX_KEY_FILE_BYTES:
            raise ConfigError(f"{where} grew past {MAX_KEY_FILE_BYTES} bytes while being read")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _unreadable(path, origin, exc, "exists, is readable and holds the key as UTF-8 text") from None
    if not text.removeprefix(_BOM).strip():
        raise MissingKeyError(f"{where} is empty", hint=f"Write the API key into {path}.")
    return check_key_text(text, where)


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
    """The first of `names` that holds a key; a variable set but empty is skipped, and reported when no
    other one supplies a key (an MCP client expanding a placeholder of an unset variable gives "")."""
    empty = [name for name in names if name in environ and not environ[name].strip()]
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
        return KeySource(value=raw, origin=name)
    if empty:
        check_key_text("", empty[0])  # raises: say why the key is missing
    return None
