"""`UnizoClient`: the only code that talks HTTP to Unizo.

One aiohttp session per client (created lazily inside the running loop), TLS always verified
(`tls.create_ssl_context`), the proxy (`proxy.resolve_proxy`) resolved once per session for the
base URL and passed to every request (no `trust_env`: aiohttp would look both it and `~/.netrc` up
again in worker threads on every request, and attach `.netrc` credentials to API calls), the key read
from its source on every attempt (so a rotated key file is picked up), client-side rate
limiting (`ratelimit.RateLimiter`), retries in a plain loop around the pure `retry.decide_retry`
(which also gives the delay), and every failure mapped to a `UnizoError` subclass whose message says
what failed and never contains the key, a header or proxy credentials.

    client = UnizoClient(settings, user_agent="unizo-mcp-edr/0.1.0 unizo-mcp-core/0.1.0")
    async with client:
        resp = await client.request("GET", "/edr/devices", integration_id="...", params={"limit": 20})
        info = await client.verify_key()
        health = await client.health()
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import ssl
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, nullcontext, suppress
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic_core import from_json
from yarl import URL

from .errors import (
    AuthenticationError,
    ConfigError,
    ConnectError,
    DnsError,
    EnvironmentMismatchError,
    InvalidResponseError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    ProxyError,
    QuotaExhaustedError,
    RateLimitedError,
    RequestTimeoutError,
    TlsError,
    ToolInputError,
    UnizoError,
)
from .keys import fingerprint, remember_secret
from .proxy import resolve_proxy
from .ratelimit import Clock, Limiter, RateLimitStatus, Slot, SystemClock
from .redaction import register_proxy_secrets, scrub
from .responses import ApiResponse, KeyInfo, check_environment, error_from_response
from .retry import IDEMPOTENT_METHODS, RetryDecision, RetryPolicy, decide_retry
from .settings import Settings, is_integration_id
from .sharedlimits import make_limiter
from .tls import create_ssl_context
from .values import query_value
from .verification import Answer, Outcome, decide, introspection, unavailable_error

__all__ = ["ApiResponse", "KeyInfo", "RateLimitStatus", "UnizoClient"]

log = logging.getLogger("unizo_mcp.client")
retry_log = logging.getLogger("unizo_mcp.retry")
auth_log = logging.getLogger("unizo_mcp.auth")

Multipart = Mapping[str, "str | bytes | tuple[str, bytes, str]"]

_MAYBE_APPLIED = (
    "The request reached the API but no readable answer came back, so it may have been carried out: "
    "check (for example by listing) before sending it again. It was not retried automatically."
)
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


class _Failure(Exception):
    """One attempt failed: the mapped error, and whether the request may have reached the server."""

    def __init__(self, error: UnizoError, *, sent: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.sent = sent


class _Retry:
    """A failed attempt and the retry decision about it."""

    def __init__(self, error: UnizoError, decision: RetryDecision, attempt: int, *, sent: bool) -> None:
        self.error = error
        self.decision = decision
        self.attempt = attempt
        self.sent = sent


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, str] | None:
    if not params:
        return None
    return {str(k): query_value(v) for k, v in params.items() if v is not None}


def _form(multipart: Multipart) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in multipart.items():
        if isinstance(value, tuple):
            filename, content, content_type = value
            form.add_field(name, content, filename=filename, content_type=content_type)
        elif isinstance(value, bytes):
            form.add_field(name, value, filename=name, content_type="application/octet-stream")
        else:
            form.add_field(name, str(value))
    return form


def _env_proxy(base_url: str) -> tuple[URL | None, dict[str, str] | None, str]:
    """The proxy for the API (`proxy.resolve_proxy`), the headers for it, and how to name it.

    Credentials become a Proxy-Authorization header, sent to the proxy only, and registered with the
    redaction filter.
    """
    found = resolve_proxy(base_url)
    if found is None:
        return None, None, ""
    url = URL.build(scheme=found.scheme, host=found.host, port=found.port)
    if found.username is None:
        return url, None, found.shown
    header = aiohttp.encode_basic_auth(found.username, found.password or "")
    remember_secret(header.split(" ", 1)[-1])
    return url, {"Proxy-Authorization": header}, found.shown


SEARCH_PATH = "/integrations/search"


def search_body(
    category: str | None,
    *,
    organization: str | None = None,
    connector: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """The integrations search: by category (`type`), organization and connector, as Unizo's server asks."""
    terms: list[dict[str, Any]] = []
    if category:
        terms.append({"property": "/type", "operator": "=", "values": [category]})
    if organization:
        terms.append({"property": "/organization/id", "operator": "=", "values": [organization]})
    if connector:
        terms.append({"property": "/serviceProfile/name", "operator": "=", "values": [connector]})
    body: dict[str, Any] = {"filter": {"and": terms}} if terms else {}
    body["pagination"] = {"offset": offset, "limit": limit}
    return body


