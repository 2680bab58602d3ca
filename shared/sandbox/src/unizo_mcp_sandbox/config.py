"""Sandbox settings: what `unizo-sandbox serve` flags and `start_sandbox()` arguments turn into."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import attrs

DEFAULT_SEED = 1729
DEFAULT_RATE_LIMIT = 100
DEFAULT_DAILY_QUOTA = 10_000
DEFAULT_MAX_CONCURRENCY = 5
DEFAULT_RATE_WINDOW = 60.0
DEFAULT_HOST = "127.0.0.1"

ENVIRONMENTS = ("production", "staging", "development")
ENVIRONMENT_CODES = {"production": "prod", "staging": "stg", "development": "dev"}

# `full`: everything this repo's contract (docs/api-contract.md) defines, Unizo's documentation and the
# sandbox's own conventions alike. `documented`: only what Unizo documents, behind a gateway that answers
# as Kong does where Unizo documents no answer of its own.
FULL = "full"
DOCUMENTED = "documented"
PROFILES = (FULL, DOCUMENTED)


def default_state_dir() -> Path:
    """`$UNIZO_SANDBOX_STATE_DIR`, else `$XDG_STATE_HOME/unizo-sandbox`, else ~/.local/state/unizo-sandbox."""
    explicit = os.environ.get("UNIZO_SANDBOX_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return base / "unizo-sandbox"


def _check_environment(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in ENVIRONMENTS:
        raise ValueError(f"{attribute.name} must be one of {', '.join(ENVIRONMENTS)}, not {value!r}")


def _check_profile(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in PROFILES:
        raise ValueError(f"{attribute.name} must be one of {', '.join(PROFILES)}, not {value!r}")


def _positive(_: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be positive, not {value!r}")


@attrs.frozen
class LimitSettings:
    """Per-key limits. The bucket holds `rate_limit` tokens and refills them evenly over `rate_window` s."""

    rate_limit: int = attrs.field(default=DEFAULT_RATE_LIMIT, validator=_positive)
    daily_quota: int = attrs.field(default=DEFAULT_DAILY_QUOTA, validator=_positive)
    max_concurrency: int = attrs.field(default=DEFAULT_MAX_CONCURRENCY, validator=_positive)
    rate_window: float = attrs.field(default=DEFAULT_RATE_WINDOW, converter=float, validator=_positive)

    @property
    def refill_per_second(self) -> float:
        return self.rate_limit / self.rate_window


@attrs.frozen
class SandboxConfig:
    state_dir: Path = attrs.field(factory=default_state_dir, converter=Path)
    host: str = DEFAULT_HOST
    # None: the previous run's port in this state dir when free, else any free port. 0: any free port.
    port: int | None = None
    environment: str = attrs.field(default="production", validator=_check_environment)
    seed: int = DEFAULT_SEED
    limits: LimitSettings = attrs.field(factory=LimitSettings)
    faults: str | None = None
    admin_token: str | None = None
    access_log: bool = False
    profile: str = attrs.field(default=FULL, validator=_check_profile)

    @property
    def documented(self) -> bool:
        """Serve only what Unizo documents (see `PROFILES`)."""
        return self.profile == DOCUMENTED

    @property
    def environment_code(self) -> str:
        return ENVIRONMENT_CODES[self.environment]
