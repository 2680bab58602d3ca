"""A private CA and a server certificate for 127.0.0.1/localhost, kept in the state dir across restarts."""

from __future__ import annotations

import logging
import os
import ssl
from pathlib import Path

import attrs
import trustme

from unizo_mcp_sandbox.state import CA_FILE, CERT_FILE, KEY_FILE

log = logging.getLogger(__name__)


@attrs.frozen
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _issue(files: TlsFiles) -> None:
    ca = trustme.CA(organization_name="Unizo Sandbox", organization_unit_name="local CA")
    leaf = ca.issue_cert("127.0.0.1", "localhost", "::1", common_name="unizo-sandbox")
    _write(files.key, leaf.private_key_pem.bytes(), 0o600)
    _write(files.cert, b"".join(blob.bytes() for blob in leaf.cert_chain_pems), 0o644)
    _write(files.ca, ca.cert_pem.bytes(), 0o644)


def server_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(files.cert, files.key)
    return context


def ensure_certificates(state_dir: Path) -> tuple[TlsFiles, ssl.SSLContext]:
    """Reuse the PEM files of a previous run (clients keep trusting the same CA), else issue new ones."""
    files = TlsFiles(state_dir / CA_FILE, state_dir / CERT_FILE, state_dir / KEY_FILE)
    if all(path.is_file() for path in attrs.astuple(files)):
        try:
            return files, server_context(files)
        except (ssl.SSLError, OSError, ValueError) as exc:
            log.warning("cannot load the sandbox certificates (%s); issuing new ones", exc)
    _issue(files)
    return files, server_context(files)
