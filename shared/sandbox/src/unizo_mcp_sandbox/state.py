"""The state directory: `state.json` (written atomically), attachments, and a lock against two servers."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
LOCK_FILE = "sandbox.lock"
ATTACHMENTS_DIR = "attachments"
CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
FORMAT_VERSION = 1


class StateDirBusy(RuntimeError):
    pass


class StateDir:
    def __init__(self, path: Path) -> None:
        self.path = path.expanduser().resolve()
        self._lock_fd: int | None = None

    @property
    def state_file(self) -> Path:
        return self.path / STATE_FILE

    @property
    def attachments(self) -> Path:
        return self.path / ATTACHMENTS_DIR

    def prepare(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.attachments.mkdir(exist_ok=True, mode=0o700)

    def lock(self) -> None:
        """Hold an exclusive lock while serving: two sandboxes on one state dir would overwrite each other."""
        fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StateDirBusy(f"another sandbox is serving from {self.path}") from None
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def load(self) -> dict[str, Any] | None:
        return read_state(self.path)

    def save(self, state: dict[str, Any]) -> None:
        state = {"formatVersion": FORMAT_VERSION, **state}
        tmp = self.state_file.with_suffix(".json.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, separators=(",", ":"))
        os.replace(tmp, self.state_file)


def read_state(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is none or it cannot be used (then the sandbox starts fresh)."""
    state_file = path.expanduser() / STATE_FILE
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable sandbox state %s: %s", state_file, exc)
        return None
    if not isinstance(state, dict) or state.get("formatVersion") != FORMAT_VERSION:
        log.warning("ignoring sandbox state %s written by another version", state_file)
        return None
    return state
