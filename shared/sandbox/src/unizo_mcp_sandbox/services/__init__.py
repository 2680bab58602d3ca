"""The emulated Unizo categories: one module per category in this package, found by `discover()`.

A module that exports `SERVICE = SandboxService(...)` is a service; its file name must be the service name.
Everything else in the sandbox (accounts, keys, permissions, routes, data, webhook events) derives from the
discovered services, so adding a category means adding one module here and nothing else.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # the service modules import this one; keep it free of import cycles
    from unizo_mcp_sandbox.accounts import Organization
    from unizo_mcp_sandbox.data.common import Gen, Record, Tables
    from unizo_mcp_sandbox.resources import Resource, Route

    # (seeded random source, the new integration, the organization that owns it, the tables to fill)
    Generator = Callable[[Gen, Record, Organization, Tables], None]


def _name_checked(_: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value or value != value.lower() or not value.replace("_", "").isalnum():
        raise ValueError(f"{attribute.name} must be a lower-case identifier, not {value!r}")


@attrs.frozen
class SandboxService:
    """Everything the sandbox knows about one category."""

    name: str = attrs.field(validator=_name_checked)  # the permission scope, e.g. "ticketing"
    category: str  # the integration `type` and the search filter's category code
    # (connector, display name) pairs; Acme gets all of them, Beta Corp only the first
    connectors: tuple[tuple[str, str], ...]
    # first path segments under /api/v1 that this service's permission guards
    path_prefixes: tuple[str, ...]
    generate: Generator  # fills the seeded tables for one integration
    # a cheap GET list path under /api/v1 needing only the integrationId header (for generic tests)
    probe: str
    resources: tuple[Resource, ...] = ()  # read endpoints
    routes: tuple[Route, ...] = ()  # custom handlers (writes)
    events: tuple[str, ...] = ()  # webhook events its writes emit
    second_organization: bool = True  # whether Beta Corp has this service enabled

    def __attrs_post_init__(self) -> None:
        if not self.connectors:
            raise ValueError(f"service {self.name} declares no connector")
        if not self.path_prefixes:
            raise ValueError(f"service {self.name} declares no path prefix")

    def display_name(self, connector: str) -> str:
        return dict(self.connectors)[connector]


def _load(module_name: str) -> SandboxService | None:
    module = importlib.import_module(f"{__name__}.{module_name}")
    service = getattr(module, "SERVICE", None)
    if not isinstance(service, SandboxService):
        return None
    if service.name != module_name:
        raise ValueError(f"{module.__name__} declares service {service.name!r}; name the module after it")
    return service


@functools.cache
def discover() -> tuple[SandboxService, ...]:
    """Every service module of this package, ordered by name."""
    found = [_load(info.name) for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    services = tuple(sorted((service for service in found if service is not None), key=lambda s: s.name))
    prefixes = [prefix for service in services for prefix in service.path_prefixes]
    if len(prefixes) != len(set(prefixes)):
        raise ValueError(f"two services claim the same path prefix: {sorted(prefixes)}")
    return services


def service_named(name: str) -> SandboxService:
    for service in discover():
        if service.name == name:
            return service
    raise KeyError(f"no sandbox service named {name!r}")


def events() -> tuple[str, ...]:
    """The webhook events of every service, in discovery order."""
    return tuple(event for service in discover() for event in service.events)
