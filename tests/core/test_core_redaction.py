"""Logging: stderr only, and neither the key nor proxy credentials ever appear in any output."""

from __future__ import annotations

import logging
import sys

import pytest
from coretest_support import KEY, PROXY_PASSWORD, PROXY_USER, FakeApi, Reply, error_body
from unizo_mcp_core.errors import ExpiredKeyError, InvalidKeyError, ProxyError
from unizo_mcp_core.keys import fingerprint, remember_secret
from unizo_mcp_core.redaction import REDACTED, RedactionFilter, configure_logging, scrub


def make_record(msg: object, *args: object, exc_info=None, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("unizo_mcp.test", logging.INFO, __file__, 1, msg, args or None, exc_info)
    for name, value in extra.items():
        setattr(record, name, value)
    return record


def filtered(record: logging.LogRecord) -> str:
    assert RedactionFilter().filter(record) is True
    return logging.Formatter("%(message)s %(detail)s" if hasattr(record, "detail") else "%(message)s").format(
        record
    )


@pytest.fixture(autouse=True)
def known_key() -> None:
    remember_secret(KEY)


# --- the filter -------------------------------------------------------------------------------------


def test_key_in_message_and_args() -> None:
    assert KEY not in filtered(make_record(f"key is {KEY}"))
    record = make_record("sending %s with %r", KEY, {"apikey": KEY})
    text = filtered(record)
    assert KEY not in text and REDACTED in text
    assert record.args is None


def test_key_in_exception_text() -> None:
    try:
        raise RuntimeError(f"bad key {KEY}")
    except RuntimeError:
        record = make_record("failed", exc_info=sys.exc_info())
    text = filtered(record)
    assert "RuntimeError: bad key" in text
    assert KEY not in text


def test_key_in_stack_info_and_extras() -> None:
    record = make_record("x", detail=f"extra {KEY}")
    record.stack_info = f"stack with {KEY}"
    text = filtered(record)
    assert KEY not in text and KEY not in record.stack_info and KEY not in record.detail


@pytest.mark.parametrize(
    ("raw", "leak"),
    [
        ("apikey: some-unknown-key-123", "some-unknown-key-123"),
        ("headers={'apikey': 'abc123xyz', 'Accept': 'json'}", "abc123xyz"),
        ('{"apiKey": "json-style-secret"}', "json-style-secret"),
        ("X-API-Key=qwerty987 next", "qwerty987"),
        ("Authorization: Bearer tok.en-value_1", "tok.en-value_1"),
        ("'Authorization': 'Bearer zzz111'", "zzz111"),
        ("Proxy-Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("via http://someone:hunter2@proxy.corp:3128/", "hunter2"),
        ("HTTPS_PROXY=https://bob:p%40ss@10.0.0.1:8080", "p%40ss"),
    ],
)
def test_credential_patterns(raw: str, leak: str) -> None:
    text = filtered(make_record(raw))
    assert leak not in text
    assert REDACTED in text


@pytest.mark.parametrize(
    "raw",
    [
        "Proxy-Authorization: Basic dXNlcjpwYXNz | apikey: abc123xyz",
        "Authorization: Bearer tok http://u:p@proxy.corp:3128",
    ],
)
def test_scrubbing_twice_changes_nothing(raw: str) -> None:
    once = scrub(raw)
    assert scrub(once) == once and "]]" not in once, once


def test_placeholders_in_messages_are_not_credentials() -> None:
    text = "clients send Authorization: Bearer <token>, or apikey: <key>"
    assert scrub(text) == text


def test_url_credentials_keep_the_host() -> None:
    assert (
        scrub("connect to http://u:p@proxy.corp:3128 failed")
        == f"connect to http://{REDACTED}@proxy.corp:3128 failed"
    )


def test_harmless_text_is_untouched() -> None:
    text = "GET /api/v1/any/path: HTTP 200 in 0.012 s (key …wxyz (sha256:abcd1234))"
    assert scrub(text) == text


def test_odd_records_do_not_break() -> None:
    assert "42" in filtered(make_record(42))
    assert KEY not in filtered(make_record("%d items", KEY))  # wrong format: still scrubbed, not raised


# --- configure_logging ----------------------------------------------------------------------------


def test_logs_go_to_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("debug")
    logging.getLogger("unizo_mcp.client").debug("hello %s", "debug")
    logging.getLogger("unizo_mcp.client").error("and error")
    out, err = capsys.readouterr()
    assert out == ""
    assert "DEBUG unizo_mcp.client: hello debug" in err
    assert "ERROR unizo_mcp.client: and error" in err


def test_replaces_existing_root_handlers(capsys: pytest.CaptureFixture[str]) -> None:
    stray = logging.StreamHandler(sys.stdout)
    logging.getLogger().addHandler(stray)
    configure_logging("info")
    assert stray not in logging.getLogger().handlers
    handlers = logging.getLogger().handlers
    assert len(handlers) == 1
    assert any(isinstance(f, RedactionFilter) for f in handlers[0].filters)
    logging.getLogger("unizo_mcp").warning("to stderr")
    out, err = capsys.readouterr()
    assert out == "" and "to stderr" in err


def test_levels(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info")
    logging.getLogger("unizo_mcp.client").debug("hidden-debug")
    logging.getLogger("unizo_mcp.client").info("shown-info")
    logging.getLogger("aiohttp.client").info("hidden-library-info")
    logging.getLogger("aiohttp.client").warning("shown-library-warning")
    logging.getLogger("unizo_mcp.auth").warning("hidden-auth")
    err = capsys.readouterr().err
    assert "shown-info" in err and "shown-library-warning" in err
    for hidden in ("hidden-debug", "hidden-library-info", "hidden-auth"):
        assert hidden not in err
    configure_logging("error", log_auth=True)
    logging.getLogger("unizo_mcp.client").warning("hidden-warning")
    logging.getLogger("unizo_mcp.auth").info("shown-auth")
    err = capsys.readouterr().err
    assert "hidden-warning" not in err and "shown-auth" in err


def test_invalid_level() -> None:
    with pytest.raises(ValueError):
        configure_logging("chatty")


def test_proxy_password_from_env_is_registered(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:Sup3r-S3cret-pw@proxy.corp:3128")
    configure_logging("info")
    logging.getLogger("unizo_mcp.client").info("password alone: Sup3r-S3cret-pw")
    err = capsys.readouterr().err
    assert "Sup3r-S3cret-pw" not in err
    assert f"password alone: {REDACTED}" in err


# --- end to end: a debug session with auth logging -----------------------------------------------


async def test_no_secret_in_any_output(
    api: FakeApi, make_client, proxy, monkeypatch, caplog: pytest.LogCaptureFixture, capsys
) -> None:
    api.script(
        "GET",
        "/v1/auth/verify",
        Reply(
            200,
            {
                "valid": True,
                "keyId": "3f2a9c1b",
                "environment": "production",
                "permissions": {"widgets": ["read"]},
            },
        ),
    )
    api.script("GET", "/api/v1/any/path", Reply(503), Reply(200, {"data": []}))
    api.script(
        "GET", "/api/v1/any/path/x", Reply(401, error_body("AP-4010003", f"Unknown API key {KEY}", 401))
    )
    monkeypatch.setenv("HTTPS_PROXY", proxy.url())
    configure_logging("debug", log_auth=True)
    root = logging.getLogger()
    root.handlers.insert(0, caplog.handler)  # sees each record before the filter touches it

    errors: list[str] = []
    client = make_client(UNIZO_LOG_AUTH="true", UNIZO_LOG_LEVEL="debug")
    await client.verify_key()
    await client.request("GET", "/any/path", integration_id="int-1")
    with pytest.raises(InvalidKeyError) as info:
        await client.request("GET", "/any/path/x")
    errors.append(info.value.describe())
    await client.close()

    wrong = "An0ther-Wr0ng-pw"
    monkeypatch.setenv("HTTPS_PROXY", proxy.url(password=wrong))
    with pytest.raises(ProxyError) as proxy_info:
        await make_client(UNIZO_LOG_AUTH="true").request("GET", "/any/path")
    errors.append(proxy_info.value.describe())
    errors.append(repr(proxy_info.value))

    out, err = capsys.readouterr()
    everything = "\n".join([out, err, caplog.text, *(r.getMessage() for r in caplog.records), *errors])
    for secret in (KEY, PROXY_PASSWORD, f"{PROXY_USER}:{PROXY_PASSWORD}", wrong, f"{PROXY_USER}:{wrong}"):
        assert secret not in everything
    assert KEY[:-4] not in everything  # not even most of it
    assert out == ""
    # and the session really was logged, with the fingerprint standing in for the key
    assert f"using API key {fingerprint(KEY)} from UNIZO_API_KEY" in err
    assert "verified: key id 3f2a9c1b, environment production, permissions widgets:read" in err
    assert "refused: HTTP 401, errorCode AP-4010003" in err
    assert "unizo_mcp.retry" in err and "retry 1 of 3" in err
    assert "DEBUG unizo_mcp.client: GET /api/v1/any/path: HTTP 200" in err
    assert "refused to open a tunnel" in err or "refused to open a tunnel" in errors[1]


async def test_auth_events_silent_without_log_auth(api: FakeApi, make_client, capsys) -> None:
    api.script("GET", "/api/v1/any/path", Reply(401, error_body("AP-4010004", "API key has expired", 401)))
    configure_logging("debug", log_auth=False)
    with pytest.raises(ExpiredKeyError):
        await make_client().request("GET", "/any/path")
    err = capsys.readouterr().err
    assert "unizo_mcp.auth" not in err
    assert "unizo_mcp.client" in err
