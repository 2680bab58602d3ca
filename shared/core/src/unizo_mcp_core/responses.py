"""What the API answered, as values: `ApiResponse`, `KeyInfo`, and errors mapped to `ApiError` subclasses.

`error_from_response()` reads Unizo's error body (`{"errors": [{"errorCode", "errorMessage",
"correlationId", "property", ...}]}`, the SCM variant `{"errors": [{"code", "message"}]}` and the
429 body `{"error": {"code", "message", "retry_after"}}`), picks the class from the errorCode
(falling back on the status alone), and keeps status, errorCode and correlationId for the hint.
Server-provided text is scrubbed of known secrets before it goes into a message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from .errors import (
    ApiError,
    BadRequestError,
    EnvironmentMismatchError,
    ExpiredKeyError,
    InvalidKeyError,
    IpNotAllowedError,
    MissingKeyError,
    MissingPermissionError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExhaustedError,
    RateLimitedError,
    RevokedKeyError,
    ServerError,
    ServiceNotEnabledError,
)
from .redaction import scrub
from .retry import server_hint
from .values import header_value

__all__ = [
    "ERROR_CLASSES",
    "ApiResponse",
    "KeyInfo",
    "check_environment",
    "error_from_response",
    "parse_key_info",
    "split_envelope",
]


@attrs.frozen
class ApiResponse:
    """A successful answer. `data` is the decoded JSON (None for an empty body)."""

    status: int
    headers: Mapping[str, str]
    data: Any
    correlation_id: str | None
    elapsed: float


def _freeze_permissions(raw: Any) -> Mapping[str, frozenset[str]] | None:
    if not isinstance(raw, Mapping):
        return None
    out: dict[str, frozenset[str]] = {}
    for service, actions in raw.items():
        if isinstance(actions, list | tuple | set | frozenset):
            out[str(service)] = frozenset(str(a) for a in actions)
        elif isinstance(actions, str):
            out[str(service)] = frozenset({actions})
    return MappingProxyType(out)


@attrs.frozen
class KeyInfo:
    """What the API says about the key. `permissions`/`enabled_services` are None when it cannot tell."""

    valid: bool
    key_id: str | None = None
    name: str | None = None
    environment: str | None = None
    permissions: Mapping[str, frozenset[str]] | None = None
    enabled_services: frozenset[str] | None = None
    expires_at: str | None = None
    organization: Mapping[str, Any] | None = None
    rate_limits: Mapping[str, Any] | None = None
    # why something is not known (e.g. the verify endpoint is missing and permissions are unknown)
    note: str | None = None

    def actions_for(self, service: str) -> frozenset[str] | None:
        """The actions the key may use on `service`; None when unknown; empty when none or not enabled."""
        if self.permissions is None:
            return None
        if self.enabled_services is not None and service not in self.enabled_services:
            return frozenset()
        return self.permissions.get(service, frozenset())


def split_envelope(body: Any) -> tuple[Any, Any]:
    """`{"data": ..., "pagination": ...}` → (data, pagination); any other body is the data itself."""
    if isinstance(body, Mapping) and "data" in body and set(body) <= {"data", "pagination"}:
        return body["data"], body.get("pagination")
    return body, None


def check_environment(environment: object, expected: str) -> None:
    """Raise EnvironmentMismatchError when the key's environment (when the API says) is not `expected`."""
    if environment and str(environment).lower() != expected:
        raise EnvironmentMismatchError(
            f"The API key belongs to the {environment} environment, but this server is configured for "
            f"{expected} (UNIZO_ENVIRONMENT)"
        )


def parse_key_info(data: Any) -> KeyInfo:
    """`KeyInfo` from the body of `GET /v1/auth/verify`."""
    if not isinstance(data, Mapping):
        return KeyInfo(valid=False)
    services = data.get("enabledServices")
    org = data.get("organization")
    limits = data.get("rateLimits")
    expires = data.get("expiresAt")

    def text(name: str) -> str | None:
        value = data.get(name)
        return str(value) if value is not None else None

    return KeyInfo(
        valid=bool(data.get("valid", True)),
        key_id=text("keyId"),
        name=text("name"),
        environment=text("environment"),
        permissions=_freeze_permissions(data.get("permissions")),
        enabled_services=frozenset(str(s) for s in services) if isinstance(services, list) else None,
        expires_at=str(expires) if expires is not None else None,
        organization=MappingProxyType(dict(org)) if isinstance(org, Mapping) else None,
        rate_limits=MappingProxyType(dict(limits)) if isinstance(limits, Mapping) else None,
    )


# --- errors -----------------------------------------------------------------------------------

