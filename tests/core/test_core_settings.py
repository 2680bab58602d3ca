"""Settings from the environment: every bad value is one line naming its variable; keys by precedence."""

from __future__ import annotations

from pathlib import Path

import pytest
from coretest_support import KEY, KEY2
from unizo_mcp_core.errors import ConfigError
from unizo_mcp_core.keys import KeySource, fingerprint
from unizo_mcp_core.settings import SETTINGS_BY_ENV, Settings, load_settings

BAD_VALUES: dict[str, list[str]] = {
    "UNIZO_BASE_URL": [
        "http://api.unizo.ai",
        "ftp://api.unizo.ai",
        "api.unizo.ai",
        "https://u:p@api.unizo.ai",
        "https://u:p@[::1",  # urlsplit refuses it: a setting error all the same, never a crash
        "https://api.unizo .ai",
        "https://api.unizo.ai/\x00",
    ],
    "UNIZO_ENVIRONMENT": ["prod", "qa"],
    "UNIZO_MAX_QUEUE_WAIT": ["0", "-1", "soon"],
    "UNIZO_RATE_LIMIT_BACKEND": ["memcached://cache:11211", "sqlite", "redis://"],
    "UNIZO_CA_BUNDLE": ["/nonexistent/ca.pem"],
    "UNIZO_RETRY_ATTEMPTS": ["-1", "11", "three"],
    "UNIZO_RETRY_DELAY": ["0", "1.5", "soon"],
    "UNIZO_MAX_RETRY_DELAY": ["0", "x"],
    "UNIZO_RATE_LIMIT": ["0", "fast"],
    "UNIZO_DAILY_QUOTA": ["0", "lots"],
    "UNIZO_MAX_CONCURRENCY": ["0", "101"],
    "UNIZO_RATE_WINDOW": ["0", "-5", "86401", "hour"],
    "UNIZO_TIMEOUT": ["0", "-5", "601", "abc"],
    "UNIZO_LOG_LEVEL": ["verbose", "trace"],
    "UNIZO_LOG_AUTH": ["maybe", "2"],
    "UNIZO_READ_ONLY": ["maybe"],
    "UNIZO_RAW_RESPONSES": ["perhaps"],
    "UNIZO_TOOLS": ["widgets_list_items, bad name!", ","],
    "UNIZO_EXCLUDE_TOOLS": ["../etc", " ; , "],
    "UNIZO_SERVICES": ["widgets;sc m", ","],
    "UNIZO_TRANSPORT": ["sse"],
    "UNIZO_HOST": ["  "],
    "UNIZO_PORT": ["-1", "70000", "http"],
    "UNIZO_ALLOW_REMOTE": ["sure"],
    "UNIZO_HTTP_AUTH": ["oauth", "none"],
    "UNIZO_HTTP_TOKEN": ["short", "a token with spaces in it"],
    "UNIZO_STATELESS": ["maybe"],
    "UNIZO_SESSION_IDLE_TIMEOUT": ["0", "forever"],
    "UNIZO_MAX_SESSIONS": ["0"],
    "UNIZO_ALERT_REQUESTS_PER_HOUR": ["0", "many"],
    "UNIZO_MAX_CALLS_PER_SESSION": ["-1"],
    "UNIZO_INTEGRATION_ID": ["int-1\r\nX-Injected: 1", "\x00"],  # it travels as the integrationId header
}


def env(**values: str) -> dict[str, str]:
    return {"UNIZO_API_KEY": KEY, **values}


def test_every_setting_has_a_bad_value_case() -> None:
    assert set(SETTINGS_BY_ENV) == set(BAD_VALUES)


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in BAD_VALUES.items() for v in vs])
def test_bad_value_is_one_line_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings("demo", environ=env(**{name: value}))
    message = info.value.message
    assert message.startswith(f"Invalid {name}: expected ")
    assert message.removeprefix(f"Invalid {name}: expected ")[:1].islower(), message  # says what is valid
    assert "\n" not in message and "\n" not in info.value.describe()
    assert KEY not in info.value.describe()


