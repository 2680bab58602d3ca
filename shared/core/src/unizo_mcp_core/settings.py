"""Settings: one frozen object built from the environment and CLI flags.

`SETTINGS` is the single table of every option: the parser, the CLI flags and the README's
configuration table are all derived from it, so they cannot drift apart. This module imports
only the standard library and attrs, so `--help`, `--version` and `--print-config` stay fast.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs

from .errors import ConfigError
from .keys import KeySource, find_key, key_variables, remember_secret, resolve_key, resolve_own_key

ENVIRONMENTS = ("production", "staging", "development")
LOG_LEVELS = ("debug", "info", "warning", "error")
TRANSPORTS = ("stdio", "streamable-http")
HTTP_AUTH_MODES = ("token", "per-request")
DEFAULT_BASE_URL = "https://api.unizo.ai"


# --- value parsers: each raises ValueError with the accepted values ---------------------------


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"an integer from {low} to {high}") from None
        if not low <= value <= high:
            raise ValueError(f"an integer from {low} to {high}")
        return value

    return parse


def _float_in(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(f"a number of seconds from {low:g} to {high:g}") from None
        if not low < value <= high:
            raise ValueError(f"a number of seconds above {low:g} and at most {high:g}")
        return value

    return parse


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError("one of " + ", ".join(choices))
        return value

    return parse


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("true or false")


def parse_names(raw: str) -> frozenset[str]:
    names = frozenset(part.strip() for part in raw.replace(";", ",").split(",") if part.strip())
    bad = sorted(n for n in names if not n.replace("_", "").isalnum())
    if bad:
        raise ValueError(f"comma-separated tool or service names (not {bad[0]!r})")
    if not names:  # "," names nothing: serving no service, or no tool, is never what was meant
        raise ValueError("comma-separated tool or service names (this value names none)")
    return names


def parse_base_url(raw: str) -> str:
    value = raw.strip().rstrip("/")
    try:
        parts = urlsplit(value)
    except ValueError:  # an unclosed "[" and the like
        parts = None
    if parts is None or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("an https:// URL such as https://api.unizo.ai (this one is not a valid URL)")
    if parts.scheme == "http":
        raise ValueError(
            "an https:// URL; plain http is refused because the API key would travel unencrypted"
        )
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("an https:// URL such as https://api.unizo.ai")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("an https:// URL without credentials, query or fragment")
    return value


def parse_file(raw: str) -> Path:
    path = Path(raw.strip()).expanduser()
    if not path.is_file() or not os.access(path, os.R_OK):
        raise ValueError(f"a readable PEM file (cannot read {path})")
    return path


RATE_LIMIT_BACKENDS = ("local", "process")
REDIS_SCHEMES = ("redis", "rediss", "unix")


def parse_rate_limit_backend(raw: str) -> str:
    """`local`, `process`, or a Redis URL (its password is registered for redaction, never shown)."""
    value = raw.strip()
    if value.lower() in RATE_LIMIT_BACKENDS:
        return value.lower()
    parts = urlsplit(value)
    if parts.scheme.lower() in REDIS_SCHEMES and (parts.hostname or parts.path):
        if parts.password:
            remember_secret(parts.password)
        return value
    raise ValueError("local, process, or a redis:// (rediss://, unix://) URL such as redis://host:6379/0")


def _text(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("a non-empty value")
    return value


def integration_variable(service: str) -> str:
    """The service's own default integration, which wins over UNIZO_INTEGRATION_ID for its tools."""
    return f"UNIZO_{service.upper()}_INTEGRATION_ID"


def is_integration_id(value: str) -> bool:
    """What the `integrationId` header may carry: printable text, not blank (no line break can slip in)."""
    return value.isprintable() and bool(value.strip())


def _integration_id(raw: str) -> str:
    value = raw.strip()
    if not is_integration_id(value):
        raise ValueError("an integration id: printable text without control characters or line breaks")
    return value


def _token(raw: str) -> str:
    value = raw.strip()
    if len(value) < 16 or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError("a token of at least 16 printable characters, without spaces")
    from .keys import remember_secret

    remember_secret(value)
    return value


def parse_port(raw: str) -> int:
    return _int_in(0, 65535)(raw)


@attrs.frozen
class SettingDef:
    """One option: its variable, flag, default, meaning and parser."""

    env: str
    field: str
    default: str | None
    meaning: str
    parse: Callable[[str], Any] | None = None
    flag: str | None = None
    # "client": read by every server; "server": MCP-serving behaviour. Key rows have no field.
    group: str = "client"
    secret: bool = False  # never printed (--print-config), never logged


