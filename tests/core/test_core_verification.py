"""The key check: every row of the decision table (`verification.decide`), then the same rows through the
client against an API that answers them: a valid key is never refused because a probe was not understood."""

from __future__ import annotations

from typing import Any

import pytest
from coretest_support import FakeApi, Reply, error_body
from unizo_mcp_core.errors import (
    ConnectError,
    InvalidKeyError,
    KeyCheckUnavailableError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    UnizoError,
)
from unizo_mcp_core.verification import Answer, Outcome, decide

VERIFY_OK = {"valid": True, "keyId": "k1", "environment": "production", "permissions": {"demo": ["read"]}}
UNKNOWN_VERIFY = [
    Answer(404, error=NotFoundError("no route", status=404)),
    Answer(405, error=NotFoundError("no method", status=405)),
    Answer(401, error=InvalidKeyError("refused", status=401)),
    Answer(503, error=ServerError("down", status=503)),
    Answer(200, body="<html>a login page</html>"),
    Answer(200, body=["not", "an", "object"]),
    Answer(200, body={"valid": False}),
    Answer(None, error=ConnectError("no answer")),
]


def test_a_usable_description_is_believed_without_a_read() -> None:
    verdict = decide(Answer(200, body=VERIFY_OK), None)
    assert verdict.outcome is Outcome.VALID
    assert verdict.info is not None and verdict.info.permissions is not None


@pytest.mark.parametrize("verify", UNKNOWN_VERIFY, ids=lambda a: f"verify-{a.status}-{type(a.body).__name__}")
@pytest.mark.parametrize(
    ("read", "outcome"),
    [
        (Answer(200, body={"data": []}), Outcome.VALID),
        (Answer(401, error=InvalidKeyError("no", status=401)), Outcome.INVALID),
        (Answer(403, error=PermissionDeniedError("no", status=403)), Outcome.FORBIDDEN),
        (Answer(400, error=UnizoError("bad filter", status=400)), Outcome.UNKNOWN),
        (Answer(404, error=NotFoundError("no route", status=404)), Outcome.UNKNOWN),
        (Answer(405, error=NotFoundError("no method", status=405)), Outcome.UNKNOWN),
        (Answer(429, error=UnizoError("slow down", status=429)), Outcome.UNKNOWN),
        (Answer(502, error=ServerError("bad gateway", status=502)), Outcome.UNKNOWN),
        (Answer(200, error=UnizoError("not JSON", status=200)), Outcome.UNKNOWN),
        (Answer(None, error=ConnectError("no answer")), Outcome.UNKNOWN),
    ],
    ids=lambda a: getattr(a, "status", a),
)
def test_only_the_real_read_decides(verify: Answer, read: Answer, outcome: Outcome) -> None:
    verdict = decide(verify, read)
    assert verdict.outcome is outcome
    if outcome is Outcome.VALID:
        assert verdict.info is not None and verdict.info.permissions is None and verdict.reason
    elif outcome is Outcome.UNKNOWN:
        assert "could not be checked" in verdict.reason
    else:
        assert verdict.error is not None


def test_a_verify_refusal_confirmed_by_the_read_keeps_the_verify_detail() -> None:
    specific = InvalidKeyError("expired", status=401, error_code="X-1")
    verdict = decide(Answer(401, error=specific), Answer(401, error=InvalidKeyError("no", status=401)))
    assert verdict.outcome is Outcome.INVALID and verdict.error is specific


# --- the same rows on the wire -----------------------------------------------------------------------

SEARCH = "/api/v1/integrations/search"
VERIFY_ROWS: list[tuple[str, Reply]] = [
    ("404 gateway", Reply(404, {"message": "no Route matched with those values"})),
    ("405", Reply(405, {"message": "Method Not Allowed"})),
    ("html", Reply(200, body=b"<html><body>Sign in</body></html>", headers={"Content-Type": "text/html"})),
    ("array", Reply(200, ["valid"])),
    ("503", Reply(503, {"message": "upstream down"})),
]


@pytest.mark.parametrize(("label", "verify"), VERIFY_ROWS, ids=[label for label, _ in VERIFY_ROWS])
async def test_valid_key_starts_whatever_verify_answers(
    label: str, verify: Reply, api: FakeApi, make_client: Any
) -> None:
    api.script("GET", "/v1/auth/verify", verify)
    api.script("POST", SEARCH, Reply(200, {"data": [], "pagination": {"total": 0}}))
    info = await make_client().verify_key("DEMO")
    assert info.valid and info.permissions is None and info.note
    assert len(api.seen("/v1/auth/verify")) == 1, "a probe is never retried"


@pytest.mark.parametrize(
    ("read", "error"),
    [
        (Reply(401, error_body("X", "no such key", 401)), InvalidKeyError),
        (Reply(403, error_body("X", "lacks demo:read", 403)), PermissionDeniedError),
        (Reply(400, error_body("X", "filter not supported", 400)), KeyCheckUnavailableError),
        (Reply(404, {"message": "no Route matched with those values"}), KeyCheckUnavailableError),
        (Reply(503, {"message": "down"}), KeyCheckUnavailableError),
    ],
    ids=["401", "403", "400", "404", "503"],
)
async def test_the_read_decides_when_verify_is_missing(
    read: Reply, error: type[Exception], api: FakeApi, make_client: Any
) -> None:
    api.script("GET", "/v1/auth/verify", Reply(404, {"message": "no Route matched with those values"}))
    api.script("POST", SEARCH, read)
    with pytest.raises(error) as caught:
        await make_client().verify_key("DEMO")
    if error is KeyCheckUnavailableError:
        assert caught.value.exit_code in (5, 6) and "could not be checked" in caught.value.message
    assert len(api.seen(SEARCH)) == 1


# --- health ----------------------------------------------------------------------------------------


async def test_health_falls_back_to_v1_health_with_the_key(api: FakeApi, make_client: Any) -> None:
    api.script("GET", "/health", Reply(404, {"message": "no Route matched with those values"}))
    api.script("GET", "/v1/health", Reply(200, {"status": "ok"}))
    client = make_client()
    path, answer = await client.health()
    assert path == "/v1/health" and answer.data == {"status": "ok"}
    assert "Authorization" not in api.seen("/health")[0].headers  # the unauthenticated one first
    assert api.seen("/v1/health")[0].headers["Authorization"] == f"Bearer {client.settings.key()}"


async def test_missing_health_is_a_warning_and_every_other_check_runs(
    api: FakeApi, make_settings: Any
) -> None:
    import io

    from unizo_mcp_core.diagnostics import verify_connection
    from unizo_mcp_core.spec import ServiceSpec

    for path in ("/health", "/v1/health"):
        api.script("GET", path, Reply(404, {"message": "no Route matched with those values"}))
    api.script("GET", "/v1/auth/verify", Reply(200, VERIFY_OK))
    api.script("POST", SEARCH, Reply(200, {"data": [], "pagination": {"total": 0}}))
    demo = ServiceSpec("demo", "Demo", "A demo service.", (), "unizo-mcp-demo", "0.0.1")
    out = io.StringIO()
    code = await verify_connection(lambda: (make_settings("demo"), [demo]), out=out)
    lines = {line.split("] ")[1].split(":")[0]: line for line in out.getvalue().splitlines()}
    assert lines["health"].startswith("[warn]") and "no health endpoint" in lines["health"]
    assert lines["key"].startswith("[ok]") and lines["read"].startswith("[ok]"), out.getvalue()
    assert code == 0
