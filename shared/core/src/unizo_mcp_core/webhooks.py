"""Verify (and, for tests and senders, produce) Unizo webhook signatures.

Accepted forms of `x-unizo-signature` (several may be given, comma-separated, e.g. during a
secret rotation; one match is enough):

* `v1=<hex>` (Unizo's current form): HMAC-SHA256(secret, "{x-unizo-timestamp}.{raw body}"), with the
  timestamp (unix seconds) inside the tolerance window (default 300 s, either direction);
* only with `legacy=True`: `sha256=<hex>` and bare `<hex>` (older deliveries), HMAC-SHA256(secret,
  raw body). Their MAC does not cover the timestamp, so a captured delivery can be sent again with a
  fresh one: they are refused unless the receiver knows its sender still signs that way. When such a
  delivery carries a timestamp it must be inside the window too (which stops honest retries of old
  deliveries, not an attacker).

Header names are case-insensitive; the comparison is constant-time (`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import string
import time
from collections.abc import Mapping
from typing import Literal

from .values import header_value

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookVerificationError",
    "sign_webhook",
    "verify_webhook",
]

SIGNATURE_HEADER = "x-unizo-signature"
TIMESTAMP_HEADER = "x-unizo-timestamp"
_HEX = frozenset(string.hexdigits)
_DIGEST_HEX_LEN = hashlib.sha256().digest_size * 2


class WebhookVerificationError(ValueError):
    """The delivery is not authentic (or not fresh); `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _mac(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def sign_webhook(
    secret: str | bytes,
    body: bytes,
    timestamp: int | str | None = None,
    *,
    scheme: Literal["v1", "sha256", "hex"] = "v1",
) -> dict[str, str]:
    """The signature headers for `body`: `x-unizo-signature` and `x-unizo-timestamp`.

    `timestamp` defaults to now. `scheme` "sha256" and "hex" produce the legacy forms (MAC over
    the body alone).
    """
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    key = _as_bytes(secret)
    if scheme == "v1":
        signature = "v1=" + _mac(key, stamp.encode() + b"." + body)
    elif scheme == "sha256":
        signature = "sha256=" + _mac(key, body)
    elif scheme == "hex":
        signature = _mac(key, body)
    else:
        raise ValueError(f"unknown signature scheme {scheme!r}")
    return {SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: stamp}


def _check_timestamp(raw: str, tolerance: float, now: float | None) -> None:
    try:
        stamp = float(raw)
    except ValueError:
        raise WebhookVerificationError(f"invalid timestamp: {TIMESTAMP_HEADER} is not unix seconds") from None
    if not math.isfinite(stamp):
        raise WebhookVerificationError(f"invalid timestamp: {TIMESTAMP_HEADER} is not unix seconds")
    current = time.time() if now is None else now
    skew = current - stamp
    if abs(skew) > tolerance:
        direction = "old" if skew > 0 else "in the future"
        raise WebhookVerificationError(
            f"stale timestamp: {abs(skew):.0f} s {direction}, outside the {tolerance:g} s tolerance"
        )


def verify_webhook(
    secret: str | bytes,
    body: bytes,
    headers: Mapping[str, str],
    *,
    tolerance: float = 300,
    now: float | None = None,
    legacy: bool = False,
) -> None:
    """Return if the delivery is authentic and fresh; raise WebhookVerificationError otherwise.

    `body` must be the raw request body, byte for byte, as received. `legacy`: also accept the older
    `sha256=` and bare-hex forms, which do not protect against replay (see the module's docstring).
    """
    if not secret:
        raise ValueError("the webhook secret is empty")
    key = _as_bytes(secret)
    raw_body = _as_bytes(body)
    signature = header_value(headers, SIGNATURE_HEADER)
    if not signature:
        raise WebhookVerificationError(f"missing signature: no {SIGNATURE_HEADER} header")
    timestamp = header_value(headers, TIMESTAMP_HEADER)

    candidates: list[tuple[str, str]] = []  # (scheme, hex digest)
    refused_legacy = False
    for part in signature.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        scheme, sep, digest = part.partition("=")
        if not sep:
            scheme, digest = "hex", part
        scheme = scheme.strip().lower()
        digest = digest.strip().lower()
        if scheme not in ("v1", "sha256", "hex"):
            continue  # an unknown scheme (a future version) is ignored, not fatal
        if len(digest) != _DIGEST_HEX_LEN or not _HEX.issuperset(digest):
            raise WebhookVerificationError(
                f"malformed signature: expected {_DIGEST_HEX_LEN} hex digits after '{scheme}='"
                if scheme != "hex"
                else f"malformed signature: expected v1=<hex>, sha256=<hex> or {_DIGEST_HEX_LEN} hex digits"
            )
        if scheme != "v1" and not legacy:
            refused_legacy = True
            continue
        candidates.append((scheme, digest))
    if not candidates and refused_legacy:
        raise WebhookVerificationError(
            "legacy signature: a sha256= or bare hex signature does not cover the timestamp, so a replayed "
            "delivery would pass; expected v1=<hex> (verify_webhook(..., legacy=True) accepts the old forms)"
        )
    if not candidates:
        raise WebhookVerificationError("malformed signature: no v1=, sha256= or hex signature found")

    needs_timestamp = any(scheme == "v1" for scheme, _ in candidates)
    if needs_timestamp and not timestamp:
        raise WebhookVerificationError(
            f"missing timestamp: a v1 signature needs the {TIMESTAMP_HEADER} header"
        )
    if timestamp:
        _check_timestamp(timestamp, tolerance, now)

    matched = False
    for scheme, digest in candidates:
        if scheme == "v1":
            assert timestamp is not None
            expected = _mac(key, timestamp.encode() + b"." + raw_body)
        else:
            expected = _mac(key, raw_body)
        # compare every candidate (no early exit) so timing does not reveal which one matched
        matched = hmac.compare_digest(expected, digest) | matched
    if not matched:
        raise WebhookVerificationError(
            "signature mismatch: the body or the secret does not match the signature"
        )