SETTINGS: tuple[SettingDef, ...] = (
    SettingDef("UNIZO_API_KEY", "", None, "the API key (required unless a variable below supplies it)"),
    SettingDef(
        "UNIZO_<SERVICE>_API_KEY",
        "",
        None,
        "service-specific key; wins over UNIZO_API_KEY for that service's server",
    ),
    SettingDef(
        "UNIZO_API_KEY_FILE",
        "",
        None,
        "read the key from a file (secret managers, rotation); re-read when the file changes",
        flag="--api-key-file",
    ),
    SettingDef(
        "UNIZO_BASE_URL",
        "base_url",
        DEFAULT_BASE_URL,
        "API base URL; must be https (http:// is refused)",
        parse_base_url,
        "--base-url",
    ),
    SettingDef(
        "UNIZO_ENVIRONMENT",
        "environment",
        "production",
        "production, staging or development; checked against the key's own environment",
        _choice(*ENVIRONMENTS),
        "--environment",
    ),
    SettingDef(
        "UNIZO_CA_BUNDLE",
        "ca_bundle",
        None,
        "extra CA file (corporate TLS inspection, private deployments); SSL_CERT_FILE is honoured too",
        parse_file,
        "--ca-bundle",
    ),
    SettingDef(
        "UNIZO_RETRY_ATTEMPTS",
        "retry_attempts",
        "3",
        "retries after the first try",
        _int_in(0, 10),
        "--retry-attempts",
    ),
    SettingDef(
        "UNIZO_RETRY_DELAY",
        "retry_delay_ms",
        "1000",
        "first backoff delay, ms",
        _int_in(1, 60_000),
        "--retry-delay",
    ),
    SettingDef(
        "UNIZO_MAX_RETRY_DELAY",
        "max_retry_delay_ms",
        "10000",
        "cap on one backoff delay, ms; a longer server hint ends the retries",
        _int_in(1, 600_000),
        "--max-retry-delay",
    ),
    SettingDef(
        "UNIZO_RATE_LIMIT",
        "rate_limit",
        "100",
        "requests per key per UNIZO_RATE_WINDOW (a minute by default)",
        _int_in(1, 1_000_000),
        "--rate-limit",
    ),
    SettingDef(
        "UNIZO_RATE_WINDOW",
        "rate_window",
        "60",
        "seconds the UNIZO_RATE_LIMIT allowance is spread over (plans limited per hour: 3600)",
        _float_in(0, 86_400),
        "--rate-window",
    ),
    SettingDef(
        "UNIZO_DAILY_QUOTA",
        "daily_quota",
        "10000",
        "requests per day per key",
        _int_in(1, 100_000_000),
        "--daily-quota",
    ),
    SettingDef(
        "UNIZO_MAX_CONCURRENCY",
        "max_concurrency",
        "5",
        "simultaneous requests per key",
        _int_in(1, 100),
        "--max-concurrency",
    ),
    SettingDef(
        "UNIZO_MAX_QUEUE_WAIT",
        "max_queue_wait",
        "60",
        "longest a call waits for the key's rate limit, s; one that would wait longer fails at once, unsent",
        _float_in(0, 86_400),
        "--max-queue-wait",
    ),
    SettingDef(
        "UNIZO_RATE_LIMIT_BACKEND",
        "rate_limit_backend",
        "local",
        "where the processes using one key share its limits: local (this machine, no setup), "
        "redis://host:6379/0 (several hosts; `unizo-mcp-core[redis]`), process (none shared)",
        parse_rate_limit_backend,
        "--rate-limit-backend",
    ),
    SettingDef("UNIZO_TIMEOUT", "timeout", "30", "seconds per request", _float_in(0, 600), "--timeout"),
    SettingDef(
        "UNIZO_LOG_LEVEL",
        "log_level",
        "info",
        "debug, info, warning, error",
        _choice(*LOG_LEVELS),
        "--log-level",
    ),
    SettingDef(
        "UNIZO_LOG_AUTH",
        "log_auth",
        "false",
        "log authentication events (key fingerprint, verification result, 401/403 detail)",
        parse_bool,
        "--log-auth",
    ),
    SettingDef(
        "UNIZO_INTEGRATION_ID",
        "integration_id",
        None,
        "default integration for data tools; UNIZO_<SERVICE>_INTEGRATION_ID wins for that service",
        _integration_id,
        "--integration-id",
    ),
    SettingDef(
        "UNIZO_RAW_RESPONSES",
        "raw_responses",
        "false",
        "ask the API for the vendor's own payload too (x-unizo-raw: true); larger results",
        parse_bool,
        "--raw-responses",
    ),
    SettingDef(
        "UNIZO_READ_ONLY",
        "read_only",
        "false",
        "expose only read tools (hidden tools are also refused when called)",
        parse_bool,
        "--read-only",
        "server",
    ),
    SettingDef(
        "UNIZO_TOOLS",
        "tools",
        None,
        "allow-list of tool names (comma-separated); all when unset",
        parse_names,
        "--tools",
        "server",
    ),
    SettingDef(
        "UNIZO_EXCLUDE_TOOLS",
        "exclude_tools",
        None,
        "tool names never exposed (comma-separated); always wins",
        parse_names,
        "--exclude-tools",
        "server",
    ),
    SettingDef(
        "UNIZO_SERVICES",
        "services",
        None,
        "unizo-mcp-server only: the services to serve (comma-separated); all installed when unset",
        parse_names,
        "--services",
        "server",
    ),
    SettingDef(
        "UNIZO_TRANSPORT",
        "transport",
        "stdio",
        "stdio or streamable-http",
        _choice(*TRANSPORTS),
        "--transport",
        "server",
    ),
    SettingDef(
        "UNIZO_HOST", "host", "127.0.0.1", "bind address for streamable-http", _text, "--host", "server"
    ),
    SettingDef(
        "UNIZO_PORT",
        "port",
        "8000",
        "port for streamable-http (0: any free port; the one chosen is logged)",
        parse_port,
        "--port",
        "server",
    ),
    SettingDef(
        "UNIZO_ALLOW_REMOTE",
        "allow_remote",
        "false",
        "allow a non-loopback streamable-http bind (needs UNIZO_HTTP_TOKEN or per-request auth)",
        parse_bool,
        "--allow-remote",
        "server",
    ),
    SettingDef(
        "UNIZO_HTTP_AUTH",
        "http_auth",
        "token",
        "streamable-http: token (a bearer token for this server) or per-request (each request's Unizo key)",
        _choice(*HTTP_AUTH_MODES),
        "--auth",
        "server",
    ),
    SettingDef(
        "UNIZO_HTTP_TOKEN",
        "http_token",
        None,
        "streamable-http bearer token; unset: a random one in a file only you can read (its path is logged)",
        _token,
        None,
        "server",
        secret=True,
    ),
    SettingDef(
        "UNIZO_STATELESS",
        "stateless",
        "false",
        "streamable-http without server-side sessions, for several replicas behind a load balancer",
        parse_bool,
        "--stateless",
        "server",
    ),
    SettingDef(
        "UNIZO_SESSION_IDLE_TIMEOUT",
        "session_idle_timeout",
        "600",
        "seconds after which an idle streamable-http session is closed",
        _float_in(0, 86_400),
        "--session-idle-timeout",
        "server",
    ),
    SettingDef(
        "UNIZO_MAX_SESSIONS",
        "max_sessions",
        "100",
        "most streamable-http sessions open at once; more are refused until one closes",
        _int_in(1, 100_000),
        "--max-sessions",
        "server",
    ),
    SettingDef(
        "UNIZO_ALERT_REQUESTS_PER_HOUR",
        "alert_requests_per_hour",
        None,
        "warn (log and MCP log notification) when tool calls in the last hour exceed this; off when unset",
        _int_in(1, 10_000_000),
        "--alert-requests-per-hour",
        "server",
    ),
    SettingDef(
        "UNIZO_MAX_CALLS_PER_SESSION",
        "max_calls_per_session",
        None,
        "tool calls one client session may make, later ones refused until it ends; off when unset",
        _int_in(1, 10_000_000),
        "--max-calls-per-session",
        "server",
    ),
    SettingDef(
        "HTTP_PROXY, HTTPS_PROXY, NO_PROXY",
        "",
        None,
        "honoured for API calls; proxy credentials are never logged",
    ),
)

