"""Paging and sorting over every list endpoint (each declared resource of each service, and the platform's
lists), and the 400s for bad list parameters."""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import quote

import attrs
import pytest
from unizo_mcp_sandbox.resources import Resource
from unizo_mcp_sandbox.routes.api_keys import KEY_SORT_FIELDS
from unizo_mcp_sandbox.routes.webhooks import WEBHOOK_SORT_FIELDS
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.testing import SandboxHandle

from .support import (
    API,
    KEYS,
    PROBE,
    SERVICE_IDS,
    SERVICES,
    SHARED,
    WEBHOOKS,
    Api,
    hook_body,
    probe,
    service_role,
)

MAX_LIMIT = 100
MIN_RECORDS = 2  # a list must have this many records to show paging (some seeded children have only two)


async def scopes(api: Api, integration: str, resource: Resource) -> AsyncIterator[dict[str, str]]:
    """Values for the resource's path parameters, one set per record of its parent (depth first)."""
    parent = resource.parent
    if parent is None:
        yield {}
        return
    assert parent.item_param is not None
    async for values in scopes(api, integration, parent):
        reply = await api.get(list_path(parent, values), integration=integration, params={"limit": "100"})
        assert reply.status == 200, reply.text
        for record in reply.json["data"]:
            yield {**values, parent.item_param: record["id"]}


def list_path(resource: Resource, values: dict[str, str]) -> str:
    return API + resource.path.format(**{name: quote(value, safe="") for name, value in values.items()})


async def populated_list(
    api: Api, service: SandboxService, resource: Resource, minimum: int = MIN_RECORDS
) -> tuple[str, str]:
    """(integration id, path) of a list of `resource` with at least `minimum` records. The integrations
    alternate between the service's connectors so both kinds of seeded data are paged."""
    connectors = [name for name, _ in service.connectors]
    connector = connectors[service.resources.index(resource) % len(connectors)]
    integration = api.integration(service.name, connector)
    async for values in scopes(api, integration, resource):
        path = list_path(resource, values)
        reply = await api.get(path, integration=integration, params={"limit": "1"})
        if reply.json["pagination"]["total"] >= minimum:
            return integration, path
    raise AssertionError(f"no {resource.kind} list with {minimum} records in {service.name}/{connector}")


Locator = Callable[[Api], Awaitable[tuple[str | None, str]]]  # -> (integrationId header, list path)


@attrs.frozen
class ListCase:
    name: str
    sortable: frozenset[str]
    locate: Locator


def resource_case(service: SandboxService, resource: Resource) -> ListCase:
    async def locate(api: Api) -> tuple[str | None, str]:
        return await populated_list(api, service, resource)

    return ListCase(f"{service.name} {resource.kind}", resource.sortable, locate)


async def api_keys(api: Api) -> tuple[str | None, str]:
    return None, KEYS


async def webhooks(api: Api) -> tuple[str | None, str]:
    for index in range(3):
        assert (await api.post(WEBHOOKS, json=hook_body(index))).status == 201
    return None, WEBHOOKS


LIST_CASES = [
    *(resource_case(service, resource) for service in SERVICES for resource in service.resources),
    ListCase("api keys", KEY_SORT_FIELDS, api_keys),
    ListCase("webhooks", WEBHOOK_SORT_FIELDS, webhooks),
]
IDS = [case.name for case in LIST_CASES]


