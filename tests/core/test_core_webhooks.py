"""Webhook signature verification: every accepted form, and each reason for refusal."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from unizo_mcp_core.webhooks import WebhookVerificationError, sign_webhook, verify_webhook

SECRET = "whsec_test_0123456789abcdef"
NOW = 1_800_000_000
BODY = json.dumps({"id": "evt-1", "type": "ticket:created", "data": {"id": "T-1"}}).encode()


def reason(body: bytes, headers: dict[str, str], **kwargs) -> str:
    with pytest.raises(WebhookVerificationError) as info:
        verify_webhook(SECRET, body, headers, now=kwargs.pop("now", NOW), **kwargs)
    assert str(info.value) == info.value.reason
    return info.value.reason


def test_v1_signature_matches_the_documented_algorithm() -> None:
    headers = sign_webhook(SECRET, BODY, NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers == {"x-unizo-signature": f"v1={expected}", "x-unizo-timestamp": str(NOW)}


@pytest.mark.parametrize("scheme", ["v1", "sha256", "hex"])
def test_each_form_verifies(scheme: str) -> None:
    legacy = scheme != "v1"
    verify_webhook(SECRET, BODY, sign_webhook(SECRET, BODY, NOW, scheme=scheme), now=NOW, legacy=legacy)


def test_legacy_forms_match_their_algorithm() -> None:
    mac = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    verify_webhook(SECRET, BODY, {"x-unizo-signature": f"sha256={mac}"}, legacy=True)
    verify_webhook(SECRET, BODY, {"x-unizo-signature": mac}, legacy=True)
    verify_webhook(SECRET, BODY, {"x-unizo-signature": mac.upper()}, legacy=True)


@pytest.mark.parametrize("scheme", ["sha256", "hex"])
def test_legacy_forms_are_refused_unless_asked_for(scheme: str) -> None:
    """Their MAC covers the body alone: the same delivery, sent again later with a fresh timestamp
    header, would pass. A valid legacy signature is refused by default, and says how to accept it."""
    captured = sign_webhook(SECRET, BODY, NOW - 3600, scheme=scheme)
    replayed = {**captured, "x-unizo-timestamp": str(NOW)}
    verify_webhook(SECRET, BODY, replayed, now=NOW, legacy=True)  # what a replay gets past
    text = reason(BODY, replayed)
    assert text.startswith("legacy signature") and "legacy=True" in text
    assert reason(BODY, {"x-unizo-signature": captured["x-unizo-signature"]}).startswith("legacy signature")
    # next to a valid v1 signature (a sender moving to it) it is ignored, not fatal
    v1 = sign_webhook(SECRET, BODY, NOW)
    both = {**v1, "x-unizo-signature": f"{captured['x-unizo-signature']},{v1['x-unizo-signature']}"}
    verify_webhook(SECRET, BODY, both, now=NOW)


def test_bytes_secret_and_header_case() -> None:
    headers = {k.upper(): v for k, v in sign_webhook(SECRET.encode(), BODY, NOW).items()}
    verify_webhook(SECRET.encode(), BODY, headers, now=NOW)
    title = {"X-Unizo-Signature": headers["X-UNIZO-SIGNATURE"], "X-Unizo-Timestamp": str(NOW)}
    verify_webhook(SECRET, BODY, title, now=NOW)


@pytest.mark.parametrize("scheme", ["v1", "sha256", "hex"])
def test_tampered_body(scheme: str) -> None:
    headers, legacy = sign_webhook(SECRET, BODY, NOW, scheme=scheme), scheme != "v1"
    assert reason(BODY.replace(b"T-1", b"T-2"), headers, legacy=legacy).startswith("signature mismatch")
    assert reason(BODY + b" ", headers, legacy=legacy).startswith("signature mismatch")


@pytest.mark.parametrize("scheme", ["v1", "sha256", "hex"])
def test_wrong_secret(scheme: str) -> None:
    headers = sign_webhook("another-secret", BODY, NOW, scheme=scheme)
    assert reason(BODY, headers, legacy=scheme != "v1").startswith("signature mismatch")


def test_v1_timestamp_is_part_of_the_mac() -> None:
    headers = sign_webhook(SECRET, BODY, NOW)
    headers["x-unizo-timestamp"] = str(NOW + 1)
    assert reason(BODY, headers).startswith("signature mismatch")


def test_stale_and_future_timestamps() -> None:
    headers = sign_webhook(SECRET, BODY, NOW - 301)
    text = reason(BODY, headers)
    assert text.startswith("stale timestamp") and "301 s old" in text and "300 s" in text
    assert reason(BODY, sign_webhook(SECRET, BODY, NOW + 400)).startswith("stale timestamp")
    verify_webhook(SECRET, BODY, sign_webhook(SECRET, BODY, NOW - 300), now=NOW)  # edge is inside
    verify_webhook(SECRET, BODY, sign_webhook(SECRET, BODY, NOW - 3000), now=NOW, tolerance=3600)
    assert reason(BODY, sign_webhook(SECRET, BODY, NOW - 11), tolerance=10).startswith("stale timestamp")


def test_legacy_form_with_a_stale_timestamp_header() -> None:
    headers = sign_webhook(SECRET, BODY, NOW - 1000, scheme="sha256")
    assert reason(BODY, headers, legacy=True).startswith("stale timestamp")


def test_missing_headers() -> None:
    assert reason(BODY, {}).startswith("missing signature")
    assert reason(BODY, {"x-unizo-signature": "  "}).startswith("missing signature")
    headers = sign_webhook(SECRET, BODY, NOW)
    del headers["x-unizo-timestamp"]
    assert reason(BODY, headers).startswith("missing timestamp")


def test_invalid_timestamp() -> None:
    headers = sign_webhook(SECRET, BODY, "yesterday")
    assert reason(BODY, headers).startswith("invalid timestamp")
    headers = sign_webhook(SECRET, BODY, "nan")
    assert reason(BODY, headers).startswith("invalid timestamp")


@pytest.mark.parametrize(
    "signature",
    ["v1=zz" + "0" * 62, "v1=abcd", "sha256=", "not-hex-at-all", "md5=abcdef", "a" * 63],
)
def test_malformed_signatures(signature: str) -> None:
    text = reason(BODY, {"x-unizo-signature": signature, "x-unizo-timestamp": str(NOW)})
    assert text.startswith("malformed signature")


def test_several_signatures_one_valid() -> None:
    good = sign_webhook(SECRET, BODY, NOW)["x-unizo-signature"]
    old = sign_webhook("rotated-out", BODY, NOW)["x-unizo-signature"]
    verify_webhook(
        SECRET, BODY, {"x-unizo-signature": f"{old}, {good}", "x-unizo-timestamp": str(NOW)}, now=NOW
    )
    both_bad = f"{old},{old}"
    assert reason(BODY, {"x-unizo-signature": both_bad, "x-unizo-timestamp": str(NOW)}).startswith(
        "signature mismatch"
    )


def test_empty_secret_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        verify_webhook("", BODY, sign_webhook("x", BODY, NOW), now=NOW)


def test_default_now_is_the_real_clock() -> None:
    verify_webhook(SECRET, BODY, sign_webhook(SECRET, BODY))