SETTINGS_BY_ENV = {s.env: s for s in SETTINGS if s.field}


@attrs.frozen
class Settings:
    """Everything a server needs to run, validated. Immutable: build a new one to change it."""

    service: str | None
    api_key: KeySource | None
    base_url: str = DEFAULT_BASE_URL
    environment: str = "production"
    ca_bundle: Path | None = None
    retry_attempts: int = 3
    retry_delay_ms: int = 1000
    max_retry_delay_ms: int = 10_000
    rate_limit: int = 100
    rate_window: float = 60.0
    daily_quota: int = 10_000
    max_concurrency: int = 5
    max_queue_wait: float = 60.0
    rate_limit_backend: str = "local"
    timeout: float = 30.0
    log_level: str = "info"
    log_auth: bool = False
    integration_id: str | None = None
    raw_responses: bool = False
    read_only: bool = False
    tools: frozenset[str] | None = None
    exclude_tools: frozenset[str] = frozenset()
    services: frozenset[str] | None = None
    transport: str = "stdio"
    host: str = "127.0.0.1"
    port: int = 8000
    allow_remote: bool = False
    http_auth: str = "token"
    http_token: str | None = attrs.field(default=None, repr=False)
    stateless: bool = False
    session_idle_timeout: float = 600.0
    max_sessions: int = 100
    alert_requests_per_hour: int | None = None
    max_calls_per_session: int | None = None
    # UNIZO_<SERVICE>_INTEGRATION_ID values as (service, id) pairs, for the all-in-one server.
    integration_ids: tuple[tuple[str, str], ...] = ()
    # UNIZO_<SERVICE>_API_KEY(_FILE) keys as (service, key) pairs: the all-in-one server gives each
    # service its own key when one is set (keys stay isolated per service, as with separate servers).
    service_keys: tuple[tuple[str, KeySource], ...] = ()

    def key_for(self, service: str) -> KeySource | None:
        """The key `service`'s calls carry: its own UNIZO_<SERVICE>_API_KEY, else the shared key."""
        return dict(self.service_keys).get(service) or self.api_key

    def for_service(self, service: str) -> Settings:
        """These settings with `service`'s key as the key (ConfigError when it has none)."""
        key = self.key_for(service)
        if key is None:
            raise ConfigError(
                f"No API key for the {service} service: set {' or '.join(key_variables(service))}"
            )
        return attrs.evolve(self, api_key=key, service_keys=())

    def integration_id_for(self, service: str) -> str | None:
        """The default integration of `service`: UNIZO_<SERVICE>_INTEGRATION_ID, then UNIZO_INTEGRATION_ID."""
        return dict(self.integration_ids).get(service) or self.integration_id

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/api/v1"

    def key(self) -> str:
        """The current key value. Never log or return it."""
        if self.api_key is None:
            raise ConfigError("No API key is configured for this command")
        return self.api_key.get()