@pytest.mark.parametrize(
    ("service", "variable"), [("demo", "UNIZO_DEMO_INTEGRATION_ID"), (None, "UNIZO_WIDGETS_INTEGRATION_ID")]
)
def test_a_bad_service_integration_id_is_named_by_its_own_variable(
    service: str | None, variable: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(service, environ=env(UNIZO_INTEGRATION_ID="fine", **{variable: "a\nb"}))
    assert info.value.message.startswith(f"Invalid {variable}: expected an integration id"), (
        info.value.message
    )


def test_http_base_url_is_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings("demo", environ=env(UNIZO_BASE_URL="http://api.unizo.ai"))
    assert "https" in info.value.message and "unencrypted" in info.value.message


def test_max_delay_below_first_delay() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings("demo", environ=env(UNIZO_RETRY_DELAY="2000", UNIZO_MAX_RETRY_DELAY="1000"))
    assert "UNIZO_MAX_RETRY_DELAY" in info.value.message


def test_defaults() -> None:
    settings = load_settings("demo", environ=env())
    assert isinstance(settings, Settings)
    assert settings.base_url == "https://api.unizo.ai"
    assert settings.api_root == "https://api.unizo.ai/api/v1"
    assert (settings.retry_attempts, settings.retry_delay_ms, settings.max_retry_delay_ms) == (
        3,
        1000,
        10_000,
    )
    assert (settings.rate_limit, settings.daily_quota, settings.max_concurrency) == (100, 10_000, 5)
    assert (settings.timeout, settings.log_level, settings.log_auth) == (30.0, "info", False)
    assert settings.environment == "production" and settings.ca_bundle is None


def test_good_values(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    settings = load_settings(
        "demo",
        environ=env(
            UNIZO_BASE_URL="https://dev-api.unizo.ai/",
            UNIZO_ENVIRONMENT="Development",
            UNIZO_CA_BUNDLE=str(ca),
            UNIZO_TIMEOUT="2.5",
            UNIZO_LOG_AUTH="yes",
            UNIZO_LOG_LEVEL="DEBUG",
        ),
    )
    assert settings.base_url == "https://dev-api.unizo.ai"
    assert settings.environment == "development"
    assert settings.ca_bundle == ca
    assert settings.timeout == 2.5 and settings.log_auth is True and settings.log_level == "debug"


def test_overrides_win_over_environment() -> None:
    settings = load_settings("demo", environ=env(UNIZO_RATE_LIMIT="10"), overrides={"UNIZO_RATE_LIMIT": "20"})
    assert settings.rate_limit == 20


# --- keys ---------------------------------------------------------------------------------------------


def test_no_key() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings("demo", environ={})
    assert "UNIZO_DEMO_API_KEY" in info.value.message and "UNIZO_API_KEY" in info.value.message
    assert load_settings("demo", environ={}, require_key=False).api_key is None


def test_service_key_wins() -> None:
    settings = load_settings("demo", environ={"UNIZO_API_KEY": KEY, "UNIZO_DEMO_API_KEY": KEY2})
    assert settings.key() == KEY2
    assert settings.api_key is not None and settings.api_key.origin == "UNIZO_DEMO_API_KEY"


def test_another_services_key_is_not_used() -> None:
    with pytest.raises(ConfigError):
        load_settings("demo", environ={"UNIZO_OTHER_API_KEY": KEY2})
    assert load_settings("demo", environ={"UNIZO_OTHER_API_KEY": KEY2, "UNIZO_API_KEY": KEY}).key() == KEY


def test_service_key_file_beats_generic_key(tmp_path: Path) -> None:
    path = tmp_path / "demo.key"
    path.write_text(f"  {KEY2}\n")
    settings = load_settings("demo", environ={"UNIZO_API_KEY": KEY, "UNIZO_DEMO_API_KEY_FILE": str(path)})
    assert settings.key() == KEY2


def test_key_file(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(KEY + "\n")
    settings = load_settings("demo", environ={"UNIZO_API_KEY_FILE": str(path)})
    assert settings.key() == KEY
    assert settings.api_key is not None and settings.api_key.file == path


@pytest.mark.parametrize("content", [None, "", "  \n"])
def test_unreadable_or_empty_key_file(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "key"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_settings("demo", environ={"UNIZO_API_KEY_FILE": str(path)})
    assert "UNIZO_API_KEY_FILE" in info.value.message
    assert "\n" not in info.value.message


def test_key_with_whitespace_is_refused_without_echo() -> None:
    bad = KEY[:10] + " " + KEY[10:]
    with pytest.raises(ConfigError) as info:
        load_settings("demo", environ={"UNIZO_API_KEY": bad})
    assert "UNIZO_API_KEY" in info.value.message
    assert KEY[10:] not in info.value.describe()


def test_key_never_in_repr() -> None:
    settings = load_settings("demo", environ=env())
    assert KEY not in repr(settings) and KEY not in str(settings.api_key)
    assert KEY not in fingerprint(KEY) and fingerprint(KEY).startswith("…" + KEY[-4:])
    assert KEY not in repr(KeySource(value=KEY, origin="UNIZO_API_KEY"))


def test_every_default_in_the_table_is_the_settings_default() -> None:
    """The SETTINGS table (flags, README) and the Settings class state the same defaults."""
    from unizo_mcp_core.settings import SETTINGS, Settings

    defaults = Settings(service=None, api_key=None)
    for setting in SETTINGS:
        if not setting.field:
            continue
        value = getattr(defaults, setting.field)
        if setting.default is None:
            assert value in (None, frozenset()), setting.env
        else:
            assert setting.parse is not None
            assert setting.parse(setting.default) == value, setting.env
