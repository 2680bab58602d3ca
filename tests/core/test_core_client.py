"""UnizoClient against a real local HTTPS server: headers, bodies, verify, health, key rotation."""

from __future__ import annotations

import gzip
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from coretest_support import KEY, KEY2, FakeApi, Reply, error_body
from unizo_mcp_core import client as client_module
from unizo_mcp_core.errors import (
    ApiError,
    EnvironmentMismatchError,
    ExpiredKeyError,
    InvalidKeyError,
    InvalidResponseError,
    LocalQuotaExceededError,
    MissingKeyError,
    MissingPermissionError,
)
from unizo_mcp_core.responses import ApiResponse, KeyInfo

VERIFY_OK = {
    "valid": True,
    "keyId": "3f2a9c1b",
    "name": "demo-full",
    "environment": "production",
    "permissions": {"widgets": ["read", "write", "delete"], "gadgets": ["read"], "gizmos": ["read"]},
    "enabledServices": ["widgets", "gadgets"],
    "expiresAt": "2027-11-26T00:00:00Z",
    "organization": {"id": "org-1", "name": "Acme Security"},
    "rateLimits": {"perMinute": 100, "perDay": 10000, "concurrency": 5},
}


async def test_get_sends_documented_headers_and_params(api: FakeApi, make_client) -> None:
    api.script("GET", "/api/v1/any/path", Reply(200, {"data": [{"id": "d1"}], "pagination": {"total": 1}}))
    client = make_client()
    resp = await client.request(
        "GET",
        "/any/path",
        integration_id="int-42",
        params={"offset": 0, "limit": 20, "deep": True, "x": None},
    )
    assert isinstance(resp, ApiResponse)
    assert resp.status == 200
    assert resp.data == {"data": [{"id": "d1"}], "pagination": {"total": 1}}
    (seen,) = api.seen("/api/v1/any/path")
    assert seen.method == "GET"
    assert seen.query == {"offset": "0", "limit": "20", "deep": "true"}
    assert seen.headers["apikey"] == KEY
    assert seen.headers["integrationId"] == "int-42"
    assert seen.headers["User-Agent"] == "unizo-mcp-test/0.0.1"
    assert seen.headers["Accept"] == "application/json"
    assert "Authorization" not in seen.headers
    assert str(uuid.UUID(seen.headers["correlationId"])) == seen.headers["correlationId"]
    assert resp.correlation_id == seen.headers["correlationId"]  # echoed by the server


async def test_integration_id_header_only_when_given(api: FakeApi, make_client) -> None:
    await make_client().request("GET", "/integrations")
    assert "integrationId" not in api.requests[-1].headers


async def test_post_json_body(api: FakeApi, make_client) -> None:
    api.script("POST", "/api/v1/integrations/search", Reply(200, {"data": [{"id": "i1"}]}))
    body = {"filter": {"and": [{"property": "/type", "operator": "=", "values": ["WIDGETS"]}]}}
    resp = await make_client().request("POST", "/integrations/search", json=body, idempotent=True)
    assert resp.data == {"data": [{"id": "i1"}]}
    (seen,) = api.seen("/api/v1/integrations/search")
    assert seen.headers["Content-Type"].startswith("application/json")
    import json

    assert json.loads(seen.body) == body


async def test_multipart_upload(api: FakeApi, make_client) -> None:
    path = "/widgets/w1/items/i1/files"
    api.script("POST", "/api/v1" + path, Reply(201, {"id": "a1"}))
    resp = await make_client().request(
        "POST",
        path,
        integration_id="i1",
        multipart={"file": ("a.txt", b"hello attachment", "text/plain"), "fileName": "a.txt"},
    )
    assert resp.status == 201
    (seen,) = api.seen("/api/v1" + path)
    assert seen.headers["Content-Type"].startswith("multipart/form-data")
    assert b"hello attachment" in seen.body
    assert b'name="fileName"' in seen.body
    assert b'filename="a.txt"' in seen.body


async def test_percent_encoded_path_is_sent_as_is(api: FakeApi, make_client) -> None:
    await make_client().request("GET", "/any/path/a%2Fb%20c")
    assert api.requests[-1].path == "/api/v1/any/path/a/b c"  # the server decodes it once
    # and nothing was double-encoded on the way
    await make_client().request("GET", "/any/path/x y")
    assert api.requests[-1].path == "/api/v1/any/path/x y"


async def test_correlation_id_fresh_per_call_and_kept_across_retries(api: FakeApi, make_client) -> None:
    api.script("GET", "/api/v1/any/path", Reply(503), Reply(200, {"data": []}))
    client = make_client()
    await client.request("GET", "/any/path")
    await client.request("GET", "/any/path")
    ids = [r.headers["correlationId"] for r in api.seen("/api/v1/any/path")]
    assert len(ids) == 3
    assert ids[0] == ids[1]  # the retry keeps the call's correlationId
    assert ids[2] != ids[0]  # a new call gets a new one