def load_settings(
    service: str | None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
    *,
    require_key: bool = True,
) -> Settings:
    """Build Settings for `service` ("edr", ...; None for the all-in-one server).

    `overrides` maps variable names to raw strings (from CLI flags) and wins over `environ`.
    Raises ConfigError with one line naming the variable and the accepted values.
    """
    env = dict(os.environ if environ is None else environ)
    env.update(overrides or {})
    values: dict[str, Any] = {}
    for setting in SETTINGS_BY_ENV.values():
        variable = setting.env
        if variable == "UNIZO_INTEGRATION_ID" and service and env.get(own := integration_variable(service)):
            variable = own  # the service's own wins, and a bad value is named by where it came from
        raw = env.get(variable)
        if raw is None or (raw.strip() == "" and setting.default is None):
            continue
        assert setting.parse is not None
        try:
            values[setting.field] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"Invalid {variable}: expected {exc}") from None
    per_service = []
    for name, raw in sorted(env.items()):
        if name.startswith("UNIZO_") and name.endswith("_INTEGRATION_ID") and name != "UNIZO_INTEGRATION_ID":
            svc = name[len("UNIZO_") : -len("_INTEGRATION_ID")].lower()
            if not raw.strip() or (service and svc != service):
                continue
            try:
                per_service.append((svc, _integration_id(raw)))
            except ValueError as exc:
                raise ConfigError(f"Invalid {name}: expected {exc}") from None
    values["integration_ids"] = tuple(per_service)
    if values.get("max_retry_delay_ms", 10_000) < values.get("retry_delay_ms", 1000):
        raise ConfigError("Invalid UNIZO_MAX_RETRY_DELAY: expected a value at least UNIZO_RETRY_DELAY")
    if values.get("transport") == "streamable-http" and values.get("http_auth") == "per-request":
        require_key = False  # each request brings its own key; the environment's is never used
    if service is None:
        values["service_keys"] = _service_keys(env) if require_key else ()
        api_key = find_key(None, env) if require_key else _optional_key(None, env)
        if api_key is None and not values["service_keys"] and require_key:
            raise ConfigError(
                f"No API key: set {' or '.join(key_variables(None))} (or UNIZO_<SERVICE>_API_KEY)"
            )
    else:
        api_key = resolve_key(service, env) if require_key else _optional_key(service, env)
    return Settings(service=service, api_key=api_key, **values)


_SERVICE_KEY = re.compile(r"UNIZO_([A-Z0-9_]+?)_API_KEY(?:_FILE)?")


def _service_keys(env: Mapping[str, str]) -> tuple[tuple[str, KeySource], ...]:
    """Every UNIZO_<SERVICE>_API_KEY(_FILE) that is set, as (service, key) pairs."""
    names = sorted({m.group(1).lower() for v in env if (m := _SERVICE_KEY.fullmatch(v)) and env[v].strip()})
    found = []
    for name in names:
        source = resolve_own_key(name, env)
        if source is not None:
            found.append((name, source))
    return tuple(found)


def _optional_key(service: str | None, env: Mapping[str, str]) -> KeySource | None:
    try:
        return resolve_key(service, dict(env))
    except ConfigError:
        return None
