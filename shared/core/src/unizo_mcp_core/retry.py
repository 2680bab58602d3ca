"""When to retry, and how long to wait: a pure decision; the client loops around it.

Rules (UNIZO_RETRY_ATTEMPTS / UNIZO_RETRY_DELAY / UNIZO_MAX_RETRY_DELAY):

* Retried: 429, 502, 503, 504, connection failures, timeouts, unreadable (truncated) bodies.
  Never: any other status (400, 401, 403, 404, 500, ...), TLS verification failures, proxy
  refusals with a 4xx (wrong proxy credentials), local refusals.
* A non-idempotent request (POST/PATCH unless marked idempotent) is retried only when it
  certainly never reached the server: the TCP connection was refused, the host did not
  resolve, the proxy could not be reached; and on 429, which the API answers before doing
  anything. Not after a timeout, a dropped connection, a truncated body or a 5xx.
* Delay: a server hint wins (`Retry-After` in seconds or as an HTTP date, then on 429
  `X-RateLimit-Reset-After`, then the 429 body's `retry_after`) and is waited exactly. A hint
  longer than the cap ends the retries at once. Without a hint: exponential from the first
  delay, doubled per retry, capped, with jitter (a uniform draw from the upper half).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any

import attrs

from .errors import (
    ApiError,
    ConnectError,
    DnsError,
    InvalidResponseError,
    ProxyError,
    RequestTimeoutError,
    TlsError,
    UnizoError,
)
from .values import header_value, non_negative

if TYPE_CHECKING:
    from .settings import Settings

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "RetryDecision",
    "RetryPolicy",
    "backoff_delay",
    "decide_retry",
    "parse_retry_after",
    "server_hint",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@attrs.frozen
class RetryPolicy:
    """How many retries, and the delays in seconds."""

    attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            attempts=settings.retry_attempts,
            base_delay=settings.retry_delay_ms / 1000,
            max_delay=settings.max_retry_delay_ms / 1000,
        )


@attrs.frozen
class RetryDecision:
    """`retry` and the `delay` (s) before it; `reason` for the log; `retry_after`: the server hint seen.

    `beyond_cap` is True when the retries ended because the server asked for a longer wait than
    UNIZO_MAX_RETRY_DELAY allows.
    """

    retry: bool
    delay: float
    reason: str
    retry_after: float | None = None
    beyond_cap: bool = False


# --- server hints ---------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds (fractions accepted) or an HTTP date.

    A date in the past gives 0; an unreadable value gives None (no hint).
    """
    if value is None or not value.strip():
        return None
    seconds = non_negative(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def server_hint(
    status: int, headers: Mapping[str, str], body: Any = None, *, now: float | None = None
) -> float | None:
    """The wait the server asked for, in seconds, or None.

    `Retry-After` on any status; on 429 also `X-RateLimit-Reset-After` and the body's
    `error.retry_after`, in that order.
    """
    hint = parse_retry_after(header_value(headers, "Retry-After"), now=now)
    if hint is not None or status != 429:
        return hint
    hint = non_negative(header_value(headers, "X-RateLimit-Reset-After"))
    if hint is not None:
        return hint
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return non_negative(inner.get("retry_after"))
        return non_negative(body.get("retry_after"))
    return None


# --- the decision -----------------------------------------------------------------------------


def backoff_delay(attempt: int, policy: RetryPolicy, rand: Callable[[], float] = random.random) -> float:
    """Exponential delay for retry number `attempt` (0-based): base * 2**attempt, capped, jittered."""
    ceiling = min(policy.max_delay, policy.base_delay * 2.0 ** min(attempt, 60))
    return ceiling * (0.5 + 0.5 * rand())


def _classify(failure: UnizoError | int, *, idempotent: bool, sent: bool) -> tuple[bool, str]:
    """Is this failure worth retrying at all for this request? (retryable, reason)."""
    if isinstance(failure, InvalidResponseError):
        if idempotent:
            return True, "unreadable response"
        return (
            False,
            "unreadable response to a non-idempotent request is not retried (it may have been applied)",
        )
    if isinstance(failure, int | ApiError):
        status = failure if isinstance(failure, int) else failure.status
        if status == 429:
            return True, "rate limited (HTTP 429)"
        if status in RETRY_STATUSES:
            if idempotent:
                return True, f"HTTP {status}"
            return False, f"HTTP {status} on a non-idempotent request is not retried (it reached the server)"
        return False, f"HTTP {status} is not retried" if status is not None else "API error is not retried"
    if isinstance(failure, TlsError):
        return False, "certificate verification fails the same way every time"
    if isinstance(failure, ProxyError) and failure.status is not None and 400 <= failure.status < 500:
        return False, f"the proxy refused the request (HTTP {failure.status})"
    if isinstance(failure, DnsError | ConnectError | ProxyError):
        what = type(failure).__name__
        if not sent:
            return True, f"{what}: the request was not sent"
        if idempotent:
            return True, f"{what}: the connection failed"
        return (
            False,
            f"{what} after the request may have reached the server; a non-idempotent request is not retried",
        )
    if isinstance(failure, RequestTimeoutError):
        if idempotent:
            return True, "timeout"
        return False, "timeout on a non-idempotent request is not retried (it may have been applied)"
    return False, f"{type(failure).__name__} is not retried"


def decide_retry(
    attempt: int,
    failure: UnizoError | int,
    *,
    idempotent: bool,
    policy: RetryPolicy,
    sent: bool | None = None,
    retry_after: float | None = None,
    rand: Callable[[], float] = random.random,
) -> RetryDecision:
    """Decide whether retry number `attempt` (0 = the first retry) should happen, and after what delay.

    `failure` is the mapped error (or a bare HTTP status). `sent=False` says the request certainly
    never left this machine (refused connection, DNS); by default that is assumed only for
    DnsError. `retry_after` overrides the hint carried by `failure.retry_after`.
    """
    if sent is None:
        sent = not isinstance(failure, DnsError)
    retryable, reason = _classify(failure, idempotent=idempotent, sent=sent)
    if not retryable:
        return RetryDecision(False, 0.0, reason)
    hint = retry_after if retry_after is not None else getattr(failure, "retry_after", None)
    if hint is not None and hint > policy.max_delay:
        return RetryDecision(
            False,
            0.0,
            f"server asked to retry after {hint:g} s, longer than the {policy.max_delay:g} s cap "
            "(UNIZO_MAX_RETRY_DELAY)",
            retry_after=hint,
            beyond_cap=True,
        )
    if attempt >= policy.attempts:
        return RetryDecision(False, 0.0, f"{reason}; gave up after {attempt} retries", retry_after=hint)
    if hint is not None:
        return RetryDecision(True, hint, f"{reason}; the server asked to wait {hint:g} s", retry_after=hint)
    return RetryDecision(True, backoff_delay(attempt, policy, rand), reason)