async def test_empty_and_non_json_bodies(api: FakeApi, make_client) -> None:
    from unizo_mcp_core.errors import InvalidResponseError

    html = b"<html><head><title>502 Bad Gateway</title></head></html>"
    api.script("DELETE", "/api/v1/things/1", Reply(204))
    api.script("GET", "/api/v1/html", Reply(200, body=html, headers={"Content-Type": "text/html"}))
    client = make_client(UNIZO_RETRY_ATTEMPTS="1")
    assert (await client.request("DELETE", "/things/1")).data is None
    with pytest.raises(InvalidResponseError) as info:
        await client.request(
            "GET", "/html"
        )  # the API always answers JSON; a proxy's error page is not an answer
    assert "not valid JSON (text/html" in info.value.message
    assert "gave up after 1 retry" in info.value.message
    assert len(api.seen("/api/v1/html")) == 2


@pytest.mark.parametrize(
    "body",
    [b'{"data": "\xff"}', b'{"data": "\\ud800"}', b'{"data": [1]} trailing'],
    ids=["not-utf8", "lone-surrogate", "trailing"],
)
async def test_a_body_that_is_not_json_text_is_an_invalid_response(api: FakeApi, make_client, body) -> None:
    # a lone surrogate escape decodes to text that cannot be written out as UTF-8: refused on arrival
    from unizo_mcp_core.errors import InvalidResponseError

    api.script("GET", "/api/v1/odd", Reply(200, body=body, headers={"Content-Type": "application/json"}))
    with pytest.raises(InvalidResponseError, match="not valid JSON"):
        await make_client(UNIZO_RETRY_ATTEMPTS="0").request("GET", "/odd")


async def test_answers_decode_as_json_loads_does(api: FakeApi, make_client) -> None:
    body = '{"n": 123456789012345678901234567890, "f": 1.5e300, "s": "d\u00e9j\u00e0", "a": [], "x": null}'
    api.script(
        "GET", "/api/v1/values", Reply(200, body=body.encode(), headers={"Content-Type": "application/json"})
    )
    assert (await make_client().request("GET", "/values")).data == json.loads(body)


async def test_a_decoder_given_for_a_call_decodes_its_answer_and_what_it_refuses_is_decoded_whole(
    api: FakeApi, make_client
) -> None:
    body = b'{"data": [{"id": "t1", "note": "kept"}], "meta": {"n": 1}}'
    api.script("GET", "/api/v1/things", Reply(200, body=body, headers={"Content-Type": "application/json"}))
    client = make_client()
    seen: list[bytes] = []

    def first_records(raw: bytes) -> Any:
        seen.append(raw)
        return json.loads(raw)["data"][:1]

    def refuses(raw: bytes) -> Any:
        seen.append(raw)
        raise ValueError("not a page of records")

    assert (await client.request("GET", "/things", decode=first_records)).data == [
        {"id": "t1", "note": "kept"}
    ]
    assert (await client.request("GET", "/things", decode=refuses)).data == json.loads(body)
    assert seen == [body, body]
    api.script("GET", "/api/v1/html", Reply(200, body=b"<html/>", headers={"Content-Type": "text/html"}))
    from unizo_mcp_core.errors import InvalidResponseError

    with pytest.raises(InvalidResponseError, match="not valid JSON"):  # refused by both: not an answer
        await make_client(UNIZO_RETRY_ATTEMPTS="0").request("GET", "/html", decode=refuses)


async def test_post_without_a_readable_answer_says_it_may_have_happened(api: FakeApi, make_client) -> None:
    from unizo_mcp_core.errors import InvalidResponseError

    api.script(
        "POST",
        "/api/v1/tickets",
        Reply(201, body=b"<html>oops</html>", headers={"Content-Type": "text/html"}),
    )
    with pytest.raises(InvalidResponseError) as info:
        await make_client().request("POST", "/tickets", json={"name": "t"})
    assert "may have been carried out" in info.value.describe()
    assert len(api.seen("/api/v1/tickets")) == 1


async def test_redirects_are_not_followed(api: FakeApi, make_client) -> None:
    api.script("GET", "/api/v1/moved", Reply(302, headers={"Location": "https://example.invalid/steal"}))
    with pytest.raises(ApiError) as info:
        await make_client().request("GET", "/moved")
    assert info.value.status == 302
    assert "redirect" in info.value.message
    assert len(api.seen("/api/v1/moved")) == 1


async def test_session_is_reused_and_recreated_after_close(api: FakeApi, make_client) -> None:
    client = make_client()
    await client.request("GET", "/a")
    session = client._session
    await client.request("GET", "/b")
    assert client._session is session
    await client.close()
    await client.request("GET", "/c")
    assert client._session is not session
    assert len(api.requests) == 3