def value_at(record: dict[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def assert_sorted(records: list[dict[str, Any]], sort: str) -> None:
    keys = [(field.removeprefix("-"), field.startswith("-")) for field in sort.split(",")]
    rows = [[value_at(record, field) for field, _ in keys] for record in records]
    for earlier, later in itertools.pairwise(rows):
        for (field, descending), a, b in zip(keys, earlier, later, strict=True):
            if a == b:
                continue
            assert b is None or (a is not None and (a > b if descending else a < b)), (
                f"{field}: {a!r} then {b!r}"
            )
            break


async def fetch_all(
    api: Api, integration: str | None, path: str, limit: int, **params: str
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        reply = await api.get(
            path, integration=integration, params={"offset": str(offset), "limit": str(limit), **params}
        )
        assert reply.status == 200, reply.text
        body = reply.json
        pagination = body["pagination"]
        assert (pagination["offset"], pagination["limit"]) == (offset, limit)
        assert pagination["previous"] == (max(0, offset - limit) if offset else None)
        assert len(body["data"]) == min(limit, pagination["total"] - offset)
        records.extend(body["data"])
        offset = pagination["next"]
    return records


def page_size(total: int) -> int:
    """A size that gives at least two pages."""
    return max(1, min(MAX_LIMIT, math.ceil(total / 3)))


def test_every_service_declares_list_endpoints() -> None:
    for service in SERVICES:
        assert service.resources, f"{service.name} declares no resource"
        assert any(API + resource.path == probe(service) for resource in service.resources), service.name
        for resource in service.resources:
            assert resource.sortable, f"{service.name} {resource.kind} sorts by nothing"


@pytest.mark.parametrize("case", LIST_CASES, ids=IDS)
async def test_pages_cover_the_list_exactly_once(api: Api, unlimited: SandboxHandle, case: ListCase) -> None:
    integration, path = await case.locate(api)
    first = await api.get(path, integration=integration)
    assert first.status == 200, first.text
    pagination = first.json["pagination"]
    total = pagination["total"]
    assert total >= MIN_RECORDS, f"{case.name} has too few records to page"
    assert (pagination["offset"], pagination["limit"], pagination["previous"]) == (0, 20, None)
    assert pagination["next"] == (20 if total > 20 else None)
    records = await fetch_all(api, integration, path, page_size(total))
    assert len(records) == total
    assert len({record["id"] for record in records}) == total
    assert [record["id"] for record in records[:20]] == [record["id"] for record in first.json["data"]]
    beyond = await api.get(path, integration=integration, params={"offset": str(total + 5)})
    assert beyond.json["data"] == [] and beyond.json["pagination"]["next"] is None


@pytest.mark.parametrize("case", LIST_CASES, ids=IDS)
async def test_sort_orders_every_page_by_every_sortable_field(
    api: Api, unlimited: SandboxHandle, case: ListCase
) -> None:
    integration, path = await case.locate(api)
    total = (await api.get(path, integration=integration)).json["pagination"]["total"]
    varying = []
    for field in sorted(case.sortable):
        for order in (field, "-" + field):
            records = await fetch_all(api, integration, path, page_size(total), sort=order)
            assert_sorted(records, order)
            assert len(records) == total
        if len({str(value_at(record, field)) for record in records}) > 1:
            varying.append(field)
    assert varying, f"no sortable field of {case.name} varies, so sorting is not shown"
    both = ",".join([varying[0], "-id"])
    assert_sorted(await fetch_all(api, integration, path, MAX_LIMIT, sort=both), both)


@pytest.mark.parametrize(
    ("params", "property"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "1.5"}, "offset"),
        ({"sort": "nosuchfield"}, "sort"),
        ({"sort": "id,-bogus.path"}, "sort"),
    ],
)
async def test_bad_list_parameters_are_400_naming_the_property(
    api: Api, params: dict[str, str], property: str
) -> None:
    reply = await api.get(PROBE, integration=api.integration(SHARED.name), params=params)
    assert reply.status == 400
    assert reply.error["errorCode"] == "AP-4000001"
    assert reply.error["property"] == property


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
async def test_limit_100_is_allowed_and_the_default_is_20(api: Api, service: SandboxService) -> None:
    integration = api.integration(service.name)
    full = await api.get(probe(service), integration=integration, params={"limit": "100"})
    assert full.status == 200, full.text
    total = full.json["pagination"]["total"]
    assert len(full.json["data"]) == min(100, total)
    default = await api.get(probe(service), integration=integration)
    assert len(default.json["data"]) == min(20, total)


SEARCH = API + "/integrations/search"
CONNECTOR_COUNT = sum(len(service.connectors) for service in SERVICES)


async def test_integrations_search_filters_and_pages(api: Api) -> None:
    everything = await api.post(SEARCH, json={"pagination": {"limit": 1000}})
    assert everything.status == 200
    assert everything.json["pagination"]["total"] == CONNECTOR_COUNT
    assert {item["organization"]["id"] for item in everything.json["data"]} == {
        api.sandbox.integrations(SHARED.name)[0]["organization"]["id"]
    }
    assert sorted(
        (item["type"], item["serviceProfile"]["name"]) for item in everything.json["data"]
    ) == sorted((service.category, name) for service in SERVICES for name, _ in service.connectors)
    service = next(item for item in SERVICES if len(item.connectors) > 1)
    connector = service.connectors[1][0]
    body = {
        "filter": {
            "and": [
                {"property": "/type", "operator": "=", "values": [service.category.lower()]},
                {"property": "/serviceProfile/name", "operator": "=", "values": [connector.upper()]},
            ]
        },
        "pagination": {"offset": 0, "limit": 100},
    }
    found = await api.post(SEARCH, json=body)
    assert [(item["type"], item["serviceProfile"]["name"]) for item in found.json["data"]] == [
        (service.category, connector)
    ]
    assert set(found.json["data"][0]) >= {"id", "name", "type", "state", "serviceProfile", "organization"}
    assert found.json["data"][0]["name"].startswith(service.display_name(connector))
    paged = await api.post(SEARCH, json={"pagination": {"offset": 2, "limit": 3}})
    expected_next = 5 if CONNECTOR_COUNT > 5 else None
    assert paged.json["pagination"] == {
        "total": CONNECTOR_COUNT, "offset": 2, "limit": 3, "previous": 0, "next": expected_next,
    }  # fmt: skip
    assert (await api.post(SEARCH, json={})).json["pagination"]["limit"] == 20


@pytest.mark.parametrize(
    ("body", "property"),
    [
        (
            {"filter": {"and": [{"property": "/colour", "operator": "=", "values": ["x"]}]}},
            "filter.and[0].property",
        ),
        (
            {"filter": {"and": [{"property": "/type", "operator": "~", "values": [SHARED.category]}]}},
            "filter.and[0].operator",
        ),
        ({"filter": {"and": [{"property": "/type", "operator": "=", "values": []}]}}, "filter.and[0].values"),
        ({"pagination": {"limit": 0}}, "pagination.limit"),
        ({"page": 1}, "page"),
    ],
)
async def test_integrations_search_validates_its_body(api: Api, body: dict[str, Any], property: str) -> None:
    reply = await api.post(SEARCH, json=body)
    assert reply.status == 400
    assert reply.error["property"] == property


def search_body(service: SandboxService) -> dict[str, Any]:
    return {"filter": {"and": [{"property": "/type", "operator": "=", "values": [service.category]}]}}


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
async def test_integrations_search_needs_read_on_the_filtered_category(
    api: Api, service: SandboxService
) -> None:
    other = next(item for item in SERVICES if item is not service)
    refused = await api.post(SEARCH, role=service_role(other.name), json=search_body(service))
    assert refused.status == 403
    assert f"{service.name}:read" in refused.error["errorMessage"]
    allowed = await api.post(SEARCH, role=service_role(service.name), json=search_body(service))
    assert allowed.json["pagination"]["total"] == len(service.connectors)
    if not service.second_organization:
        disabled = await api.post(SEARCH, role="service_disabled", json=search_body(service))
        assert disabled.error["errorCode"] == "AP-4030002"
