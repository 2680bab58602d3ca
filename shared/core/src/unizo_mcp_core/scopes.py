"""Key scopes: the services a server serves with one key, each with its own client and verification.

The all-in-one server gives each service its own key when one is set (`Settings.key_for`), as separate
servers would; services that share a key share one `UnizoClient` (one rate limiter, as the API counts
per key), its verification and its integrations. No MCP SDK import here: startup checks the keys
before the SDK is loaded, so a refused key fails fast.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import attrs

from .auth import KeyInfoLike, permissions_for, verify_at_startup
from .integrations import IntegrationResolver
from .keys import KeySource
from .registry import user_agent
from .settings import Settings
from .spec import ServiceSpec

if TYPE_CHECKING:
    from .client import UnizoClient

__all__ = ["KeyScope", "close_scopes", "key_groups", "open_scopes"]


@attrs.define(eq=False)
class KeyScope:
    """The services served with one key: their client (limiter, retries), what the API says about the
    key (None until it could be asked), and their integrations."""

    services: tuple[ServiceSpec, ...]
    settings: Settings  # with this key as `api_key`
    client: UnizoClient
    owns_client: bool
    key_info: KeyInfoLike | None
    resolver: IntegrationResolver
    lock: asyncio.Lock = attrs.field(factory=asyncio.Lock)
    next_check: float = 0.0  # monotonic time before which an undecided key check is not asked again

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.services]

    def permissions(self) -> dict[str, frozenset[str] | None]:
        known = permissions_for(self.key_info, self.names)
        return known if known is not None else dict.fromkeys(self.names)


def key_groups(settings: Settings, services: Sequence[ServiceSpec]) -> list[tuple[KeySource, list[str]]]:
    """Service names grouped by the key their calls carry (equal keys are one key), in service order."""
    groups: list[tuple[KeySource, list[str]]] = []
    for service in services:
        key = settings.for_service(service.name).api_key
        assert key is not None
        group = next((g for g in groups if g[0] == key), None)
        if group is None:
            groups.append((key, [service.name]))
        else:
            group[1].append(service.name)
    return groups


async def open_scopes(
    settings: Settings,
    services: Sequence[ServiceSpec],
    *,
    client: UnizoClient | None = None,
    package: str | None = None,
    version: str | None = None,
    key_info: KeyInfoLike | Literal["verify"] | None = "verify",
) -> list[KeyScope]:
    """One `KeyScope` per distinct key, each verified (raises on refusals; None info when unreachable).

    `client` (tests) serves every scope; `key_info` skips the verification (None: unreachable).
    """
    scopes: list[KeyScope] = []
    try:
        for key, names in key_groups(settings, services):
            members = [s for s in services if s.name in names]
            scoped = attrs.evolve(settings, api_key=key, service_keys=())
            own = client is None
            if client is None:
                from .client import UnizoClient

                api = UnizoClient(scoped, user_agent=user_agent(services, package, version))
            else:
                api = client
            defaults = {s.name: settings.integration_id_for(s.name) for s in members}
            resolver = IntegrationResolver(api, defaults)
            scope = KeyScope(tuple(members), scoped, api, own, None, resolver)
            scopes.append(scope)
            scope.key_info = (
                await verify_at_startup(scoped, members, api) if key_info == "verify" else key_info
            )
            scope.resolver.organization = organization_of(scope.key_info)
    except BaseException:
        await close_scopes(scopes)
        raise
    return scopes


def organization_of(info: KeyInfoLike | None) -> str | None:
    """The key's organization id when the API said, for filtering integration searches."""
    organization = getattr(info, "organization", None)
    found = organization.get("id") if isinstance(organization, Mapping) else None
    return str(found) if found else None


async def close_scopes(scopes: Sequence[KeyScope]) -> None:
    for scope in scopes:
        if scope.owns_client:
            await scope.client.close()
