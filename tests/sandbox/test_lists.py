"""Paging and sorting over every list endpoint, and the 400s for bad list parameters."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from unizo_mcp_sandbox.testing import SandboxHandle

from .support import TICKETING, Api

DEVICES = "/api/v1/edr/devices"
SCM = "/api/v1/scm/organizations"

Locator = Callable[[Api], Awaitable[tuple[str | None, str]]]  # -> (integrationId header, list path)


async def devices(api: Api) -> tuple[str | None, str]:
    return api.integration("edr"), DEVICES


async def alerts(api: Api) -> tuple[str | None, str]:
    integration = api.integration("edr", "sentinelone")
    device = await api.first(DEVICES, integration)
    return integration, f"{DEVICES}/{device['id']}/alerts"


async def scm_organizations(api: Api) -> tuple[str | None, str]:
    return api.integration("scm"), SCM


async def repositories(api: Api) -> tuple[str | None, str]:
    integration = api.integration("scm", "gitlab")
    organization = await api.first(SCM, integration)
    return integration, f"{SCM}/{organization['id']}/repositories"


def repository_child(child: str) -> Locator:
    async def locate(api: Api) -> tuple[str | None, str]:
        integration, repository = await api.repository_path()
        return integration, f"{repository}/{child}"

    return locate


async def ticketing_organizations(api: Api) -> tuple[str | None, str]:
    return api.integration("ticketing"), f"{TICKETING}/organizations"


async def collections(api: Api) -> tuple[str | None, str]:
    integration = api.integration("ticketing", "github")
    organization = await api.first(f"{TICKETING}/organizations", integration)
    return integration, f"{TICKETING}/{organization['id']}/collections"


async def users(api: Api) -> tuple[str | None, str]:
    return api.integration("ticketing"), f"{TICKETING}/users"


async def tickets(api: Api) -> tuple[str | None, str]:
    return await api.ticket_scope()


def ticket_child(child: str) -> Locator:
    """A ticket with at least three children of the kind (three are added first)."""

    async def locate(api: Api) -> tuple[str | None, str]:
        integration, tickets_path = await api.ticket_scope()
        ticket = await api.first(tickets_path, integration)
        path = f"{tickets_path}/{ticket['id']}/{child}"
        for index in range(3):
            if child == "attachments":
                form = aiohttp.FormData()
                form.add_field("file", b"evidence " * (index + 1), filename=f"evidence-{index}.txt")
                form.add_field("mimeType", "text/plain")
                reply = await api.post(path, integration=integration, data=form)
            elif child == "labels":
                reply = await api.post(path, integration=integration, json={"name": f"added-{index}"})
            else:
                reply = await api.post(path, integration=integration, json={"content": f"note {index}"})
            assert reply.status == 201, reply.text
        return integration, path

    return locate


async def logs(api: Api) -> tuple[str | None, str]:
    return api.integration("observability", "splunk"), "/api/v1/logs"


async def api_keys(api: Api) -> tuple[str | None, str]:
    return None, "/api/v1/apiKeys"


async def webhooks(api: Api) -> tuple[str | None, str]:
    for index in range(3):
        body = {
            "name": f"hook-{index}",
            "url": f"http://127.0.0.1:9/{index}",
            "events": ["*"],
            "secret": "s3cret-value",
        }
        assert (await api.post("/api/v1/webhooks", json=body)).status == 201
    return None, "/api/v1/webhooks"


# (name, locator, a sort field, page size that gives several pages)
LIST_ENDPOINTS: list[tuple[str, Locator, str, int]] = [
    ("edr devices", devices, "lastSeen", 20),
    ("edr alerts", alerts, "-createdDateTime", 2),
    ("scm organizations", scm_organizations, "login", 2),
    ("scm repositories", repositories, "size", 2),
    ("scm branches", repository_child("branches"), "name", 2),
    ("scm commits", repository_child("commits"), "author.date", 5),
    ("scm pull requests", repository_child("pullRequests"), "-number", 3),
    ("ticketing organizations", ticketing_organizations, "name", 1),
    ("ticketing collections", collections, "key", 2),
    ("ticketing users", users, "lastName,firstName", 10),
    ("tickets", tickets, "-changeLog.createdDateTime", 7),
    ("ticket comments", ticket_child("comments"), "changeLog.createdDateTime", 2),
    ("ticket attachments", ticket_child("attachments"), "fileSize", 2),
    ("ticket labels", ticket_child("labels"), "name", 2),
    ("observability logs", logs, "-timestamp", 100),
    ("api keys", api_keys, "name", 4),
    ("webhooks", webhooks, "-name", 2),
]
IDS = [entry[0] for entry in LIST_ENDPOINTS]


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


@pytest.mark.parametrize(("name", "locate", "sort", "size"), LIST_ENDPOINTS, ids=IDS)
async def test_pages_cover_the_list_exactly_once(
    api: Api, unlimited: SandboxHandle, name: str, locate: Locator, sort: str, size: int
) -> None:
    integration, path = await locate(api)
    first = await api.get(path, integration=integration)
    assert first.status == 200, first.text
    pagination = first.json["pagination"]
    total = pagination["total"]
    assert total >= 3, f"{name} has too few records to page"
    assert (pagination["offset"], pagination["limit"], pagination["previous"]) == (0, 20, None)
    assert pagination["next"] == (20 if total > 20 else None)
    records = await fetch_all(api, integration, path, size)
    assert len(records) == total
    assert len({record["id"] for record in records}) == total
    assert [record["id"] for record in records[:20]] == [record["id"] for record in first.json["data"]]
    beyond = await api.get(path, integration=integration, params={"offset": str(total + 5)})
    assert beyond.json["data"] == [] and beyond.json["pagination"]["next"] is None


@pytest.mark.parametrize(("name", "locate", "sort", "size"), LIST_ENDPOINTS, ids=IDS)
async def test_sort_orders_every_page(
    api: Api, unlimited: SandboxHandle, name: str, locate: Locator, sort: str, size: int
) -> None:
    integration, path = await locate(api)
    reversed_sort = ",".join(field[1:] if field.startswith("-") else "-" + field for field in sort.split(","))
    for order in (sort, reversed_sort):
        records = await fetch_all(api, integration, path, size, sort=order)
        assert_sorted(records, order)
    ascending = await fetch_all(api, integration, path, 100, sort=sort)
    descending = await fetch_all(api, integration, path, 100, sort=reversed_sort)
    assert {record["id"] for record in ascending} == {record["id"] for record in descending}
    first_field = sort.split(",")[0].removeprefix("-")
    assert len({str(value_at(record, first_field)) for record in ascending}) > 1, "sort field should vary"


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
    reply = await api.get(DEVICES, integration=api.integration("edr"), params=params)
    assert reply.status == 400
    assert reply.error["errorCode"] == "AP-4000001"
    assert reply.error["property"] == property


async def test_limit_100_is_allowed_and_the_default_is_20(api: Api) -> None:
    integration = api.integration("observability")
    full = await api.get("/api/v1/logs", integration=integration, params={"limit": "100"})
    assert len(full.json["data"]) == 100
    assert full.json["pagination"]["total"] >= 500
    default = await api.get("/api/v1/logs", integration=integration)
    assert len(default.json["data"]) == 20


async def test_integrations_search_filters_and_pages(api: Api) -> None:
    everything = await api.post("/api/v1/integrations/search", json={})
    assert everything.status == 200
    assert everything.json["pagination"]["total"] == 8
    assert {item["organization"]["id"] for item in everything.json["data"]} == {
        api.sandbox.integrations("edr")[0]["organization"]["id"]
    }
    body = {
        "filter": {
            "and": [
                {"property": "/type", "operator": "=", "values": ["ticketing"]},
                {"property": "/serviceProfile/name", "operator": "=", "values": ["GitHub"]},
            ]
        },
        "pagination": {"offset": 0, "limit": 100},
    }
    found = await api.post("/api/v1/integrations/search", json=body)
    assert [(item["type"], item["serviceProfile"]["name"]) for item in found.json["data"]] == [
        ("TICKETING", "github")
    ]
    assert set(found.json["data"][0]) >= {"id", "name", "type", "state", "serviceProfile", "organization"}
    paged = await api.post("/api/v1/integrations/search", json={"pagination": {"offset": 2, "limit": 3}})
    assert paged.json["pagination"] == {"total": 8, "offset": 2, "limit": 3, "previous": 0, "next": 5}


@pytest.mark.parametrize(
    ("body", "property"),
    [
        (
            {"filter": {"and": [{"property": "/colour", "operator": "=", "values": ["x"]}]}},
            "filter.and[0].property",
        ),
        (
            {"filter": {"and": [{"property": "/type", "operator": "~", "values": ["EDR"]}]}},
            "filter.and[0].operator",
        ),
        ({"filter": {"and": [{"property": "/type", "operator": "=", "values": []}]}}, "filter.and[0].values"),
        ({"pagination": {"limit": 0}}, "pagination.limit"),
        ({"page": 1}, "page"),
    ],
)
async def test_integrations_search_validates_its_body(api: Api, body: dict[str, Any], property: str) -> None:
    reply = await api.post("/api/v1/integrations/search", json=body)
    assert reply.status == 400
    assert reply.error["property"] == property


async def test_integrations_search_needs_read_on_the_filtered_category(api: Api) -> None:
    body = {"filter": {"and": [{"property": "/type", "operator": "=", "values": ["SCM"]}]}}
    refused = await api.post("/api/v1/integrations/search", role="edr_only", json=body)
    assert refused.status == 403
    assert "scm:read" in refused.error["errorMessage"]
    body = {"filter": {"and": [{"property": "/type", "operator": "=", "values": ["OBSERVABILITY"]}]}}
    disabled = await api.post("/api/v1/integrations/search", role="service_disabled", json=body)
    assert disabled.error["errorCode"] == "AP-4030002"
