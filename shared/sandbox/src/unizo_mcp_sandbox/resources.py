"""Declarative read endpoints of a category, and the lookups its custom handlers share.

A `Resource` is a list at `path` (under /api/v1) and, with `item_param`, one record at `path/{item_param}`.
The `{params}` of `path` are the ids of its ancestors, outermost first: each must name an existing record
of the `parent` chain (else 404 naming the parent), and together with the integration id they make the
scope the records are stored under. Generic handlers (routes/categories.py) serve every declared resource.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from unizo_mcp_sandbox.context import current_integration, sandbox_of
from unizo_mcp_sandbox.data.common import Record, Scope
from unizo_mcp_sandbox.errors import not_found
from unizo_mcp_sandbox.filters import Filter, as_filter

if TYPE_CHECKING:
    from unizo_mcp_sandbox.sandbox import Sandbox

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# (sandbox, the list's scope, a stored record) -> the record as served, e.g. with computed statistics
View = Callable[["Sandbox", Scope, Record], Record]
PATH_PARAM = re.compile(r"\{(\w+)\}")


def _filters(declared: Mapping[str, Filter | str]) -> dict[str, Filter]:
    return {param: as_filter(value) for param, value in declared.items()}


def _fields(names: Iterable[str]) -> frozenset[str]:
    return frozenset(names)


@attrs.frozen(eq=False)  # a declaration: compared and hashed by identity
class Resource:
    kind: str  # the table of seeded records (and of the writes overlay, so of state.json)
    path: str  # list path under /api/v1, e.g. "/edr/devices/{deviceId}/alerts"
    label: str  # one record as 404 messages name it, e.g. "alert"
    sortable: frozenset[str] = attrs.field(converter=_fields)
    item_param: str | None = None  # e.g. "alertId": GET {path}/{alertId} serves one record
    parent: Resource | None = None  # the resource whose record the last {param} of `path` names
    filters: Mapping[str, Filter] = attrs.field(factory=dict, converter=_filters)
    view: View | None = None

    def __attrs_post_init__(self) -> None:
        params = self.scope_params
        if self.parent is None:
            if params:
                raise ValueError(f"{self.path}: path parameters {params} need a parent resource")
        elif self.parent.item_param is None or (*self.parent.scope_params, self.parent.item_param) != params:
            raise ValueError(f"{self.path}: its parameters must be its parent's, then the parent's item id")

    @property
    def scope_params(self) -> tuple[str, ...]:
        return tuple(PATH_PARAM.findall(self.path))

    @property
    def item_path(self) -> str | None:
        return None if self.item_param is None else f"{self.path}/{{{self.item_param}}}"


@attrs.frozen
class Route:
    """A custom handler (writes, or reads that are not plain lists); it runs after the integration check."""

    method: str
    path: str  # under /api/v1
    handler: Handler


@attrs.frozen
class Location:
    """Where a request's records live: the integration, the scope, and the record owning the list."""

    integration: Record
    scope: Scope
    parent: Record | None

    @property
    def owner(self) -> Record:
        """The parent record, for resources that have one."""
        if self.parent is None:
            raise RuntimeError("a top-level list has no owner record")
        return self.parent


def find(sandbox: Sandbox, resource: Resource, scope: Scope, record_id: str) -> Record:
    record = sandbox.records.get(resource.kind, scope, record_id)
    if record is None:
        raise not_found(resource.label, record_id)
    return record


def _owner(sandbox: Sandbox, resource: Resource, base: Scope, ids: list[str]) -> Record | None:
    """Check the ancestors outermost first (the first missing one is the 404); return the direct parent."""
    if resource.parent is None:
        return None
    _owner(sandbox, resource.parent, base, ids[:-1])
    return find(sandbox, resource.parent, (*base, *ids[:-1]), ids[-1])


def locate(request: web.Request, resource: Resource) -> Location:
    """The scope of `resource`'s list named by the request path; 404 when an ancestor does not exist."""
    integration = current_integration(request)
    ids = [request.match_info[name] for name in resource.scope_params]
    parent = _owner(sandbox_of(request), resource, (integration["id"],), ids)
    return Location(integration, (integration["id"], *ids), parent)


def locate_item(request: web.Request, resource: Resource) -> tuple[Location, Record]:
    """The record named by the request path (stored form, without the resource's view)."""
    if resource.item_param is None:
        raise ValueError(f"{resource.path} has no item route")
    location = locate(request, resource)
    return location, find(
        sandbox_of(request), resource, location.scope, request.match_info[resource.item_param]
    )


def served(sandbox: Sandbox, resource: Resource, scope: Scope, record: Record) -> Any:
    return record if resource.view is None else resource.view(sandbox, scope, record)
