"""What every command shares: the console, the environment, the global flags, and the API client.

The administrator key is found as the servers find theirs (`unizo_mcp_core.settings.load_settings`), with
`admin` as the scope: UNIZO_ADMIN_API_KEY, UNIZO_ADMIN_API_KEY_FILE, then UNIZO_API_KEY, UNIZO_API_KEY_FILE
(`--api-key-file` wins over all four). Settings such as UNIZO_BASE_URL, UNIZO_CA_BUNDLE, proxies, timeouts and
retries are the servers' too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .output import Console

if TYPE_CHECKING:
    from unizo_mcp_core.client import UnizoClient
    from unizo_mcp_core.settings import Settings

ADMIN_SCOPE = "admin"
KEY_FILE_SETTING = "UNIZO_API_KEY_FILE"


def admin_key_variables() -> list[str]:
    from unizo_mcp_core.keys import key_variables

    return key_variables(ADMIN_SCOPE)


@dataclass
class Context:
    console: Console
    environ: Mapping[str, str]
    # raw values of the global flags, by the environment variable each overrides
    overrides: dict[str, str] = field(default_factory=dict)

    def _environment(self, *, drop_keys: bool) -> dict[str, str]:
        env = dict(self.environ)
        if drop_keys:
            for name in admin_key_variables():
                env.pop(name, None)
        return env

    def settings(self) -> Settings:
        """The administrator's settings (ConfigError when no key variable is set, or a value is invalid)."""
        from unizo_mcp_core.settings import load_settings

        return load_settings(
            ADMIN_SCOPE, self._environment(drop_keys=KEY_FILE_SETTING in self.overrides), self.overrides
        )

    def key_file_settings(self, key_file: Path, environment: str | None = None) -> Settings:
        """Settings whose key is the one in `key_file`, read as a server reads UNIZO_API_KEY_FILE (for
        `environment`, when given: a key is checked against its own environment)."""
        from unizo_mcp_core.settings import load_settings

        overrides = {k: v for k, v in self.overrides.items() if k != KEY_FILE_SETTING}
        overrides[KEY_FILE_SETTING] = str(key_file)
        if environment:
            overrides["UNIZO_ENVIRONMENT"] = environment
        return load_settings(ADMIN_SCOPE, self._environment(drop_keys=True), overrides)

    def service_settings(self, service: str) -> Settings:
        """What the server of `service` would run with here (its own key variables first)."""
        from unizo_mcp_core.keys import key_variables
        from unizo_mcp_core.settings import load_settings

        env = dict(self.environ)
        if KEY_FILE_SETTING in self.overrides:
            for name in key_variables(service):
                env.pop(name, None)
        return load_settings(service, env, self.overrides)

    def client(self, settings: Settings) -> UnizoClient:
        from unizo_mcp_core import __version__ as core_version
        from unizo_mcp_core.client import UnizoClient

        return UnizoClient(settings, user_agent=f"unizo-cli/{__version__} unizo-mcp-core/{core_version}")

    def configure_logging(self, settings: Settings) -> None:
        """Logs (retries, auth events with UNIZO_LOG_AUTH) on stderr through the core's redaction filter."""
        from unizo_mcp_core.redaction import configure_logging

        configure_logging(settings.log_level, log_auth=settings.log_auth)