class UnizoClient:
    """Async client for the Unizo API; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        *,
        user_agent: str,
        clock: Clock | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self._settings = settings
        self._user_agent = user_agent
        self._clock: Clock = clock or SystemClock()
        # UNIZO_RATE_LIMIT_BACKEND: shared with the other processes on the key (local, redis) or not
        self._limiter: Limiter = limiter or make_limiter(settings, clock=clock)
        self._policy = RetryPolicy.from_settings(settings)
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._proxy: URL | None = None
        self._proxy_headers: dict[str, str] | None = None
        self._proxy_shown = ""
        self._ssl_context: ssl.SSLContext | None = None
        self._logged_key: str | None = None
        register_proxy_secrets()

    # --- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> UnizoClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
        await self._limiter.aclose()

    def _get_session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is not None and not self._session.closed and self._session_loop is loop:
            return self._session
        if self._ssl_context is None:
            self._ssl_context = create_ssl_context(self._settings.ca_bundle)
        # Every request goes to the base URL's host: one proxy decision serves them all.
        self._proxy, self._proxy_headers, self._proxy_shown = _env_proxy(self._settings.base_url)
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=self._ssl_context),
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout),
            trust_env=False,
            headers={"User-Agent": self._user_agent, "Accept": "application/json"},
        )
        self._session_loop = loop
        return self._session

    # --- public API ----------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def limiter(self) -> Limiter:
        return self._limiter

    @property
    def rate_limit_status(self) -> RateLimitStatus | None:
        """The last `X-RateLimit-*` headers the API sent, or None before any."""
        return self._limiter.status

    async def request(
        self,
        method: str,
        path: str,
        *,
        integration_id: str | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        multipart: Multipart | None = None,
        idempotent: bool | None = None,
        retry: bool = True,
        decode: Callable[[bytes], Any] | None = None,
    ) -> ApiResponse:
        """Call `{base}/api/v1{path}`; `path` is already percent-encoded.

        GET/HEAD/PUT/DELETE are idempotent; POST/PATCH only when `idempotent=True` (for example a
        search). Raises a UnizoError subclass on any failure, after the retries the rules allow.
        `decode`: a cheaper decoder of a 2xx body for this call (`pages.page_decoder`); a body it
        refuses with ValueError is decoded whole.
        """
        method = method.upper()
        if json is not None and multipart is not None:
            raise ValueError("pass json or multipart, not both")
        if integration_id is not None and not is_integration_id(integration_id):
            raise ToolInputError("integration_id must be non-empty printable text")
        clean = "/" + quote(path.lstrip("/"), safe=_PATH_SAFE)
        display = f"/api/v1{clean}"
        url = URL(f"{self._settings.api_root}{clean}", encoded=True)

        def headers(correlation_id: str) -> dict[str, str]:
            values = {"apikey": self._current_key(), "correlationId": correlation_id}
            if integration_id:
                values["integrationId"] = integration_id
                if self._settings.raw_responses:  # documented: the vendor's own payload as well
                    values["x-unizo-raw"] = "true"
            return values

        return await self._call(
            method,
            url,
            display,
            headers,
            params=_clean_params(params),
            json=json,
            multipart=multipart,
            idempotent=method in IDEMPOTENT_METHODS if idempotent is None else idempotent,
            limited=True,
            retry=retry,
            decode=decode,
        )

    async def verify_key(self, category: str | None = None) -> KeyInfo:
        """Is the key valid, and what may it do? The decision is `verification.decide`.

        Asks `GET {base}/v1/auth/verify`, and unless that gave a usable description, a real read: the
        integrations search filtered on `category` (the server's own service). Neither probe is retried:
        an unclear answer is not a refusal. Raises the mapped AuthenticationError/PermissionDeniedError
        when the API refuses the key on the real read, EnvironmentMismatchError when the key belongs to
        another environment, and KeyCheckUnavailableError when nothing could be decided now.
        """
        url = URL(f"{self._settings.base_url}/v1/auth/verify", encoded=True)

        def headers(correlation_id: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {self._current_key()}", "correlationId": correlation_id}

        verify = await self._probe(
            self._call("GET", url, "/v1/auth/verify", headers, idempotent=True, limited=False, retry=False)
        )
        if verify.status is None and isinstance(verify.error, NetworkError | ConfigError):
            # no answer at all (DNS, TCP, TLS, proxy), or settings no request can be sent with (a CA
            # bundle that is not PEM, a SOCKS proxy): the read would fail the same way, and a setting
            # is not a key check to try again later
            raise verify.error
        read = None
        if introspection(verify) is None:
            log.debug("GET /v1/auth/verify gave no key description; checking the key with a real read")
            read = await self._probe(self.search_integrations(category, limit=1, retry=False))
        verdict = decide(verify, read)
        if verdict.outcome is Outcome.UNKNOWN:
            raise unavailable_error(verdict)
        if verdict.outcome is not Outcome.VALID:
            assert verdict.error is not None
            self._log_auth_failure(verdict.error)
            raise verdict.error
        info = verdict.info
        assert info is not None
        try:
            check_environment(info.environment, self._settings.environment)
        except EnvironmentMismatchError as error:
            self._log_auth_failure(error)
            raise
        if self._settings.log_auth:
            perms = (
                "unknown"
                if info.permissions is None
                else ", ".join(f"{s}:{'/'.join(sorted(a))}" for s, a in sorted(info.permissions.items()))
                or "none"
            )
            auth_log.info(
                "key %s verified: key id %s, environment %s, permissions %s",
                self._key_fingerprint(),
                info.key_id or "unknown",
                info.environment or "unknown",
                perms,
            )
        return info

    async def search_integrations(
        self,
        category: str | None,
        *,
        organization: str | None = None,
        connector: str | None = None,
        offset: int = 0,
        limit: int = 100,
        retry: bool = True,
    ) -> ApiResponse:
        """`POST /api/v1/integrations/search`, filtered as Unizo's own server filters it."""
        return await self.request(
            "POST",
            SEARCH_PATH,
            json=search_body(
                category, organization=organization, connector=connector, offset=offset, limit=limit
            ),
            idempotent=True,
            retry=retry,
        )

    @staticmethod
    async def _probe(call: Awaitable[ApiResponse]) -> Answer:
        """One probe's answer as a value: nothing it answers is raised."""
        try:
            response = await call
        except UnizoError as error:
            return Answer(status=error.status, error=error)
        return Answer(status=response.status, body=response.data)

    async def health(self) -> tuple[str, ApiResponse]:
        """The API's health: `GET {base}/health` without the key (the troubleshooting guide), then
        `GET {base}/v1/health` with the key as a Bearer token (the authentication docs).

        Returns (the path that answered, its answer). Raises NotFoundError when neither exists, and the
        first other error as it came (network, TLS, 5xx ...).
        """
        first: UnizoError | None = None
        for path, with_key in (("/health", False), ("/v1/health", True)):
            url = URL(f"{self._settings.base_url}{path}", encoded=True)

            def headers(correlation_id: str, with_key: bool = with_key) -> dict[str, str]:
                values = {"correlationId": correlation_id}
                if with_key:
                    values["Authorization"] = f"Bearer {self._current_key()}"
                return values

            try:
                return path, await self._call("GET", url, path, headers, idempotent=True, limited=False)
            except NotFoundError as exc:
                first = first or exc
            except NetworkError:
                raise  # the other path would fail the same way
            except UnizoError as exc:
                first = first or exc
        assert first is not None
        raise first

    # --- internals: key and auth logging -----------------------------------------------------------

    def _current_key(self) -> str:
        key = self._settings.key()  # checked where it was read (keys.check_key_text)
        if self._settings.log_auth:
            label = fingerprint(key)
            if label != self._logged_key:
                source = self._settings.api_key
                origin = source.origin if source is not None else "?"
                if self._logged_key is None:
                    auth_log.info("using API key %s from %s", label, origin)
                else:
                    auth_log.info("API key changed (from %s): now using %s", origin, label)
                self._logged_key = label
        return key

    def _key_fingerprint(self) -> str:
        try:
            return fingerprint(self._settings.key())
        except UnizoError:
            return "(no key)"

    def _log_auth_failure(self, error: UnizoError) -> None:
        if self._settings.log_auth:
            auth_log.warning(
                "key %s refused: HTTP %s, errorCode %s, correlationId %s: %s",
                self._key_fingerprint(),
                error.status,
                error.error_code or "-",
                error.correlation_id or "-",
                error.message,
            )

    # --- internals: one call with retries ------------------------------------------------------------

    async def _call(
        self,
        method: str,
        url: URL,
        display: str,
        headers: Callable[[str], dict[str, str]],
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        multipart: Multipart | None = None,
        idempotent: bool,
        limited: bool,
        retry: bool = True,
        decode: Callable[[bytes], Any] | None = None,
    ) -> ApiResponse:
        correlation_id = str(uuid.uuid4())
        policy = self._policy if retry else attrs.evolve(self._policy, attempts=0)
        for attempt in itertools.count():
            try:
                return await self._attempt(
                    method,
                    url,
                    display,
                    headers(correlation_id),
                    correlation_id,
                    attempt,
                    params=params,
                    json=json,
                    multipart=multipart,
                    limited=limited,
                    decode=decode,
                )
            except _Failure as failure:
                decision = decide_retry(
                    attempt, failure.error, idempotent=idempotent, policy=policy, sent=failure.sent
                )
                final = _Retry(failure.error, decision, attempt, sent=failure.sent)
            if not decision.retry:
                break
            retry_log.info(
                "%s %s: retry %d of %d in %.3f s (%s)",
                method,
                display,
                attempt + 1,
                self._policy.attempts,
                decision.delay,
                decision.reason,
            )
            await asyncio.sleep(decision.delay)
        # Raised outside the except block so no exception context (aiohttp errors can carry
        # Proxy-Authorization in their repr) stays chained to what callers and reporters see.
        error = self._final_error(final, idempotent=idempotent)
        error.__context__ = error.__cause__ = None
        raise error

    def _final_error(self, final: _Retry, *, idempotent: bool) -> UnizoError:
        error, decision = final.error, final.decision
        hint = error.hint
        if (
            not idempotent
            and final.sent
            and isinstance(error, InvalidResponseError | RequestTimeoutError | ConnectError)
        ):
            hint = _MAYBE_APPLIED
        suffix = ""
        if decision.beyond_cap and decision.retry_after is not None:
            suffix = f"; retry after {decision.retry_after:.0f} s"
            if decision.retry_after < 1:
                suffix = f"; retry after {decision.retry_after:.1f} s"
        elif final.attempt > 0:
            suffix = f" (gave up after {final.attempt} {'retry' if final.attempt == 1 else 'retries'})"
        if suffix or hint != error.hint:
            if suffix:
                retry_log.warning("%s%s", error.message, suffix)
            error = type(error)(
                error.message.rstrip(".") + suffix,
                hint=hint,
                status=error.status,
                error_code=error.error_code,
                correlation_id=error.correlation_id,
                retry_after=error.retry_after if error.retry_after is not None else decision.retry_after,
            )
        return error

    async def _attempt(
        self,
        method: str,
        url: URL,
        display: str,
        headers: dict[str, str],
        correlation_id: str,
        attempt: int,
        *,
        params: Mapping[str, str] | None,
        json: Any,
        multipart: Multipart | None,
        limited: bool,
        decode: Callable[[bytes], Any] | None = None,
    ) -> ApiResponse:
        session = self._get_session()
        await _after_pending_io()
        gate: AbstractAsyncContextManager[Slot | None] = self._limiter.slot() if limited else nullcontext()
        async with gate as slot:
            log.debug("%s %s: attempt %d, correlationId %s", method, display, attempt + 1, correlation_id)
            started = self._clock.now()
            try:
                async with session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=_form(multipart) if multipart is not None else None,
                    headers=headers,
                    allow_redirects=False,
                    proxy=self._proxy,
                    proxy_headers=self._proxy_headers,
                ) as resp:
                    status = resp.status
                    resp_headers = CIMultiDictProxy(CIMultiDict(resp.headers))
                    body = await _read_body(resp)
            except asyncio.CancelledError:
                raise
            except _TooLarge:
                # not an answer the API gives (a page of 100 records is about a megabyte): a proxy or
                # gateway answered, or a compressed body expands without end; read no further
                raise _Failure(
                    InvalidResponseError(
                        f"{method} {display} failed: the answer is larger than {MAX_BODY // 2**20} MiB, "
                        "far more than any answer of the API; it was not read",
                        status=status,
                        correlation_id=correlation_id,
                    ),
                    sent=True,
                ) from None
            except (aiohttp.ClientError, TimeoutError, OSError, ssl.SSLError) as exc:
                error, sent = self._transport_error(exc, method, display, url, correlation_id)
                log.debug("%s %s: %s", method, display, error.message)
                if slot is not None and isinstance(error, RequestTimeoutError):
                    # The API may still be working on it, and counting it against the key's
                    # concurrency cap: keep the slot until it can be assumed done (the timeout again).
                    self._limiter.linger(slot, self._settings.timeout)
                raise _Failure(error, sent=sent) from None
            if limited:
                self._limiter.observe(resp_headers, slot)
        elapsed = self._clock.now() - started
        echoed = resp_headers.get("correlationId") or correlation_id
        log.debug("%s %s: HTTP %d in %.3f s", method, display, status, elapsed)

        if 200 <= status < 300:
            return ApiResponse(
                status=status,
                headers=resp_headers,
                data=self._decode(body, resp_headers, method, display, status, echoed, decode),
                correlation_id=echoed,
                elapsed=elapsed,
            )
        try:
            data: Any = from_json(body, cache_strings="keys") if body else None
        except ValueError:
            data = None
        error = error_from_response(
            status, data, resp_headers, method=method, path=display, now=self._clock.time()
        )
        if error.correlation_id is None:
            error.correlation_id = echoed
        if isinstance(error, AuthenticationError | PermissionDeniedError):
            self._log_auth_failure(error)
        if isinstance(error, QuotaExhaustedError) and limited:
            self._limiter.exhaust_daily_quota()
        if (
            isinstance(error, RateLimitedError)
            and error.retry_after
            and error.error_code != "concurrency_limit_exceeded"
        ):
            # remembered: a pause up to UNIZO_MAX_RETRY_DELAY is waited, a longer one refuses calls
            self._limiter.block(error.retry_after)
        raise _Failure(error, sent=True)

    def _decode(
        self,
        body: bytes,
        headers: Mapping[str, str],
        method: str,
        display: str,
        status: int,
        correlation_id: str,
        decode: Callable[[bytes], Any] | None = None,
    ) -> Any:
        """The JSON of a 2xx answer (through `decode` first, when given); anything else (an HTML error
        page from a proxy, a cut-off body, text that is not UTF-8 or not Unicode) is an
        InvalidResponseError: the API always answers JSON. pydantic-core's parser: the values
        `json.loads` gives, faster (it runs on every page). Only keys are cached (a page repeats its
        keys, rarely its values): a fifth faster than caching both."""
        if not body.strip():
            return None
        if decode is not None:
            with suppress(ValueError):  # not the shape it decodes: decoded whole below
                return decode(body)
        try:
            return from_json(body, cache_strings="keys")
        except ValueError:
            content_type = headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
            raise _Failure(
                InvalidResponseError(
                    f"{method} {display} failed: the response body is not valid JSON ({content_type}, "
                    f"{len(body)} bytes)",
                    status=status,
                    correlation_id=correlation_id,
                ),
                sent=True,
            ) from None

    # --- internals: transport failures --------------------------------------------------------

    def _transport_error(
        self, exc: BaseException, method: str, display: str, url: URL, correlation_id: str
    ) -> tuple[UnizoError, bool]:
        """Map an aiohttp/OS exception; returns (error, sent) where sent=False means certainly not sent."""
        what = f"{method} {display} failed"
        host = url.host or "?"
        endpoint = f"{host}:{url.port}" if url.port else host
        if isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(exc, aiohttp.ClientSSLError):
            proxy = self._proxy_shown
            if isinstance(exc, aiohttp.ClientProxyConnectionError) or (proxy and exc.host != url.host):
                label = proxy or f"{exc.host}:{exc.port}"
                if _is_dns_failure(exc):
                    text = f"{what}: the proxy host name {exc.host} could not be resolved (proxy {label})"
                else:
                    text = f"{what}: could not connect to the proxy {label} ({_reason(exc)})"
                return ProxyError(text), False
        if isinstance(exc, aiohttp.ClientHttpProxyError):
            proxy = self._proxy_shown or "the proxy"
            hint = None
            if exc.status == 407:
                hint = (
                    "The proxy asks for credentials or refused them: put the right user and password in "
                    "HTTPS_PROXY (http://user:password@host:port)."
                )
            return (
                ProxyError(
                    f"{what}: the proxy {proxy} refused to open a tunnel to {endpoint} "
                    f"({exc.status} {scrub(exc.message or '')})",
                    hint=hint,
                    status=exc.status,
                ),
                False,
            )
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            detail = getattr(exc.certificate_error, "verify_message", None) or _reason(exc)
            return TlsError(f"{what}: the TLS certificate of {host} could not be verified ({detail})"), False
        if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
            return TlsError(f"{what}: the TLS handshake with {host} failed ({_reason(exc)})"), False
        if _is_dns_failure(exc):
            return DnsError(f"{what}: the host name {host} could not be resolved ({_reason(exc)})"), False
        if isinstance(exc, aiohttp.ClientConnectorError):
            return ConnectError(f"{what}: could not connect to {endpoint} ({_reason(exc)})"), False
        if isinstance(exc, TimeoutError):
            return (
                RequestTimeoutError(
                    f"{what}: no answer within {self._settings.timeout:g} s (UNIZO_TIMEOUT)",
                    correlation_id=correlation_id,
                ),
                True,
            )
        if isinstance(exc, aiohttp.ServerDisconnectedError):
            return (
                ConnectError(
                    f"{what}: the server closed the connection before answering",
                    correlation_id=correlation_id,
                ),
                True,
            )
        if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
            return (
                InvalidResponseError(
                    f"{what}: the response was truncated or malformed ({_reason(exc)})",
                    correlation_id=correlation_id,
                ),
                True,
            )
        error: NetworkError = ConnectError(
            f"{what}: the connection failed ({_reason(exc)})", correlation_id=correlation_id
        )
        return error, True


