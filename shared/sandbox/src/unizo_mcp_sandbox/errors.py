"""Unizo-style error answers: the `{"errors": [...]}` body for most failures, `{"error": {...}}` for 429.

Errors are raised with the sandbox's own codes; how they are rendered depends on the profile. `full` shows
the codes (`AP-...`), `help` and `additionalInfo`. `documented` shows only what Unizo documents: the error
model without our codes, the documented 429 without our `Retry-After`, and, where Unizo documents no body
(authentication, permission and IP refusals, unknown routes, oversized bodies, upstream failures), the
`{"message": ...}` answer of the Kong gateway in front of Unizo's API.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from aiohttp import web
from pydantic_core import to_json

INVALID_REQUEST = "AP-4000001"
MISSING_INTEGRATION = "AP-4000002"
NO_KEY = "AP-4010001"
MALFORMED_KEY = "AP-4010002"
UNKNOWN_KEY = "AP-4010003"
EXPIRED_KEY = "AP-4010004"
REVOKED_KEY = "AP-4010005"
WRONG_ENVIRONMENT = "AP-4010006"
MISSING_PERMISSION = "AP-4030001"
SERVICE_NOT_ENABLED = "AP-4030002"
IP_NOT_ALLOWED = "AP-4030003"
QUOTA_EXHAUSTED = "AP-4030004"
NOT_FOUND = "AP-4040001"
INTEGRATION_NOT_FOUND = "AP-4040002"
NO_ROUTE = "AP-4040003"
METHOD_NOT_ALLOWED = "AP-4050001"
PAYLOAD_TOO_LARGE = "AP-4130001"
INTERNAL_ERROR = "AP-5000001"

HELP_URLS = {
    "4": "https://docs.unizo.ai/docs/unified-apis/common-api-sections",
    "401": "https://docs.unizo.ai/docs/unizo-console/api-keys",
    "403": "https://docs.unizo.ai/docs/unizo-console/api-keys",
    "5": "https://status.unizo.ai",
}


def dumps(payload: Any) -> str:
    """Compact JSON in ASCII: request text echoed back (ids, names) may hold lone surrogates that UTF-8
    cannot encode. Every page of every list is written here, so pydantic-core writes it when the text is
    plain ASCII (4x faster than json.dumps); anything else is escaped by json.dumps."""
    with contextlib.suppress(ValueError):  # a lone surrogate: escaped below
        raw = to_json(payload)
        if raw.isascii():
            return raw.decode("ascii")
    return json.dumps(payload, separators=(",", ":"))


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.json_response(payload, status=status, dumps=dumps)


def _help_for(status: int) -> str:
    return HELP_URLS.get(str(status)) or HELP_URLS[str(status)[0]]


# What the gateway says in the documented profile instead of our coded error: (status, message).
GATEWAY_NO_KEY = "No API key found in request"
GATEWAY_INVALID_KEY = "Invalid authentication credentials"
GATEWAY_NO_ROUTE = "no Route matched with those values"
GATEWAY_FORBIDDEN = "You cannot consume this service"
GATEWAY_ANSWERS: dict[str, tuple[int, str]] = {
    NO_KEY: (401, GATEWAY_NO_KEY),
    MALFORMED_KEY: (401, GATEWAY_INVALID_KEY),
    UNKNOWN_KEY: (401, GATEWAY_INVALID_KEY),
    EXPIRED_KEY: (401, GATEWAY_INVALID_KEY),
    REVOKED_KEY: (401, GATEWAY_INVALID_KEY),
    WRONG_ENVIRONMENT: (401, GATEWAY_INVALID_KEY),
    MISSING_PERMISSION: (403, GATEWAY_FORBIDDEN),
    SERVICE_NOT_ENABLED: (403, GATEWAY_FORBIDDEN),
    IP_NOT_ALLOWED: (403, "Your IP address is not allowed"),
    NO_ROUTE: (404, GATEWAY_NO_ROUTE),
    METHOD_NOT_ALLOWED: (404, GATEWAY_NO_ROUTE),  # a gateway route matches methods too
    PAYLOAD_TOO_LARGE: (413, "Request size limit exceeded"),
}
# Failures of the upstream (injected faults) as the gateway reports them; a 500 is the backend's own.
GATEWAY_UPSTREAM = {
    502: "An invalid response was received from the upstream server",
    503: "The upstream server is currently unavailable",
    504: "The upstream server is timed out",
}


def gateway_answer(code: str, status: int) -> tuple[int, str] | None:
    if code == INTERNAL_ERROR and status in GATEWAY_UPSTREAM:
        return status, GATEWAY_UPSTREAM[status]
    return GATEWAY_ANSWERS.get(code)


class ApiError(Exception):
    """An answer other than success. Raised anywhere in a request; the middleware renders it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        property: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.property = property
        self.headers = headers or {}

    def body(self, correlation_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "errorCode": self.code,
            "errorMessage": self.message,
            "statusCode": self.status,
            "correlationId": correlation_id,
        }
        if self.property is not None:
            error["property"] = self.property
            error["additionalInfo"] = [{"property": self.property, "reason": self.message}]
        error["help"] = _help_for(self.status)
        return {"errors": [error]}

    def documented_answer(self, correlation_id: str) -> tuple[int, dict[str, Any]]:
        """(status, body) in the documented profile: the gateway's answer, else the documented error
        model without the sandbox's own code, help link and additionalInfo."""
        gateway = gateway_answer(self.code, self.status)
        if gateway is not None:
            return gateway[0], {"message": gateway[1]}
        error: dict[str, Any] = {
            "errorMessage": self.message,
            "statusCode": self.status,
            "correlationId": correlation_id,
        }
        if self.property is not None:
            error["property"] = self.property
        return self.status, {"errors": [error]}

    def to_response(self, correlation_id: str, *, documented: bool = False) -> web.Response:
        status, body = (
            self.documented_answer(correlation_id) if documented else (self.status, self.body(correlation_id))
        )
        response = json_response(body, status=status)
        response.headers.update(self.headers)
        return response


class TooManyRequests(ApiError):
    """429 with the rate-limit body of Unizo's rate-limit guide, plus (ours, `full` only) a `Retry-After`
    header."""

    def __init__(self, code: str, message: str, retry_after: float) -> None:
        super().__init__(429, code, message)
        self.retry_after = retry_after

    def body(self, correlation_id: str) -> dict[str, Any]:
        retry_after: float = (
            int(self.retry_after) if float(self.retry_after).is_integer() else self.retry_after
        )
        return {"error": {"code": self.code, "message": self.message, "retry_after": retry_after}}

    def documented_answer(self, correlation_id: str) -> tuple[int, dict[str, Any]]:
        return 429, self.body(correlation_id)

    def to_response(self, correlation_id: str, *, documented: bool = False) -> web.Response:
        response = super().to_response(correlation_id, documented=documented)
        if not documented:
            response.headers["Retry-After"] = format_seconds(self.retry_after)
        return response


def format_seconds(seconds: float) -> str:
    """Whole seconds print without a fraction (`2`), others with up to three decimals (`0.25`)."""
    if float(seconds).is_integer():
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0")


def invalid(property: str, message: str) -> ApiError:
    return ApiError(400, INVALID_REQUEST, message, property=property)


def not_found(kind: str, record_id: str) -> ApiError:
    return ApiError(404, NOT_FOUND, f"{kind} '{record_id}' was not found")