# --- verify and health ---------------------------------------------------------------------------


async def test_verify_key(api: FakeApi, make_client) -> None:
    api.script("GET", "/v1/auth/verify", Reply(200, VERIFY_OK))
    info = await make_client().verify_key()
    assert isinstance(info, KeyInfo)
    assert info.valid and info.key_id == "3f2a9c1b" and info.name == "demo-full"
    assert info.environment == "production"
    assert info.permissions is not None and info.permissions["widgets"] == frozenset(
        {"read", "write", "delete"}
    )
    assert info.actions_for("gadgets") == frozenset({"read"})
    assert info.actions_for("gizmos") == frozenset()  # permission but not enabled
    assert info.actions_for("sprockets") == frozenset()
    assert info.enabled_services == frozenset({"widgets", "gadgets"})
    assert info.expires_at == "2027-11-26T00:00:00Z"
    assert info.organization == {"id": "org-1", "name": "Acme Security"}
    assert info.rate_limits is not None and info.rate_limits["perMinute"] == 100
    (seen,) = api.seen("/v1/auth/verify")
    assert seen.headers["Authorization"] == f"Bearer {KEY}"
    assert "apikey" not in seen.headers


async def test_verify_does_not_use_the_rate_limiter(api: FakeApi, make_client) -> None:
    api.script("GET", "/v1/auth/verify", Reply(200, VERIFY_OK))
    client = make_client(UNIZO_DAILY_QUOTA="1")
    await client.verify_key()
    await client.verify_key()
    await client.health()
    assert client.limiter.used_today == 0
    await client.request("GET", "/any/path")
    with pytest.raises(LocalQuotaExceededError):
        await client.request("GET", "/any/path")


async def test_verify_falls_back_to_a_read_on_404(api: FakeApi, make_client) -> None:
    api.script("GET", "/v1/auth/verify", Reply(404, error_body("AP-4040003", "No such route", 404)))
    api.script("POST", "/api/v1/integrations/search", Reply(200, {"data": []}))
    info = await make_client().verify_key()
    assert info.valid is True
    assert info.permissions is None and info.actions_for("widgets") is None
    (search,) = api.seen("/api/v1/integrations/search")
    assert search.headers["apikey"] == KEY
    import json

    assert json.loads(search.body)["pagination"]["limit"] == 1


async def test_verify_fallback_reports_a_refused_key(api: FakeApi, make_client) -> None:
    api.script("GET", "/v1/auth/verify", Reply(404))
    api.script(
        "POST",
        "/api/v1/integrations/search",
        Reply(401, error_body("AP-4010004", "API key has expired", 401)),
    )
    with pytest.raises(ExpiredKeyError):
        await make_client().verify_key()


async def test_verify_fallback_refused_read_means_no_permission(api: FakeApi, make_client) -> None:
    """The read is the server's own category: a 403 on it says the key may not use this service."""
    api.script("GET", "/v1/auth/verify", Reply(404))
    api.script(
        "POST", "/api/v1/integrations/search", Reply(403, error_body("AP-4030001", "lacks demo:read", 403))
    )
    with pytest.raises(MissingPermissionError):
        await make_client().verify_key("DEMO")
    import json

    (search,) = api.seen("/api/v1/integrations/search")
    terms = json.loads(search.body)["filter"]["and"]
    assert {"property": "/type", "operator": "=", "values": ["DEMO"]} in terms


async def test_verify_invalid_key(api: FakeApi, make_client) -> None:
    """A refusal is believed when a real read refuses the key too; the verify answer says more."""
    api.script("GET", "/v1/auth/verify", Reply(401, error_body("AP-4010003", "Unknown API key", 401)))
    api.script("POST", "/api/v1/integrations/search", Reply(401, error_body("AP-4010001", "No key", 401)))
    with pytest.raises(InvalidKeyError) as info:
        await make_client().verify_key()
    assert info.value.error_code == "AP-4010003"
    assert len(api.seen("/v1/auth/verify")) == 1  # 401 is never retried


async def test_verify_valid_false_is_checked_by_a_read(api: FakeApi, make_client) -> None:
    api.script("GET", "/v1/auth/verify", Reply(200, {"valid": False}))
    api.script("POST", "/api/v1/integrations/search", Reply(401))
    with pytest.raises(InvalidKeyError):
        await make_client().verify_key()


async def test_verify_environment_mismatch(api: FakeApi, make_client) -> None:
    api.script("GET", "/v1/auth/verify", Reply(200, {**VERIFY_OK, "environment": "staging"}))
    with pytest.raises(EnvironmentMismatchError) as info:
        await make_client().verify_key()
    assert "staging" in info.value.message and "production" in info.value.message
    assert "UNIZO_ENVIRONMENT" in info.value.describe()
    ok = await make_client(UNIZO_ENVIRONMENT="staging").verify_key()
    assert ok.environment == "staging"