# The most of an answer read, decompressed: memory a broken proxy or a compression bomb cannot exceed.
MAX_BODY = 64 * 2**20


class _TooLarge(Exception):
    """An answer longer than MAX_BODY."""


async def _read_body(resp: aiohttp.ClientResponse) -> bytes:
    """The whole body, as `resp.read()` reads it, unless it is longer than MAX_BODY (declared or sent)."""
    if resp.content_length is not None and resp.content_length > MAX_BODY:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _after_pending_io() -> None:
    """Return once the event loop has handled the I/O events already waiting, such as the close of a
    keep-alive connection the API ended while this process was busy.

    Without it a request can be written to such a dead pooled connection: aiohttp retries that only
    for idempotent methods, so a POST would fail (a restart of the API between two calls). The first
    `sleep(0)` resumes before the callbacks of the loop's next poll, the second after them (~10 µs).

    It is kept for every method, although aiohttp resends a GET itself on a dead connection: the answers
    already received are also read first, so their `X-RateLimit-*` headers correct the limiter before
    the next token is taken. Skipped for GETs, 200 calls at once on a busy machine drew 429s
    (tests/reliability/test_load.py, failing in 6 of 8 runs next to two CPU-bound processes).
    """
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def _is_dns_failure(exc: BaseException) -> bool:
    return isinstance(exc, aiohttp.ClientConnectorDNSError | socket.gaierror) or isinstance(
        getattr(exc, "os_error", None), socket.gaierror
    )


def _reason(exc: BaseException) -> str:
    """A short, credential-free description of a transport exception."""
    os_error = getattr(exc, "os_error", None)
    if isinstance(os_error, OSError) and os_error.strerror:
        text = os_error.strerror
    elif isinstance(exc, aiohttp.ClientResponseError):
        text = f"{exc.status} {exc.message}"
    elif isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return scrub(text.strip().rstrip(".")) or type(exc).__name__
