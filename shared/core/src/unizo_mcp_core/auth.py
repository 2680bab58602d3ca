"""What a verified key means for a server: environment check, permissions per service, messages.

Shared by startup (`server`) and `--test-auth` (`diagnostics`) so both say the same thing. Pure:
imports only the standard library and the fast core modules.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .errors import (
    InvalidKeyError,
    KeyCheckUnavailableError,
    NetworkError,
    PermissionDeniedError,
    ServiceNotEnabledError,
)
from .responses import check_environment
from .settings import Settings
from .spec import ServiceSpec

if TYPE_CHECKING:
    from .client import UnizoClient

log = logging.getLogger("unizo_mcp.server")

__all__ = [
    "KeyInfoLike",
    "check_key",
    "format_permissions",
    "key_label",
    "no_permission_error",
    "permissions_for",
    "require_permission",
    "verify_at_startup",
]


class KeyInfoLike(Protocol):
    """The parts of the client's `KeyInfo` this module reads."""

    @property
    def valid(self) -> bool: ...
    @property
    def name(self) -> Any: ...
    @property
    def environment(self) -> Any: ...
    @property
    def permissions(self) -> Any: ...
    @property
    def enabled_services(self) -> Any: ...
    def actions_for(self, service: str) -> frozenset[str] | None: ...


def key_label(info: KeyInfoLike | None, fingerprint: str | None) -> str:
    """ "'demo-edr' (…abcd (sha256:1234abcd))": how messages name a key, never by its value."""
    parts = []
    name = getattr(info, "name", None) if info is not None else None
    if name:
        parts.append(f"'{name}'")
    if fingerprint:
        parts.append(f"({fingerprint})" if parts else fingerprint)
    return " ".join(parts) or "in use"


def check_key(info: KeyInfoLike, settings: Settings) -> None:
    """Raise when the verified key is not valid or belongs to another environment."""
    if not info.valid:
        raise InvalidKeyError("The API key was not accepted by Unizo (verification says it is not valid)")
    check_environment(info.environment, settings.environment)


def actions(info: KeyInfoLike, service: str) -> frozenset[str] | None:
    """The key's actions on `service`: None when unknown; empty when the service is not enabled."""
    enabled = info.enabled_services
    if enabled is not None and service not in enabled:
        return frozenset()
    return info.actions_for(service)


def permissions_for(
    info: KeyInfoLike | None, services: Sequence[str]
) -> dict[str, frozenset[str] | None] | None:
    """The `permissions` argument of `policy.decide_tools` for `services` (None: nothing known)."""
    if info is None:
        return None
    return {service: actions(info, service) for service in services}


def format_permissions(info: KeyInfoLike, services: Sequence[str]) -> dict[str, str]:
    """Per service: "read, write" / "none" / "service not enabled" / "unknown"."""
    shown: dict[str, str] = {}
    enabled = info.enabled_services
    for service in services:
        if enabled is not None and service not in enabled:
            shown[service] = "none (service not enabled for the organization)"
            continue
        granted = info.actions_for(service)
        if granted is None:
            shown[service] = "unknown (the API did not say)"
        else:
            order = {"read": 0, "write": 1, "delete": 2}
            shown[service] = ", ".join(sorted(granted, key=lambda a: (order.get(a, 9), a))) or "none"
    return shown


def _others(info: KeyInfoLike) -> str:
    granted = info.permissions
    if not isinstance(granted, Mapping) or not granted:
        return "none"
    return "; ".join(f"{svc}: {', '.join(sorted(acts)) or 'none'}" for svc, acts in sorted(granted.items()))


def no_permission_error(
    info: KeyInfoLike, services: Sequence[str], fingerprint: str | None, key_variable: str = "UNIZO_API_KEY"
) -> PermissionDeniedError:
    """The refusal for a key that can do nothing on any of `services` (exit code 4)."""
    label = key_label(info, fingerprint)
    names = ", ".join(services)
    enabled = info.enabled_services
    not_enabled = [s for s in services if enabled is not None and s not in enabled]
    scope = f"the {names} service" if len(services) == 1 else f"any of the selected services ({names})"
    if not_enabled and len(not_enabled) == len(services):
        return ServiceNotEnabledError(
            f"The API key {label} cannot use {scope}: not enabled for the key's organization",
            hint=(
                f"Enable {names} for your organization in the Unizo console, or use a key of an organization "
                f"that has it (set {key_variable})."
            ),
        )
    return PermissionDeniedError(
        f"The API key {label} has no permission on {scope} (the key's permissions: {_others(info)})",
        hint=(
            f"Ask a Unizo administrator to grant the key {services[0]}:read (plus write/delete if needed), "
            f"or set {key_variable} to a key that has it."
        ),
    )


def require_permission(
    info: KeyInfoLike, services: Sequence[str], fingerprint: str | None, key_variable: str = "UNIZO_API_KEY"
) -> None:
    """Raise the no-permission refusal when the key has no action at all on every one of `services`."""
    known = [actions(info, s) for s in services]
    if known and all(a is not None and not a for a in known):
        raise no_permission_error(info, services, fingerprint, key_variable)


def _shared_variable(settings: Settings) -> str:
    """The variable to name for a key several services share: its own, unless it is UNIZO_API_KEY's."""
    origin = settings.api_key.origin if settings.api_key is not None else ""
    return origin.removesuffix("_FILE") or "UNIZO_API_KEY"


async def verify_at_startup(
    settings: Settings, services: Sequence[ServiceSpec], client: UnizoClient
) -> KeyInfoLike | None:
    """Check the key once (`verification`): raise on a definite refusal (invalid key, other environment,
    no permission); None when nothing could be decided now (the server starts and checks again later)."""
    names = [s.name for s in services]
    key_fp = settings.api_key.fingerprint() if settings.api_key is not None else None
    origin = settings.api_key.origin if settings.api_key is not None else "?"
    # which variable supplied the key: a shell that exports another key than the client's config shows here
    log.info("using the API key %s from %s for %s", key_fp, origin, ", ".join(names))
    for warning in settings.api_key.warnings if settings.api_key is not None else ():
        log.warning("%s", warning)
    try:
        info = await client.verify_key(services[0].category)
    except (KeyCheckUnavailableError, NetworkError) as exc:
        log.warning(
            "%s Starting anyway with the local tool policy; the key is checked again on the next calls.",
            exc.describe(),
        )
        return None
    note = getattr(info, "note", None)
    if note:
        log.info("%s", note)
    check_key(info, settings)
    variable = services[0].key_variable if len(services) == 1 else _shared_variable(settings)
    require_permission(info, names, key_fp, variable)
    return info
