"""Which integration a data tool talks to, and the discovery tools (connectors, integrations).

`integration_id` resolution, first that applies:

1. the tool argument;
2. UNIZO_<SERVICE>_INTEGRATION_ID, then UNIZO_INTEGRATION_ID (settings);
3. the only integration of the service visible to the key (`POST /integrations/search`, cached);
4. otherwise a tool error listing the integrations (id, name, connector) so the model can pick one.

Parent ids declared `resolvable` (an organization, a collection) follow the same rule: left out, the
core lists them (the list tool `ServiceSpec.id_source` names) and uses the only one, or the tool error
lists the choices. Answers are cached per integration for PARENT_TTL seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .errors import ToolInputError
from .invoke import build_call
from .responses import split_envelope
from .settings import integration_variable
from .spec import ServiceSpec, ToolSpec

if TYPE_CHECKING:
    from .client import UnizoClient

__all__ = ["Integration", "IntegrationResolver"]

_MAX_PAGES = 20
_MAX_LISTED = 20  # integrations (or parent records) named in one error message
PARENT_TTL = 60.0  # seconds a resolved parent id is reused
_LABEL_FIELDS = ("name", "title", "login", "key", "displayName")


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
        self._parents: dict[tuple[str, str, tuple[tuple[str, str], ...]], tuple[float, str]] = {}

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
        variable = integration_variable(service)
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

    async def search(self, args: Mapping[str, Any]) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """The integrations search across categories: (integrations, paging facts)."""
        category = args.get("category")
        offset, limit = int(args.get("offset") or 0), int(args.get("limit") or 20)
        response = await self._client.search_integrations(
            str(category).upper() if category else None,
            organization=self.organization,
            connector=str(args["connector"]).lower() if args.get("connector") else None,
            offset=offset,
            limit=limit,
        )
        items, pagination = split_envelope(response.data)
        found = []
        for item in items if isinstance(items, list) else []:
            parsed = _parse(item, str(item.get("type", "")).upper()) if isinstance(item, Mapping) else None
            if parsed is not None:
                found.append({**parsed.as_dict(), "type": str(item["type"]), "connector": parsed.connector})
        total = pagination.get("total") if isinstance(pagination, Mapping) else None
        following = pagination.get("next") if isinstance(pagination, Mapping) else None
        facts: dict[str, Any] = {"returned": len(found)}
        if isinstance(total, int):
            facts["total"] = total
        if isinstance(following, int):
            facts["next_offset"] = following
        return found, facts

    async def resolve_parents(
        self, service: ServiceSpec, tool: ToolSpec, args: dict[str, Any], integration_id: str | None
    ) -> dict[str, Any]:
        """`args` with every left-out resolvable path id filled, parents first (path order)."""
        filled = dict(args)
        for param in tool.path_params():
            if param.resolvable and filled.get(param.name) in (None, ""):
                filled[param.name] = await self._only_record(service, param.name, filled, integration_id)
        return filled

    async def _only_record(
        self, service: ServiceSpec, param: str, known: Mapping[str, Any], integration_id: str | None
    ) -> str:
        source = service.id_source(param)
        if source is None:
            raise ToolInputError(f"{param} is required")
        parents = {p.name: str(known[p.name]) for p in source.path_params()}
        key = (integration_id or "", param, tuple(sorted(parents.items())))
        cached = self._parents.get(key)
        if cached is not None and time.monotonic() - cached[0] < PARENT_TTL:
            return cached[1]
        call = build_call(source, {**parents, "limit": _MAX_LISTED})
        response = await self._client.request(
            "GET", call.path, integration_id=integration_id, params=call.params
        )
        records, pagination = split_envelope(response.data)
        records = (
            [r for r in records if isinstance(r, Mapping) and r.get("id")]
            if isinstance(records, list)
            else []
        )
        total = pagination.get("total") if isinstance(pagination, Mapping) else None
        count = total if isinstance(total, int) else len(records)
        if count == 1 and len(records) == 1:
            value = str(records[0]["id"])
            self._parents[key] = (time.monotonic(), value)
            return value
        what = param.removesuffix("_id").replace("_", " ")
        if not records:
            raise ToolInputError(
                f"{param} is required, and none can be chosen: {source.name} lists no {what} "
                "for this integration"
            )
        listed = "; ".join(_label(r) for r in records[:_MAX_LISTED])
        more = f"; and {count - len(records)} more" if count > len(records) else ""
        raise ToolInputError(
            f"{param} is required: this integration has {count} ({what}): {listed}{more}",
            hint=f"Call again with {param} set to one of these ids (or list them with {source.name}).",
        )


def _label(record: Mapping[str, Any]) -> str:
    name = next((record[f] for f in _LABEL_FIELDS if isinstance(record.get(f), str) and record[f]), None)
    return f"{record['id']} ({name})" if name else str(record["id"])
