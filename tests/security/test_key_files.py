"""A bad key is caught before anything is sent: placeholders a client did not expand, quotes, empty values,
and key files that are not what they should be (issues found by real clients and by an attacker)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from unizo_mcp_core.errors import ConfigError
from unizo_mcp_core.keys import MAX_KEY_FILE_BYTES, KeySource, resolve_key

KEY = "uz_prod_0123abcd_" + "L" * 32


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("${UNIZO_DEMO_API_KEY}", "holds the placeholder ${UNIZO_DEMO_API_KEY}, not a key"),
        ("${env:UNIZO_API_KEY}", "holds the placeholder ${env:UNIZO_API_KEY}"),
        ("$UNIZO_API_KEY", "holds the placeholder $UNIZO_API_KEY"),
        (f'"{KEY}"', "in quotes"),
        (f"'{KEY}'", "in quotes"),
        (f"{KEY[:10]} {KEY[10:]}", "whitespace or control characters"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_key("demo", {"UNIZO_API_KEY": value})
    text = caught.value.describe()
    assert says in text and "UNIZO_API_KEY" in text
    assert KEY not in text and KEY[10:] not in text


def test_a_placeholder_hint_says_how_to_fix_it() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_key("demo", {"UNIZO_DEMO_API_KEY": "${UNIZO_DEMO_API_KEY}"})
    assert "UNIZO_API_KEY_FILE" in caught.value.describe() and "expand" in caught.value.describe()


def test_an_empty_variable_is_reported_when_nothing_else_supplies_a_key() -> None:
    with pytest.raises(ConfigError, match="UNIZO_DEMO_API_KEY is empty"):
        resolve_key("demo", {"UNIZO_DEMO_API_KEY": ""})
    assert resolve_key("demo", {"UNIZO_DEMO_API_KEY": "", "UNIZO_API_KEY": KEY}).get() == KEY


def _key_file(tmp_path: Path, content: bytes, mode: int = 0o600) -> Path:
    path = tmp_path / "key"
    path.write_bytes(content)
    path.chmod(mode)
    return path


def test_a_byte_order_mark_is_stripped(tmp_path: Path) -> None:
    path = _key_file(tmp_path, "\ufeff".encode() + KEY.encode() + b"\r\n")
    assert resolve_key("demo", {"UNIZO_API_KEY_FILE": str(path)}).get() == KEY


def test_a_file_others_can_read_gets_a_warning_naming_chmod(tmp_path: Path) -> None:
    path = _key_file(tmp_path, KEY.encode(), 0o644)
    source = resolve_key("demo", {"UNIZO_API_KEY_FILE": str(path)})
    assert source.get() == KEY
    (warning,) = source.warnings
    assert str(path) in warning and f"chmod 600 {path}" in warning and "0644" in warning
    private = resolve_key("demo", {"UNIZO_API_KEY_FILE": str(_key_file(tmp_path, KEY.encode()))})
    assert private.warnings == []


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_special_files_are_refused_without_reading(kind: str, tmp_path: Path) -> None:
    """A FIFO would block startup for ever, /dev/zero would be read until memory runs out."""
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
        expected = "named pipe"
    elif kind == "directory":
        path, expected = tmp_path, "directory"
    else:
        path, expected = Path("/dev/zero"), "character device"
    with pytest.raises(ConfigError, match=f"is a {expected}, not a regular file; it was not read"):
        resolve_key("demo", {"UNIZO_API_KEY_FILE": str(path)})


def test_a_large_file_is_refused(tmp_path: Path) -> None:
    path = _key_file(tmp_path, b"x" * (MAX_KEY_FILE_BYTES + 1))
    with pytest.raises(ConfigError, match=f"at most {MAX_KEY_FILE_BYTES} bytes"):
        resolve_key("demo", {"UNIZO_API_KEY_FILE": str(path)})


def test_a_placeholder_in_a_key_file_is_refused(tmp_path: Path) -> None:
    path = _key_file(tmp_path, b"${UNIZO_API_KEY}\n")
    with pytest.raises(ConfigError, match="holds the placeholder"):
        resolve_key("demo", {"UNIZO_API_KEY_FILE": str(path)})


def test_literal_sources_are_checked_too() -> None:
    with pytest.raises(ConfigError, match="in quotes"):
        KeySource(value=f'"{KEY}"', origin="UNIZO_API_KEY")


def test_nothing_is_logged_about_the_key(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level(logging.DEBUG)
    path = _key_file(tmp_path, KEY.encode(), 0o640)
    resolve_key("demo", {"UNIZO_API_KEY_FILE": str(path)}).get()
    assert KEY not in caplog.text


def test_an_atomic_replace_within_one_timestamp_tick_is_noticed(tmp_path: Path) -> None:
    """Rotation tools write the new key to a temporary file and rename it over the old one: same size,
    and on a coarse file system the same mtime; the new inode still tells the change."""
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    source = KeySource(file=key_file, origin="UNIZO_API_KEY_FILE")
    assert source.get() == KEY
    before = key_file.stat()
    successor = KEY[:-1] + "M"
    staged = tmp_path / "key.new"
    staged.write_text(successor + "\n")
    staged.chmod(0o600)
    os.utime(staged, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(staged, key_file)
    assert key_file.stat().st_mtime_ns == before.st_mtime_ns and key_file.stat().st_size == before.st_size
    assert source.get() == successor
