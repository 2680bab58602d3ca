"""Files that hold keys (or say where they are): written atomically with mode 600, backed up, restored.

A write goes to a temporary file in the same directory (created with mode 600), is flushed to disk, then
renamed over the target: a reader (a running server re-reading UNIZO_API_KEY_FILE) sees the old content or the
new one, never half of either. A symlink is written through to its target, so managed links stay links.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from unizo_mcp_core.errors import ConfigError

PRIVATE = 0o600
MAX_KEY_FILE = 4096  # as the servers: a key file holds one key

try:  # POSIX: one rotation per key file directory at a time
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Snapshot:
    """A file as it was: its bytes and mode, or that it did not exist."""

    path: Path
    data: bytes | None
    mode: int | None
    stamp: tuple[int, int] | None  # (mtime_ns, size): what a server compares to notice a change

    @property
    def exists(self) -> bool:
        return self.data is not None


def target_of(path: Path) -> Path:
    """Where writing `path` really writes: the end of its symlinks, else the path itself."""
    return path.resolve() if path.is_symlink() else path


def snapshot(path: Path, *, limit: int = MAX_KEY_FILE) -> Snapshot:
    """The key file's current content (OSError when it exists but cannot be read)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return Snapshot(path, None, None, None)
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path} is not a regular file; it was not read")
    if info.st_size > limit:
        raise ConfigError(f"{path} holds {info.st_size} bytes: not a key file (at most {limit})")
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    return Snapshot(path, data, stat.S_IMODE(info.st_mode), (info.st_mtime_ns, info.st_size))


def write_private(path: Path, data: bytes, *, replace: bool = True, mode: int = PRIVATE) -> Path:
    """Write `data` to `path` atomically with `mode` (600). With `replace=False` an existing file is never
    overwritten (FileExistsError). Returns the file written (a symlink's target)."""
    target = target_of(path)
    folder = target.parent
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        try:
            if hasattr(os, "fchmod"):  # POSIX; on Windows the mode is mostly the read-only bit
                os.fchmod(handle, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
            os.fsync(handle)
        finally:
            os.close(handle)
        if replace:
            os.replace(temporary, target)
        else:
            os.link(temporary, target)  # atomic "create if absent"
            os.unlink(temporary)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(folder)
    return target


def _sync_directory(folder: Path) -> None:
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def ensure_new_stamp(path: Path, before: tuple[int, int] | None) -> None:
    """Servers notice a key file change by (mtime, size): on a file system with coarse timestamps a new key
    of the same length written in the same tick would go unnoticed, so move the mtime on when it did not
    change."""
    if before is None:
        return
    info = os.stat(path)
    if (info.st_mtime_ns, info.st_size) == before:
        later = before[0] + 1_000_000_000
        os.utime(path, ns=(later, later))


def restore(before: Snapshot) -> None:
    """Put the file back as `before` found it: its bytes and mode, or no file at all."""
    if before.data is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target_of(before.path))
        return
    write_private(before.path, before.data, mode=before.mode if before.mode is not None else PRIVATE)


def holds(path: Path, data: bytes) -> bool:
    """Whether `path` holds `data` now (False when it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(data) + 1) == data
    except OSError:
        return False


def backup(path: Path, now: datetime | None = None) -> Path:
    """A copy of `path` next to it, `<name>.<UTC time>.bak`, mode 600 (it may hold keys)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    source = target_of(path)
    for index in range(100):
        suffix = f".{stamp}{f'-{index}' if index else ''}.bak"
        candidate = source.with_name(source.name + suffix)
        try:
            with open(source, "rb") as handle:
                write_private(candidate, handle.read(), replace=False)
        except FileExistsError:
            continue
        return candidate
    raise ConfigError(f"Cannot find a free backup name next to {source}")


def secure_mode(path: Path) -> None:
    os.chmod(target_of(path), PRIVATE)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` (two rotations of key files in one directory would race)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        raise ConfigError(f"Cannot open the key file's directory {folder}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"Another unizo command is rotating a key file in {folder}: wait for it to finish"
            ) from None
        yield
    finally:
        os.close(descriptor)


def mode_of(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