async def test_health_sends_no_key(api: FakeApi, make_client) -> None:
    api.script(
        "GET", "/health", Reply(200, {"status": "ok", "version": "1.2.3", "environment": "production"})
    )
    path, resp = await make_client().health()
    assert path == "/health"
    assert resp.data["status"] == "ok"
    (seen,) = api.seen("/health")
    assert "apikey" not in seen.headers and "Authorization" not in seen.headers


# --- keys ------------------------------------------------------------------------------------------


async def test_key_file_rotation_is_picked_up(api: FakeApi, make_client, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    client = make_client(UNIZO_API_KEY=None, UNIZO_API_KEY_FILE=str(key_file))
    await client.request("GET", "/any/path")
    key_file.write_text(KEY2 + "\n")
    stat = key_file.stat()
    os.utime(key_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # coarse-mtime filesystems
    await client.request("GET", "/any/path")
    first, second = (r.headers["apikey"] for r in api.seen("/api/v1/any/path"))
    assert (first, second) == (KEY, KEY2)


async def test_key_file_removed_gives_a_clear_error(api: FakeApi, make_client, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    client = make_client(UNIZO_API_KEY=None, UNIZO_API_KEY_FILE=str(key_file))
    key_file.unlink()
    with pytest.raises(MissingKeyError) as info:
        await client.request("GET", "/any/path")
    assert "UNIZO_API_KEY_FILE" in info.value.message
    assert api.requests == []


async def test_service_key_is_used(api: FakeApi, make_client) -> None:
    client = make_client(UNIZO_DEMO_API_KEY=KEY2)
    await client.request("GET", "/any/path")
    assert api.requests[-1].headers["apikey"] == KEY2


async def test_rate_limit_status_is_exposed(api: FakeApi, make_client) -> None:
    api.script(
        "GET",
        "/api/v1/any/path",
        Reply(
            200,
            {"data": []},
            headers={
                "X-RateLimit-Limit": "100",
                "X-RateLimit-Remaining": "97",
                "X-RateLimit-Reset": "1800000060",
                "X-RateLimit-Reset-After": "0.6",
            },
        ),
    )
    client = make_client()
    assert client.rate_limit_status is None
    await client.request("GET", "/any/path")
    status = client.rate_limit_status
    assert status is not None
    assert (status.limit, status.remaining, status.reset, status.reset_after) == (100, 97, 1800000060.0, 0.6)


async def test_key_file_with_two_lines_is_refused_locally(api: FakeApi, make_client, tmp_path: Path) -> None:
    from unizo_mcp_core.errors import ConfigError

    key_file = tmp_path / "key"
    key_file.write_text(KEY)
    client = make_client(UNIZO_API_KEY=None, UNIZO_API_KEY_FILE=str(key_file))
    key_file.write_text(f"{KEY}\n{KEY2}\n")
    stat = key_file.stat()
    os.utime(key_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ConfigError) as info:
        await client.request("GET", "/any/path")
    assert "UNIZO_API_KEY_FILE" in info.value.message
    assert KEY not in info.value.describe() and KEY2 not in info.value.describe()
    assert api.requests == []


async def test_bad_integration_id_is_refused_locally(api: FakeApi, make_client) -> None:
    from unizo_mcp_core.errors import ToolInputError

    with pytest.raises(ToolInputError):
        await make_client().request("GET", "/any/path", integration_id="abc\r\nX-Injected: 1")
    assert api.requests == []


@pytest.mark.parametrize("how", ["declared", "chunked", "gzip"])
async def test_an_answer_larger_than_any_the_api_gives_is_not_read(
    how: str, api: FakeApi, make_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Declared by Content-Length, sent chunked, or a small gzip body that expands: the limit is on what
    would be held in memory. Just under it, the same answer is read whole."""
    limit = 2**20
    monkeypatch.setattr(client_module, "MAX_BODY", limit)

    def reply(size: int) -> Reply:
        body = b'{"data": [1]}' + b" " * (size - 13)
        if how == "gzip":
            headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
            return Reply(200, body=gzip.compress(body), headers=headers)
        action = "stream" if how == "chunked" else None
        return Reply(200, body=body, headers={"Content-Type": "application/json"}, action=action)

    api.script("GET", "/api/v1/big", reply(limit + 1))
    api.script("GET", "/api/v1/fits", reply(limit))
    client = make_client(UNIZO_RETRY_ATTEMPTS="0")
    with pytest.raises(
        InvalidResponseError, match=r"GET /api/v1/big failed: the answer is larger than 1 MiB"
    ):
        await client.request("GET", "/big")
    assert (await client.request("GET", "/fits")).data == {"data": [1]}
