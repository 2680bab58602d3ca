"""Every API answer and network failure maps to the right UnizoError, with its hint and identifiers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from coretest_support import KEY, FakeApi, Reply, error_body
from unizo_mcp_core.errors import (
    ApiError,
    BadRequestError,
    ConfigError,
    ConnectError,
    DnsError,
    EnvironmentMismatchError,
    ExitCode,
    ExpiredKeyError,
    InvalidKeyError,
    InvalidResponseError,
    IpNotAllowedError,
    MissingKeyError,
    MissingPermissionError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExhaustedError,
    RateLimitedError,
    RequestTimeoutError,
    RevokedKeyError,
    ServerError,
    ServiceNotEnabledError,
    TlsError,
    UnizoError,
)
from unizo_mcp_core.responses import error_from_response

PATH = "/api/v1/any/path"

CODES = [
    ("AP-4000001", 400, BadRequestError, "Check the value of 'limit'"),
    ("AP-4000002", 400, BadRequestError, "UNIZO_INTEGRATION_ID"),
    ("AP-4010001", 401, MissingKeyError, "UNIZO_API_KEY"),
    ("AP-4010002", 401, InvalidKeyError, "did not recognise the key"),
    ("AP-4010003", 401, InvalidKeyError, "generate a new one"),
    ("AP-4010004", 401, ExpiredKeyError, "expiry"),
    ("AP-4010005", 401, RevokedKeyError, "revoked"),
    ("AP-4010006", 401, EnvironmentMismatchError, "environment-specific"),
    ("AP-4030001", 403, MissingPermissionError, "grant the key the permission"),
    ("AP-4030002", 403, ServiceNotEnabledError, "Enable this service"),
    ("AP-4030003", 403, IpNotAllowedError, "allowlist"),
    ("AP-4030004", 403, QuotaExhaustedError, "daily request quota"),
    ("AP-4040001", 404, NotFoundError, "Check the id"),
    ("AP-4040002", 404, NotFoundError, "list the integrations"),
    ("AP-4040003", 404, NotFoundError, "UNIZO_BASE_URL"),
    ("AP-4050001", 405, BadRequestError, "does not allow this method"),
    ("AP-5000001", 500, ServerError, "contact Unizo support"),
]


@pytest.mark.parametrize(("code", "status", "cls", "hint"), CODES)
async def test_error_codes_over_http(
    api: FakeApi, make_client, code: str, status: int, cls: type, hint: str
) -> None:
    extra = {"property": "limit"} if code == "AP-4000001" else {}
    api.script(
        "GET", PATH, Reply(status, error_body(code, f"message for {code}", status, "corr-77", **extra))
    )
    with pytest.raises(UnizoError) as info:
        await make_client().request("GET", "/any/path")
    error = info.value
    assert type(error) is cls
    assert error.status == status
    assert error.error_code == code
    assert error.correlation_id == "corr-77"
    assert error.message.startswith(f"GET {PATH} failed: message for {code}")
    text = error.describe()
    assert f"HTTP {status}" in text and code in text and "corr-77" in text
    assert hint in text
    assert KEY not in text


def test_exit_codes_follow_the_class() -> None:
    assert ExpiredKeyError("x").exit_code is ExitCode.AUTH
    assert MissingPermissionError("x").exit_code is ExitCode.FORBIDDEN
    assert DnsError("x").exit_code is ExitCode.NETWORK
    assert ServerError("x").exit_code is ExitCode.API


def test_bad_request_names_the_property() -> None:
    body = error_body("AP-4000001", "Invalid sort field", 400, property="sort")
    error = error_from_response(400, body, {}, method="GET", path=PATH)
    assert isinstance(error, BadRequestError)
    assert error.message == f"GET {PATH} failed: Invalid sort field (property: sort)"
    assert "'sort'" in error.hint
    # not repeated when the message already names it
    again = error_from_response(
        400, error_body("AP-4000001", "sort: unknown field", 400, property="sort"), {}
    )
    assert again.message == "sort: unknown field"


def test_correlation_id_from_header_when_body_has_none() -> None:
    body = {"errors": [{"errorCode": "AP-4040001", "errorMessage": "Device d1 not found"}]}
    error = error_from_response(404, body, {"correlationid": "hdr-corr"})
    assert error.correlation_id == "hdr-corr"
    assert error_from_response(404, None, {}).correlation_id is None


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, InvalidKeyError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (405, BadRequestError),
        (409, BadRequestError),
        (422, BadRequestError),
        (429, RateLimitedError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (418, ApiError),
    ],
)
@pytest.mark.parametrize("body", [None, b"<html>oops</html>", {"unexpected": True}, {"errors": []}])
def test_unknown_bodies_fall_back_on_status(status: int, cls: type, body: object) -> None:
    error = error_from_response(status, body, {}, method="POST", path=PATH)
    assert type(error) is cls
    assert error.status == status and error.error_code is None
    assert error.message.startswith(f"POST {PATH} failed: ")


def test_other_body_shapes() -> None:
    gone = error_from_response(404, {"errors": [{"code": "AP-4040001", "message": "Repo gone"}]}, {})
    assert isinstance(gone, NotFoundError) and gone.message == "Repo gone" and gone.error_code == "AP-4040001"
    bare = error_from_response(403, [{"errorCode": "AP-4030003", "errorMessage": "IP 10.0.0.1 blocked"}], {})
    assert isinstance(bare, IpNotAllowedError)
    raw = error_from_response(401, b'{"errors":[{"errorCode":"AP-4010005","errorMessage":"revoked"}]}', {})
    assert isinstance(raw, RevokedKeyError)


def test_429_body() -> None:
    body = {
        "error": {
            "code": "concurrency_limit_exceeded",
            "message": "Too many concurrent requests",
            "retry_after": 1,
        }
    }
    error = error_from_response(429, body, {"Retry-After": "1", "correlationId": "c-429"})
    assert isinstance(error, RateLimitedError)
    assert error.message == "Too many concurrent requests"
    assert error.retry_after == 1.0 and error.error_code == "concurrency_limit_exceeded"
    assert error.correlation_id == "c-429"
    assert "UNIZO_RATE_LIMIT" in error.describe()


def test_server_text_is_scrubbed_of_the_key() -> None:
    from unizo_mcp_core.keys import remember_secret

    remember_secret(KEY)
    body = error_body("AP-4010003", f"Unknown API key {KEY}", 401)
    error = error_from_response(401, body, {})
    assert KEY not in error.describe()
    assert "[REDACTED]" in error.message


# --- network failures -------------------------------------------------------------------------------


async def test_dns_failure(make_client) -> None:
    client = make_client(UNIZO_BASE_URL="https://api.nonexistent-host.invalid", UNIZO_RETRY_ATTEMPTS="1")
    with pytest.raises(DnsError) as info:
        await client.request("GET", "/any/path")
    assert "api.nonexistent-host.invalid could not be resolved" in info.value.message
    assert info.value.message.startswith(f"GET {PATH} failed")
    assert "UNIZO_BASE_URL" in info.value.describe()
    assert info.value.exit_code is ExitCode.NETWORK


async def test_connection_refused(make_client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: refused
        port = sock.getsockname()[1]
        client = make_client(UNIZO_BASE_URL=f"https://127.0.0.1:{port}", UNIZO_RETRY_ATTEMPTS="0")
        with pytest.raises(ConnectError) as info:
            await client.request("GET", "/any/path")
    assert f"could not connect to 127.0.0.1:{port}" in info.value.message
    assert "refused" in info.value.describe()


async def test_tls_without_ca_bundle(api: FakeApi, make_client) -> None:
    client = make_client(UNIZO_CA_BUNDLE=None)
    with pytest.raises(TlsError) as info:
        await client.request("GET", "/any/path")
    assert "certificate of 127.0.0.1 could not be verified" in info.value.message
    assert "UNIZO_CA_BUNDLE" in info.value.describe()
    assert "cannot be disabled" in info.value.describe()
    assert api.requests == []  # never retried, nothing reached the server


async def test_tls_with_ca_bundle(api: FakeApi, make_client) -> None:
    assert (await make_client().request("GET", "/any/path")).status == 200


async def test_ssl_cert_file_is_honoured(api: FakeApi, make_client, ca_pem: Path, monkeypatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_pem))
    assert (await make_client(UNIZO_CA_BUNDLE=None).request("GET", "/any/path")).status == 200


async def test_tls_hostname_is_checked(ca, make_client) -> None:
    import ssl

    # a certificate from the trusted CA, but for another name than the one we connect to
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.example").configure_cert(context)
    other = FakeApi(context)
    await other.start()
    try:
        client = make_client(UNIZO_BASE_URL=other.url, UNIZO_RETRY_ATTEMPTS="0")
        with pytest.raises(TlsError) as info:
            await client.request("GET", "/any/path")
    finally:
        await other.stop()
    assert "could not be verified" in info.value.message
    assert other.requests == []


def test_bad_ca_bundle_is_a_config_error(tmp_path: Path) -> None:
    from unizo_mcp_core.tls import create_ssl_context

    bogus = tmp_path / "not-a-ca.pem"
    bogus.write_text("this is not a certificate\n")
    with pytest.raises(ConfigError) as info:
        create_ssl_context(bogus)
    assert "UNIZO_CA_BUNDLE" in info.value.message
    assert "\n" not in info.value.message


def test_ssl_context_always_verifies(ca_pem: Path) -> None:
    import ssl

    from unizo_mcp_core.tls import create_ssl_context

    for context in (create_ssl_context(), create_ssl_context(ca_pem)):
        assert context.verify_mode is ssl.CERT_REQUIRED
        assert context.check_hostname is True
        assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


async def test_timeout_names_the_value(api: FakeApi, make_client) -> None:
    api.script("GET", PATH, Reply(200, {}, delay=5.0))
    with pytest.raises(RequestTimeoutError) as info:
        await make_client(UNIZO_TIMEOUT="0.2", UNIZO_RETRY_ATTEMPTS="0").request("GET", "/any/path")
    assert info.value.message == f"GET {PATH} failed: no answer within 0.2 s (UNIZO_TIMEOUT)"
    assert "UNIZO_TIMEOUT" in info.value.describe()
    assert info.value.correlation_id is not None and len(info.value.correlation_id) == 36


async def test_disconnect_is_a_connect_error(api: FakeApi, make_client) -> None:
    api.script("GET", PATH, Reply(action="drop"))
    with pytest.raises(ConnectError) as info:
        await make_client(UNIZO_RETRY_ATTEMPTS="0").request("GET", "/any/path")
    assert "closed the connection" in info.value.message


async def test_truncated_body_is_invalid_response(api: FakeApi, make_client) -> None:
    api.script("GET", PATH, Reply(action="truncate"))
    with pytest.raises(InvalidResponseError) as info:
        await make_client(UNIZO_RETRY_ATTEMPTS="0").request("GET", "/any/path")
    assert "truncated" in info.value.message


async def test_429_ends_as_rate_limited(api: FakeApi, make_client) -> None:
    body = {"error": {"code": "rate_limit_exceeded", "message": "Rate limit exceeded", "retry_after": 0}}
    api.script("GET", PATH, Reply(429, body, headers={"Retry-After": "0", "correlationId": "c-1"}))
    with pytest.raises(RateLimitedError) as info:
        await make_client(UNIZO_RETRY_ATTEMPTS="1").request("GET", "/any/path")
    assert info.value.status == 429 and info.value.correlation_id == "c-1"


async def test_quota_exhausted_stops_local_sending(api: FakeApi, make_client) -> None:
    api.script(
        "GET", PATH, Reply(403, error_body("AP-4030004", "Daily quota exhausted; resets 00:00 UTC", 403))
    )
    client = make_client()
    with pytest.raises(QuotaExhaustedError):
        await client.request("GET", "/any/path")
    from unizo_mcp_core.errors import LocalQuotaExceededError

    with pytest.raises(LocalQuotaExceededError):
        await client.request("GET", "/any/path")
    assert len(api.seen(PATH)) == 1


async def test_error_correlation_id_falls_back_to_ours(api: FakeApi, make_client) -> None:
    api.hook = None
    api.script("GET", PATH, Reply(404, body=b"not json at all", headers={"Content-Type": "text/plain"}))
    with pytest.raises(NotFoundError) as info:
        await make_client().request("GET", "/any/path")
    # the fake API echoes our correlationId header, as the real one does
    assert info.value.correlation_id == api.requests[0].headers["correlationId"]


def test_ssl_contexts_are_cached_until_the_ca_file_changes(tmp_path: Path, ca_pem: Path) -> None:
    import os

    from unizo_mcp_core.tls import create_ssl_context

    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(ca_pem.read_bytes())
    first = create_ssl_context(bundle)
    assert create_ssl_context(bundle) is first
    bundle.write_bytes(ca_pem.read_bytes() + b"\n")
    stat = bundle.stat()
    os.utime(bundle, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert create_ssl_context(bundle) is not first
    assert create_ssl_context(None) is not first
