"""One exception hierarchy for everything that can go wrong talking to Unizo.

Each class carries an actionable hint and the exit code the CLI uses for it, so a tool error,
a `--test-auth` failure and a startup refusal all say the same thing the same way.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes shared by every server (documented in the README)."""

    OK = 0
    INTERNAL = 1
    CONFIG = 2
    AUTH = 3
    FORBIDDEN = 4
    NETWORK = 5
    API = 6


INTERRUPTED = 130  # a command stopped by Ctrl-C (SIGINT), as shells report it; not an ExitCode: no error
OUTPUT_CLOSED = 141  # the reader of stdout went away (`| head`): 128 + SIGPIPE, as shells report it


class OutputClosed(Exception):
    """The reader of stdout went away (output piped into `head`, which exits): nothing more to print.

    Not an OSError, so no step that handles network errors takes it for one of them."""


class UnizoError(Exception):
    """Base class: a message, a hint, and whatever the API told us about the failure."""

    exit_code: ExitCode = ExitCode.API
    default_hint: str = "Retry later; if it persists, contact Unizo support with the correlationId."

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        status: int | None = None,
        error_code: str | None = None,
        correlation_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.status = status
        self.error_code = error_code
        self.correlation_id = correlation_id
        self.retry_after = retry_after

    def describe(self) -> str:
        """One paragraph: what failed, the API's identifiers, and what to do about it."""
        facts = []
        if self.status is not None:
            facts.append(f"HTTP {self.status}")
        if self.error_code:
            facts.append(f"errorCode {self.error_code}")
        if self.correlation_id:
            facts.append(f"correlationId {self.correlation_id}")
        text = self.message.rstrip(".") + "."
        if facts:
            text = f"{text[:-1]} ({', '.join(facts)})."
        if self.hint:
            text = f"{text} {self.hint}"
        return text

    def __str__(self) -> str:
        return self.describe()


class ConfigError(UnizoError):
    """Invalid or missing configuration; raised before any network traffic."""

    exit_code = ExitCode.CONFIG
    default_hint = ""


class ToolInputError(UnizoError):
    """A tool argument was refused locally (unsafe path value, ambiguous integration, ...)."""

    exit_code = ExitCode.CONFIG
    default_hint = ""


# --- HTTP answers -------------------------------------------------------------------------


class ApiError(UnizoError):
    """The API answered with an error status."""


class BadRequestError(ApiError):
    default_hint = "Check the arguments named in the message and call again."


class AuthenticationError(ApiError):
    exit_code = ExitCode.AUTH
    default_hint = (
        "Check the API key: generate a new one in the Unizo console (API Keys) and set it in "
        "UNIZO_API_KEY or the service-specific UNIZO_<SERVICE>_API_KEY."
    )


class MissingKeyError(AuthenticationError):
    default_hint = "Set UNIZO_API_KEY (or UNIZO_<SERVICE>_API_KEY / UNIZO_API_KEY_FILE)."


class InvalidKeyError(AuthenticationError):
    pass


class ExpiredKeyError(AuthenticationError):
    default_hint = (
        "The key has passed its expiry date: generate a new key in the Unizo console and replace it."
    )


class RevokedKeyError(AuthenticationError):
    default_hint = (
        "The key was revoked or suspended: generate a new key in the Unizo console; with UNIZO_API_KEY_FILE "
        "the server picks up the replaced file without a restart."
    )


class EnvironmentMismatchError(AuthenticationError):
    default_hint = (
        "Keys are environment-specific: use a key generated for this environment, or set UNIZO_ENVIRONMENT "
        "and UNIZO_BASE_URL to the key's environment."
    )


class PermissionDeniedError(ApiError):
    exit_code = ExitCode.FORBIDDEN
    default_hint = (
        "Ask a Unizo administrator to grant the key the permission it lacks, or use a key that has it."
    )


class MissingPermissionError(PermissionDeniedError):
    pass


class ServiceNotEnabledError(PermissionDeniedError):
    default_hint = "Enable this service for your organization in the Unizo console, or use another service."


class IpNotAllowedError(PermissionDeniedError):
    default_hint = (
        "The key has an IP allowlist that excludes this machine: add its egress IP to the allowlist."
    )


class QuotaExhaustedError(PermissionDeniedError):
    default_hint = "The key's daily request quota is used up: wait for the reset or raise the plan's quota."


class NotFoundError(ApiError):
    default_hint = "Check the id; list the parent collection to find valid ids."


class RateLimitedError(ApiError):
    default_hint = (
        "The key's rate limit was reached: wait and retry, or lower UNIZO_RATE_LIMIT/UNIZO_MAX_CONCURRENCY."
    )


class ServerError(ApiError):
    default_hint = (
        "The Unizo API failed; retry later. If it persists, contact Unizo support with the correlationId."
    )


class InvalidResponseError(ApiError):
    default_hint = "The API sent a response that could not be read (truncated or not JSON); retry the call."


class KeyCheckUnavailableError(UnizoError):
    """The API could neither confirm nor refuse the key now (unreachable, failing, or a probe it does not
    understand). The exit code is the cause's: network (5) or API (6)."""

    def __init__(self, message: str, *, cause: UnizoError | None = None, hint: str | None = None) -> None:
        super().__init__(
            message,
            hint=hint,
            status=cause.status if cause is not None else None,
            error_code=cause.error_code if cause is not None else None,
            correlation_id=cause.correlation_id if cause is not None else None,
        )
        self.cause = cause
        self.exit_code = cause.exit_code if cause is not None else ExitCode.NETWORK


# --- local refusals -------------------------------------------------------------------------


class LocalQuotaExceededError(UnizoError):
    """The client-side daily quota is used up; the request was not sent."""

    exit_code = ExitCode.FORBIDDEN
    default_hint = (
        "UNIZO_DAILY_QUOTA requests were made in the last day; wait for the reset or raise the quota."
    )


# --- transport failures ---------------------------------------------------------------------


class NetworkError(UnizoError):
    exit_code = ExitCode.NETWORK
    default_hint = "Check network access to the Unizo API (UNIZO_BASE_URL), then retry."


class DnsError(NetworkError):
    default_hint = "The API host name did not resolve: check UNIZO_BASE_URL and your DNS, or set HTTPS_PROXY."


class ConnectError(NetworkError):
    default_hint = "The TCP connection was refused or reset: check UNIZO_BASE_URL, firewalls and HTTPS_PROXY."


class TlsError(NetworkError):
    default_hint = (
        "The server certificate could not be verified. Behind a TLS-inspecting proxy or with a private "
        "deployment, set UNIZO_CA_BUNDLE (or SSL_CERT_FILE) to the PEM file of the issuing CA. "
        "Certificate checks cannot be disabled."
    )


class ProxyError(NetworkError):
    default_hint = (
        "The proxy refused or failed the connection: check HTTPS_PROXY/HTTP_PROXY, "
        "its credentials and NO_PROXY."
    )


class RequestTimeoutError(NetworkError):
    default_hint = "The API did not answer in time: retry, or raise UNIZO_TIMEOUT."
