"""Is the key valid? One pure decision from what the API answered, so a probe of ours that the API does not
understand can never lock out a valid key.

Two probes, asked in order:

1. `GET /v1/auth/verify` (Bearer). The product's troubleshooting guide names it; no API reference documents
   it. When it answers a JSON object with `"valid": true`, its permissions and environment are used.
2. Otherwise a cheap read the server needs anyway: its own integrations search, filtered on its category
   (`POST /api/v1/integrations/search`). This is a real API call: only its answer can refuse the key.

* verify answered 200 with a JSON object holding `"valid": true`: valid; permissions and environment as it
  states (the read is not asked).
* anything else (404, 405, 401, 5xx, an HTML page, non-object JSON, `"valid": false`, no answer), then
  the read answered:
  * 2xx: valid; permissions unknown, so nothing is hidden on that ground;
  * 401: invalid, exit 3 (the verify answer's error when it was a 401 too: it says more);
  * 403: no permission, exit 4 (the service is not enabled, the IP or the key's rights refuse it);
  * anything else (400, 404, 405, 429, 5xx, unreadable, no answer): unknown. The server starts with
    permissions unknown and checks again later; why is logged once.

Pure: no I/O. `client.UnizoClient.verify_key()` asks the questions and applies the answer.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from .errors import AuthenticationError, KeyCheckUnavailableError, PermissionDeniedError, UnizoError
from .responses import KeyInfo, parse_key_info

__all__ = ["Answer", "Outcome", "Verdict", "decide", "introspection", "unavailable_error"]


@attrs.frozen
class Answer:
    """What one probe got back: a status and decoded JSON body, or the error the client mapped."""

    status: int | None = None  # None: no HTTP answer at all (network, TLS, proxy)
    body: Any = None
    error: UnizoError | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None


class Outcome(enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    FORBIDDEN = "forbidden"
    UNKNOWN = "unknown"


@attrs.frozen
class Verdict:
    outcome: Outcome
    info: KeyInfo | None = None  # VALID: what is known about the key
    error: UnizoError | None = None  # INVALID, FORBIDDEN: what to raise; UNKNOWN: the cause
    reason: str = ""  # for the log: why permissions are unknown, or why nothing could be decided


def introspection(verify: Answer) -> KeyInfo | None:
    """The key's description when the verify endpoint gave a usable one, else None."""
    body = verify.body
    if not verify.ok or not isinstance(body, Mapping) or body.get("valid") is not True:
        return None
    return parse_key_info(body)


def _what(answer: Answer) -> str:
    if answer.status is None:
        return f"no answer ({answer.error.message if answer.error else 'not asked'})"
    if answer.error is not None and not isinstance(answer.error, AuthenticationError | PermissionDeniedError):
        return f"HTTP {answer.status} ({answer.error.message})"
    return f"HTTP {answer.status}"


def decide(verify: Answer, read: Answer | None) -> Verdict:
    """The verdict of the table above. `read` is None when it was not asked (a usable introspection)."""
    info = introspection(verify)
    if info is not None:
        return Verdict(Outcome.VALID, info=info)
    if read is None:
        return Verdict(Outcome.UNKNOWN, reason="the key check was not completed")
    why = f"GET /v1/auth/verify answered {_what(verify)}"
    if read.ok:
        return Verdict(
            Outcome.VALID,
            info=KeyInfo(valid=True, note=f"{why}; permissions unknown"),
            reason=f"{why}; an integrations search with the key succeeded, so the key is valid, but its "
            "permissions are unknown and no tool is hidden on that ground",
        )
    if read.status == 401:
        error = verify.error if verify.status == 401 and verify.error is not None else read.error
        return Verdict(Outcome.INVALID, error=error, reason=why)
    if read.status == 403:
        return Verdict(Outcome.FORBIDDEN, error=read.error, reason=why)
    return Verdict(
        Outcome.UNKNOWN,
        error=read.error or verify.error,
        reason=f"{why}; the integrations search answered {_what(read)}: the key could not be checked now",
    )


def unavailable_error(verdict: Verdict) -> KeyCheckUnavailableError:
    """The error of an UNKNOWN verdict, with the whole story and the cause's exit code."""
    cause = verdict.error
    hint = "Nothing says the key is wrong: retry later, and run --verify-connection if it persists."
    if cause is not None and cause.hint:
        hint = cause.hint
    return KeyCheckUnavailableError(
        f"The API key could not be checked now: {verdict.reason}", cause=cause, hint=hint
    )
