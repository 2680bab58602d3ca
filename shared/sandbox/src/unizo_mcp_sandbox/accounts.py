"""The two Unizo accounts (organizations) the sandbox serves, derived from the discovered services.

Acme Security has every service with all its connectors; Beta Corp has the services that declare
`second_organization` with one integration each (their first connector). Ids do not depend on the seed.
"""

from __future__ import annotations

import functools
import uuid

import attrs

from unizo_mcp_sandbox.services import discover

ACTIONS = ("read", "write", "delete")
# Account administration (keys, webhooks, watches, connectors, integrations, alerts) is not a category a
# customer enables: every account has it (services/platform.py serves it; the key admin API is
# routes/api_keys.py).
PLATFORM = "platform"
# First path segments under /api/v1 that the gateway guards with `platform`. /integrations is not one: the
# search there checks the categories it searches, and the handlers below it check `platform` themselves.
PLATFORM_PATHS = ("apiKeys", "webhooks", "services", "alerts")

_NAMESPACE = uuid.UUID("6f1c2a8e-4b7d-4e0a-9c1f-2d3b4a5c6e7f")


@attrs.frozen
class Organization:
    id: str
    name: str
    enabled_services: tuple[str, ...]
    # connector names per enabled category; one integration is created for each
    connectors: dict[str, tuple[str, ...]]

    def service_enabled(self, service: str) -> bool:
        return service == PLATFORM or service in self.enabled_services

    def reference(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


def _org_id(name: str) -> str:
    return "org-" + str(uuid.uuid5(_NAMESPACE, name))


@functools.cache
def organizations() -> tuple[Organization, Organization]:
    """(Acme Security, Beta Corp)."""
    services = discover()
    acme = Organization(
        id=_org_id("Acme Security"),
        name="Acme Security",
        enabled_services=tuple(service.name for service in services),
        connectors={service.name: tuple(name for name, _ in service.connectors) for service in services},
    )
    shared = [service for service in services if service.second_organization]
    beta = Organization(
        id=_org_id("Beta Corp"),
        name="Beta Corp",
        enabled_services=tuple(service.name for service in shared),
        connectors={service.name: (service.connectors[0][0],) for service in shared},
    )
    return acme, beta


def acme() -> Organization:
    return organizations()[0]


def beta() -> Organization:
    return organizations()[1]


def organization(organization_id: str) -> Organization:
    return next(org for org in organizations() if org.id == organization_id)


@functools.cache
def all_services() -> tuple[str, ...]:
    """Every permission scope a key may hold: the discovered services, then `platform`."""
    return (*(service.name for service in discover()), PLATFORM)
