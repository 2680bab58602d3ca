"""The TLS context: SSL_CERT_FILE is trusted, and read once when OpenSSL's default paths already read it."""

from __future__ import annotations

import ssl
import threading
from concurrent.futures import Future
from pathlib import Path
from unittest import mock

import pytest
import trustme
from unizo_mcp_core import tls
from unizo_mcp_core.errors import ConfigError


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


# --- a context prepared on a thread -----------------------------------------------------------------


class Builds(list[str]):
    """The threads that built a context, in order (each build loads the trust store)."""

    def __init__(self) -> None:
        super().__init__()
        self.preparing = threading.Event()  # the preparing thread's build has begun


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    """Counts builds. The preparing thread's build waits until another thread waits for its result,
    so a caller always meets it in progress."""
    built = Builds()
    waited = threading.Event()
    build = tls._build

    class Watched(Future[ssl.SSLContext]):
        def result(self, timeout: float | None = None) -> ssl.SSLContext:
            if threading.current_thread().name != "unizo-tls":
                waited.set()
            return super().result(timeout)

    def held(ca_bundle: Path | None, cert_file: str | None) -> ssl.SSLContext:
        built.append(threading.current_thread().name)
        if threading.current_thread().name == "unizo-tls":
            built.preparing.set()
            assert waited.wait(30)
        return build(ca_bundle, cert_file)

    monkeypatch.setattr(tls, "Future", Watched)
    monkeypatch.setattr(tls, "_build", held)
    return built


def test_a_context_being_prepared_is_waited_for_not_built_again(
    ca: trustme.CA, ca_pem: Path, tmp_path: Path, builds: Builds
) -> None:
    bundle = tmp_path / "bundle.pem"  # a file of its own: no context another test cached serves it
    bundle.write_bytes(ca_pem.read_bytes())
    tls.prepare_ssl_context(bundle)
    assert builds.preparing.wait(30)
    context = tls.create_ssl_context(bundle)
    assert builds == ["unizo-tls"]
    assert trusted(context, ca)
    assert tls.create_ssl_context(bundle) is context


def test_a_failed_preparation_is_raised_by_the_caller_and_not_kept(tmp_path: Path, builds: Builds) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("not a certificate\n")
    tls.prepare_ssl_context(bundle)
    assert builds.preparing.wait(30)
    with pytest.raises(ConfigError, match=r"Invalid UNIZO_CA_BUNDLE: expected a PEM file"):
        tls.create_ssl_context(bundle)  # the preparing thread's error
    assert builds == ["unizo-tls"]
    with pytest.raises(ConfigError, match=r"Invalid UNIZO_CA_BUNDLE: expected a PEM file"):
        tls.create_ssl_context(bundle)
    assert builds == ["unizo-tls", "MainThread"]  # not cached: loaded again