# errorCode -> (class, hint). Unizo documents the error model (an `AP-` + seven digits `errorCode`) but not
# the code values: these are the sandbox's (docs/api-contract.md). Any other code, or none, is classified
# by the HTTP status alone, so nothing here depends on them; the hints say what to do, never what a code
# means to Unizo.
ERROR_CLASSES: Mapping[str, tuple[type[ApiError], str | None]] = MappingProxyType(
    {
        "AP-4000001": (BadRequestError, None),
        "AP-4000002": (
            BadRequestError,
            "This call needs an integration: pass integration_id, or set UNIZO_INTEGRATION_ID "
            "(or UNIZO_<SERVICE>_INTEGRATION_ID).",
        ),
        "AP-4010001": (MissingKeyError, None),
        "AP-4010002": (
            InvalidKeyError,
            "The API did not recognise the key: check it was copied whole, without quotes or spaces, into "
            "UNIZO_API_KEY or the key file.",
        ),
        "AP-4010003": (InvalidKeyError, None),
        "AP-4010004": (ExpiredKeyError, None),
        "AP-4010005": (RevokedKeyError, None),
        "AP-4010006": (EnvironmentMismatchError, None),
        "AP-4030001": (MissingPermissionError, None),
        "AP-4030002": (ServiceNotEnabledError, None),
        "AP-4030003": (IpNotAllowedError, None),
        "AP-4030004": (QuotaExhaustedError, None),
        "AP-4040001": (NotFoundError, None),
        "AP-4040002": (
            NotFoundError,
            "The integration is unknown, of another category or of another organization: list the "
            "integrations and use one of their ids.",
        ),
        "AP-4040003": (
            NotFoundError,
            "The API has no such route: check UNIZO_BASE_URL (the host only, without /api/v1).",
        ),
        "AP-4050001": (BadRequestError, "The API does not allow this method on this path."),
        "AP-5000001": (ServerError, None),
    }
)

_STATUS_TEXT = {
    400: "the request was refused as invalid",
    401: "the API key was refused",
    403: "the API key is not allowed to do this",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    422: "the request was refused as invalid",
    429: "rate limit exceeded",
}


def _status_class(status: int) -> type[ApiError]:
    if status == 429:
        return RateLimitedError
    if status in (400, 405, 409, 422):
        return BadRequestError
    if status == 401:
        return InvalidKeyError
    if status == 403:
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status >= 500:
        return ServerError
    return ApiError


def _decode(body: Any) -> Any:
    if isinstance(body, bytes | bytearray):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return None
    return body


def _first_error(body: Any) -> Mapping[str, Any]:
    """The first error object of any of the known shapes, else {}."""
    if isinstance(body, Mapping):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            return errors[0]
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return inner
        if "errorCode" in body or "errorMessage" in body:
            return body
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        return body[0]
    return {}


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def error_from_response(
    status: int,
    body: Any,
    headers: Mapping[str, str],
    *,
    method: str | None = None,
    path: str | None = None,
    now: float | None = None,
) -> ApiError:
    """The `ApiError` subclass for a non-2xx answer.

    `body` is the decoded JSON (raw bytes/str are decoded here; anything unreadable counts as no
    body). `method` and `path` prefix the message ("GET /api/v1/edr/devices failed: ...").
    """
    data = _decode(body)
    item = _first_error(data)
    code = _str_or_none(item.get("errorCode") or item.get("code"))
    text = _str_or_none(item.get("errorMessage") or item.get("message"))
    prop = _str_or_none(item.get("property"))
    correlation_id = _str_or_none(item.get("correlationId")) or _str_or_none(
        header_value(headers, "correlationId")
    )

    cls: type[ApiError]
    hint: str | None = None
    if code is not None and code in ERROR_CLASSES:
        cls, hint = ERROR_CLASSES[code]
    else:
        cls = _status_class(status)
    if status == 429:
        cls = RateLimitedError
    if 300 <= status < 400:
        text = text or f"unexpected redirect (HTTP {status}); redirects are not followed (the key stays here)"

    message = scrub(text) if text else _STATUS_TEXT.get(status, f"HTTP {status}")
    if cls is BadRequestError and prop:
        if not any(form in message for form in (f"'{prop}'", f'"{prop}"', f"{prop}:", f"property {prop}")):
            message = f"{message.rstrip('.')} (property: {prop})"
        hint = hint or f"Check the value of '{prop}' and call again."
    if method and path:
        message = f"{method} {path} failed: {message}"

    return cls(
        message,
        hint=hint,
        status=status,
        error_code=code,
        correlation_id=correlation_id,
        retry_after=server_hint(status, headers, data, now=now),
    )
