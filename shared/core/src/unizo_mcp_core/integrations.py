"""Which integration a data tool talks to, and the discovery tools (connectors, integrations).

`integration_id` resolution, first that applies:

1. the tool argument;
2. UNIZO_<SERVICE>_INTEGRATION_ID, then UNIZO_INTEGRATION_ID (settings);
3. the only integration of the service visible to the key (`POST /integrations/search`, cached);
4. otherwise a tool error listing the integrations (id, name, connector) so the model can pick one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .errors import ToolInputError

if TYPE_CHECKING:
    from .client import UnizoClient

__all__ = ["Integration", "IntegrationResolver"]

_MAX_PAGES = 20
_MAX_LISTED = 20  # integrations named in one error message


@attrs.frozen
class Integration:
    id: str
    name: str
    connector: str  # serviceProfile.name, lower-cased

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


def _parse(item: Any, category: str) -> Integration | None:
    """An integration of `category`; anything else the search returned is dropped (Unizo's own server
    checks the type in code too)."""
    if not isinstance(item, Mapping) or not item.get("id"):
        return None
    if str(item.get("type", "")).upper() != category:
        return None
    profile = item.get("serviceProfile")
    connector = profile.get("name") if isinstance(profile, Mapping) else None
    return Integration(
        id=str(item["id"]),
        name=str(item.get("name") or item["id"]),
        connector=str(connector or "").lower(),
    )


class IntegrationResolver:
    """Per-process cache of each service's integrations and the `integration_id` resolution."""

    def __init__(
        self,
        client: UnizoClient,
        defaults: Mapping[str, str | None] | None = None,
        organization: str | None = None,
    ) -> None:
        self._client = client
        self.organization = organization  # the key's organization, when the API said: a search filter
        self._defaults = dict(defaults or {})  # service -> configured integration id
        self._cache: dict[str, tuple[Integration, ...]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def configured(self, service: str) -> str | None:
        return self._defaults.get(service)

    async def integrations(self, service: str, *, refresh: bool = False) -> tuple[Integration, ...]:
        """Every integration of `service` visible to the key (cached after the first success)."""
        lock = self._locks.setdefault(service, asyncio.Lock())
        async with lock:
            if refresh or service not in self._cache:
                self._cache[service] = await self._search(service.upper())
            return self._cache[service]

    async def _search(self, category: str) -> tuple[Integration, ...]:
        """Every page of the search (following `pagination.next`, at most 20 pages)."""
        found: list[Integration] = []
        offset = 0
        for _ in range(_MAX_PAGES):
            response = await self._client.search_integrations(
                category, organization=self.organization, offset=offset
            )
            body = response.data if isinstance(response.data, Mapping) else {}
            items = body.get("data") or []
            parsed = (_parse(item, category) for item in (items if isinstance(items, list) else []))
            found += [i for i in parsed if i is not None]
            pagination = body.get("pagination")
            following = pagination.get("next") if isinstance(pagination, Mapping) else None
            if not isinstance(following, int) or following <= offset or not items:
                break
            offset = following
        return tuple(found)

    async def connectors(self, service: str) -> list[str]:
        """Distinct lower-cased connector names of `service`'s integrations, sorted (refreshes the cache)."""
        return sorted({i.connector for i in await self.integrations(service, refresh=True) if i.connector})

    async def of_connector(self, service: str, connector: str) -> list[dict[str, str]]:
        """`[{id, name}]` of the integrations of one connector."""
        wanted = connector.strip().lower()
        found = await self.integrations(service, refresh=True)
        return [i.as_dict() for i in found if i.connector == wanted]

    async def resolve(self, service: str, explicit: str | None) -> str:
        """The integration id a data tool of `service` uses; raises ToolInputError listing the choices."""
        if explicit:
            return explicit
        configured = self.configured(service)
        if configured:
            return configured
        found = await self.integrations(service)
        if len(found) == 1:
            return found[0].id
        variable = f"UNIZO_{service.upper()}_INTEGRATION_ID"
        if not found:
            raise ToolInputError(
                f"No {service.upper()} integration is visible to this API key",
                hint=(
                    f"Connect a {service.upper()} integration in the Unizo console "
                    "(or use a key of the organization "
                    f"that has one), then call {service}_list_integrations."
                ),
            )
        listed = "; ".join(
            f"{i.id} ({i.name}, {i.connector or 'unknown connector'})" for i in found[:_MAX_LISTED]
        )
        more = f"; and {len(found) - _MAX_LISTED} more" if len(found) > _MAX_LISTED else ""
        raise ToolInputError(
            f"integration_id is required: this key sees {len(found)} {service.upper()} integrations: "
            f"{listed}{more}",
            hint=f"Call again with integration_id set to one of these ids, or set {variable} for the server.",
        )
