"""The TLS context: SSL_CERT_FILE is trusted, and read once when OpenSSL's default paths already read it."""

from __future__ import annotations

import ssl
from pathlib import Path
from unittest import mock

import pytest
import trustme
from unizo_mcp_core import tls


def trusted(context: ssl.SSLContext, ca: trustme.CA) -> bool:
    subject = ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())
    return any(der == subject for der in context.get_ca_certs(binary_form=True))


def test_ssl_cert_file_of_this_process_is_loaded_once(
    ca: trustme.CA, ca_pem: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_pem))
    assert tls._is_default_cafile(str(ca_pem))
    with mock.patch.object(ssl.SSLContext, "load_verify_locations", autospec=True) as load:
        context = tls._build(None, str(ca_pem))
    load.assert_not_called()  # create_default_context() already read it
    assert trusted(context, ca)


def test_ssl_cert_file_unknown_to_openssl_is_loaded_explicitly(
    ca: trustme.CA, ca_pem: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `environ` names a file that this process's SSL_CERT_FILE (read by OpenSSL) does not
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert not tls._is_default_cafile(str(ca_pem))
    context = tls.create_ssl_context(environ={"SSL_CERT_FILE": str(ca_pem)})
    assert trusted(context, ca)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


def test_missing_ssl_cert_file_is_not_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    assert not tls._is_default_cafile(str(tmp_path / "missing.pem"))
    context = tls.create_ssl_context(environ={"SSL_CERT_FILE": str(tmp_path / "missing.pem")})
    assert context.verify_mode is ssl.CERT_REQUIRED  # the default store stays in force
