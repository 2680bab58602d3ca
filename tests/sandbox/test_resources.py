"""The generic handlers of declared resources: one record by id, 404s naming the missing record or
ancestor, query filters; and the declarations themselves (discovery, resource shape)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from unizo_mcp_sandbox import filters
from unizo_mcp_sandbox.errors import ApiError
from unizo_mcp_sandbox.resources import Resource
from unizo_mcp_sandbox.services import SandboxService, discover, events, service_named
from unizo_mcp_sandbox.testing import SandboxHandle
from unizo_mcp_sandbox.timeutil import parse_iso

from .support import SERVICE_IDS, SERVICES, Api
from .test_lists import list_path, populated_list, scopes

ITEM_CASES = [
    (service, resource) for service in SERVICES for resource in service.resources if resource.item_param
]
ITEM_IDS = [f"{service.name} {resource.kind}" for service, resource in ITEM_CASES]
CHILD_CASES = [
    (service, resource) for service in SERVICES for resource in service.resources if resource.parent
]
CHILD_IDS = [f"{service.name} {resource.kind}" for service, resource in CHILD_CASES]
FILTER_CASES = [
    (service, resource, param)
    for service in SERVICES
    for resource in service.resources
    for param in resource.filters
]
FILTER_IDS = [f"{service.name} {resource.kind} {param}" for service, resource, param in FILTER_CASES]


# ---- discovery and declarations -------------------------------------------------------------------------


def test_discovery_finds_every_service_module_once_ordered_by_name() -> None:
    assert discover() is discover()  # cached
    names = [service.name for service in discover()]
    assert names == sorted(names) and len(set(names)) == len(names)
    assert all(service_named(name).name == name for name in names)
    with pytest.raises(KeyError):
        service_named("no_such_service")


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_a_service_declares_a_coherent_category(service: SandboxService) -> None:
    assert service.category and service.category == service.category.upper()
    assert len({name for name, _ in service.connectors}) == len(service.connectors)
    assert all(display for _, display in service.connectors)
    assert service.probe.split("/")[1] in service.path_prefixes
    for resource in service.resources:
        assert resource.path.split("/")[1] in service.path_prefixes, resource.path
    for route in service.routes:
        assert route.path.split("/")[1] in service.path_prefixes, route.path
    assert all(":" in event for event in service.events)


def test_events_are_the_services_events_without_duplicates() -> None:
    declared = [event for service in SERVICES for event in service.events]
    assert list(events()) == declared
    assert len(set(declared)) == len(declared)


def test_a_resource_path_must_follow_its_parent() -> None:
    parent = Resource(kind="things", path="/x/things", label="thing", sortable={"id"}, item_param="thingId")
    child = Resource(
        kind="parts", path="/x/things/{thingId}/parts", label="part", sortable={"id"}, parent=parent
    )
    assert child.scope_params == ("thingId",) and child.item_path is None
    with pytest.raises(ValueError, match="parent"):
        Resource(kind="parts", path="/x/things/{thingId}/parts", label="part", sortable={"id"})
    with pytest.raises(ValueError, match="parent"):
        Resource(kind="parts", path="/x/things/{otherId}/parts", label="part", sortable={"id"}, parent=parent)


def test_a_service_needs_connectors_and_a_lower_case_name() -> None:
    fields: dict[str, Any] = {
        "category": "THINGS",
        "connectors": (("acme", "Acme Things"),),
        "path_prefixes": ("things",),
        "generate": lambda *args: None,
        "probe": "/things",
    }
    assert SandboxService(name="things", **fields).display_name("acme") == "Acme Things"
    with pytest.raises(ValueError):
        SandboxService(name="Things", **fields)
    with pytest.raises(ValueError):
        SandboxService(name="things", **{**fields, "connectors": ()})


# ---- one record by id, and 404s -------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "resource"), ITEM_CASES, ids=ITEM_IDS)
async def test_each_listed_record_is_served_by_id(
    api: Api, unlimited: SandboxHandle, service: SandboxService, resource: Resource
) -> None:
    integration, path = await populated_list(api, service, resource, minimum=1)
    listed = (await api.get(path, integration=integration, params={"limit": "3"})).json["data"]
    for record in listed:
        reply = await api.get(f"{path}/{record['id']}", integration=integration)
        assert reply.status == 200, reply.text
        assert reply.json == record


@pytest.mark.parametrize(("service", "resource"), ITEM_CASES, ids=ITEM_IDS)
async def test_unknown_ids_answer_404_naming_the_kind(
    api: Api, service: SandboxService, resource: Resource
) -> None:
    integration, path = await populated_list(api, service, resource, minimum=1)
    reply = await api.get(f"{path}/does-not-exist", integration=integration)
    assert reply.status == 404
    assert reply.error["errorCode"] == "AP-4040001"
    assert f"{resource.label} 'does-not-exist'" in reply.error["errorMessage"]


@pytest.mark.parametrize(("service", "resource"), CHILD_CASES, ids=CHILD_IDS)
async def test_a_missing_ancestor_is_a_404_naming_it(
    api: Api, service: SandboxService, resource: Resource
) -> None:
    integration = api.integration(service.name)
    values = await anext(scopes(api, integration, resource))
    ancestor = resource.parent
    while ancestor is not None:  # each ancestor in turn, innermost first
        assert ancestor.item_param is not None
        reply = await api.get(
            list_path(resource, {**values, ancestor.item_param: "gone"}), integration=integration
        )
        assert reply.status == 404, reply.text
        assert reply.error["errorMessage"] == f"{ancestor.label} 'gone' was not found"
        ancestor = ancestor.parent


# ---- filters --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "resource", "param"), FILTER_CASES, ids=FILTER_IDS)
async def test_declared_filters_narrow_the_list(
    api: Api, unlimited: SandboxHandle, service: SandboxService, resource: Resource, param: str
) -> None:
    integration, path = await populated_list(api, service, resource, minimum=1)
    declared = resource.filters[param]
    everything = (await api.get(path, integration=integration, params={"limit": "100"})).json["data"]
    record = next(item for item in everything if declared.sample(item) is not None)
    value = declared.sample(record)
    assert value is not None
    reply = await api.get(path, integration=integration, params={param: value, "limit": "100"})
    assert reply.status == 200, reply.text
    kept = reply.json["data"]
    assert record["id"] in [item["id"] for item in kept]
    now = time.time()  # the sandbox clock, as no test advanced it
    assert all(declared.matches(item, declared.parse(value), now) for item in kept)


RECORDS = [
    {"id": "1", "status": "Active", "cvss": {"score": 9.8}, "seen": "2026-03-01T00:00:00Z",
     "tags": ["a", "B"], "mfa": True, "name": "Ada Lovelace"},
    {"id": "2", "status": "inactive", "cvss": {"score": 5.0}, "seen": "2026-01-01T00:00:00Z", "tags": [],
     "mfa": False, "name": "Alan Turing"},
    {"id": "3", "status": None, "cvss": {}, "seen": None, "tags": ["b"], "mfa": None, "name": "Grace Hopper"},
]  # fmt: skip


def kept(declared: dict[str, filters.Filter | str], query: dict[str, str], now: float = 0.0) -> list[str]:
    return [
        record["id"]
        for record in filters.narrow(
            RECORDS, {k: filters.as_filter(v) for k, v in declared.items()}, query, now
        )
    ]


def test_equality_filters_ignore_case_and_match_list_elements_and_booleans() -> None:
    assert kept({"status": "status"}, {"status": "ACTIVE"}) == ["1"]
    assert kept({"tag": "tags"}, {"tag": "b"}) == ["1", "3"]
    assert kept({"mfa": "mfa"}, {"mfa": "true"}) == ["1"]
    assert kept({"mfa": "mfa"}, {"mfa": "False"}) == ["2"]
    assert kept({"status": "status"}, {}) == ["1", "2", "3"]  # not asked: no narrowing
    assert kept({"status": "status"}, {"other": "x"}) == ["1", "2", "3"]  # unknown parameters are ignored
    assert kept({"status": "status", "mfa": "mfa"}, {"status": "active", "mfa": "false"}) == []


def test_search_ranges_dates_and_recency() -> None:
    assert kept({"search": filters.search("name", "status")}, {"search": "GRACE"}) == ["3"]
    assert kept({"search": filters.search("name", "status")}, {"search": "in"}) == ["2"]
    assert kept({"min": filters.at_least("cvss.score")}, {"min": "7"}) == ["1"]
    assert kept({"max": filters.at_most("cvss.score")}, {"max": "5"}) == ["2"]
    assert kept({"after": filters.since("seen")}, {"after": "2026-02-01"}) == ["1"]
    assert kept({"before": filters.until("seen")}, {"before": "2026-02-01T00:00:00Z"}) == ["2"]
    march_2 = parse_iso("2026-03-02T00:00:00Z")
    assert kept({"days": filters.within_days("seen")}, {"days": "2"}, now=march_2) == ["1"]
    assert kept({"days": filters.within_days("seen")}, {"days": "365"}, now=march_2) == ["1", "2"]


@pytest.mark.parametrize(
    ("declared", "query"),
    [
        ({"min": filters.at_least("cvss.score")}, {"min": "high"}),
        ({"after": filters.since("seen")}, {"after": "last week"}),
        ({"days": filters.within_days("seen")}, {"days": "-1"}),
        ({"days": filters.within_days("seen")}, {"days": "1.5"}),
        ({"status": "status"}, {"status": "  "}),
    ],
)
def test_a_malformed_filter_value_is_a_400_naming_the_parameter(
    declared: dict[str, filters.Filter | str], query: dict[str, str]
) -> None:
    with pytest.raises(ApiError) as refused:
        kept(declared, query)
    (param,) = query
    assert (refused.value.status, refused.value.property) == (400, param)
    assert refused.value.message.startswith(param + " ")


def test_samples_are_values_their_record_matches() -> None:
    declared = [
        filters.equals("status"),
        filters.equals("tags"),
        filters.equals("mfa"),
        filters.search("name"),
        filters.at_least("cvss.score"),
        filters.at_most("cvss.score"),
        filters.since("seen"),
        filters.until("seen"),
        filters.within_days("seen"),
    ]
    now = parse_iso("2026-11-20T00:00:00Z")
    for item in declared:
        for record in RECORDS:
            value = item.sample(record)
            if value is not None:
                assert item.matches(record, item.parse(value), now), (item, record)
    assert filters.equals("status").sample(RECORDS[2]) is None
