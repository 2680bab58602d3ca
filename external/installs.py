"""Where the external clients that are installed rather than run through npx live, and how they get there.

Claude Code (an npm package with a native binary) and fast-agent (a PyPI package that needs Python >= 3.12,
so it gets its own venv, never the test venv) are installed once into a cache directory and reused: the
nox session points `EXTERNAL_CLIENTS_DIR` into its own venv directory; without it a directory under the
system's temporary directory is used. An install is complete when its stamp file names the pinned version;
anything else is removed and installed again, under a lock so two runs never install into one place.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mcp_clients import ToolUnavailable

STAMP = ".unizo-installed"


def clients_dir() -> Path:
    """The cache of installed clients (`EXTERNAL_CLIENTS_DIR`, else `$TMPDIR/unizo-mcp-external-clients`)."""
    explicit = os.environ.get("EXTERNAL_CLIENTS_DIR")
    path = Path(explicit) if explicit else Path(tempfile.gettempdir()) / "unizo-mcp-external-clients"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def install_lock(cache: Path) -> Iterator[None]:
    """One install at a time in `cache`, across processes."""
    with (cache / ".lock").open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def installed(path: Path, what: str) -> bool:
    stamp = path / STAMP
    return stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == what


def mark_installed(path: Path, what: str) -> None:
    (path / STAMP).write_text(what + "\n", encoding="utf-8")


def fresh_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


def tail(text: str, size: int = 3000) -> str:
    return text[-size:].strip()


# --- a Python for fast-agent ----------------------------------------------------------------------------

_VERSION = re.compile(r"^(\d+)\.(\d+)$")


def python_version(python: str) -> tuple[int, int] | None:
    """(major, minor) of an interpreter, or None when it does not run (a pyenv shim of an inactive
    version exists on PATH but fails)."""
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.match(done.stdout.strip()) if done.returncode == 0 else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def _pyenv_pythons(minor: int) -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = sorted(root.glob(f"versions/3.{minor}.*/bin/python3.{minor}"), reverse=True)
    return [str(p) for p in found]


def find_python(minimum: tuple[int, int], variable: str) -> tuple[str, tuple[int, int]]:
    """A Python >= `minimum`: `$variable` if set, else python3.N on PATH, else pyenv's versions (oldest
    minor first, so the supported floor is what is tested). Raises ToolUnavailable with what was tried."""
    explicit = os.environ.get(variable)
    candidates: list[str] = []
    if explicit:
        candidates.append(explicit)
    else:
        for minor in range(minimum[1], minimum[1] + 4):
            on_path = shutil.which(f"python3.{minor}")
            candidates += [on_path] if on_path else []
            candidates += _pyenv_pythons(minor)
    for candidate in candidates:
        version = python_version(candidate)
        if version is not None and version >= minimum:
            return candidate, version
    wanted = ".".join(map(str, minimum))
    tried = ", ".join(candidates) or "nothing found"
    raise ToolUnavailable(
        f"no Python >= {wanted} to install fast-agent into (tried: {tried}); install python{wanted} "
        f"(or newer), or set {variable} to its path"
    )
