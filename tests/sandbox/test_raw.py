"""`x-unizo-raw: true` (documented by Unizo) on category GETs, in both profiles: each record served gains a
`raw` object, the vendor-native view of the record (the sandbox's own shape: the unified fields renamed
to snake_case at every depth). Every declared resource of every discovered service is checked."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from unizo_mcp_sandbox.resources import Resource
from unizo_mcp_sandbox.services import SandboxService

from .support import PROBE, SERVICES, SHARED, WEBHOOKS, Api, hook_body
from .test_lists import populated_list

RAW = {"x-unizo-raw": "true"}
LIST_CASES = [(service, resource) for service in SERVICES for resource in service.resources]
LIST_IDS = [f"{service.name} {resource.kind}" for service, resource in LIST_CASES]
ITEM_CASES = [(service, resource) for service, resource in LIST_CASES if resource.item_param]
ITEM_IDS = [f"{service.name} {resource.kind}" for service, resource in ITEM_CASES]
SNAKE = re.compile(r"[a-z0-9]+(_[a-z0-9]+)*")


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def assert_vendor_view(raw: Any, record: Any) -> None:
    """`raw` holds every field of `record`, renamed to snake_case at every depth, with the same values."""
    if isinstance(record, dict):
        assert isinstance(raw, dict)
        assert sorted(raw) == sorted(snake(name) for name in record)
        for name, value in record.items():
            assert SNAKE.fullmatch(snake(name)), name
            assert_vendor_view(raw[snake(name)], value)
    elif isinstance(record, list):
        assert isinstance(raw, list) and len(raw) == len(record)
        for raw_item, item in zip(raw, record, strict=True):
            assert_vendor_view(raw_item, item)
    else:
        assert raw == record


def assert_raw(record: dict[str, Any]) -> None:
    unified = {name: value for name, value in record.items() if name != "raw"}
    assert_vendor_view(record["raw"], unified)


@pytest.mark.parametrize(("service", "resource"), LIST_CASES, ids=LIST_IDS)
async def test_every_list_serves_the_raw_payload_on_request(
    any_api: Api, service: SandboxService, resource: Resource
) -> None:
    integration, path = await populated_list(any_api, service, resource, minimum=1)
    plain = await any_api.get(path, integration=integration, params={"limit": "5"})
    raw = await any_api.get(path, integration=integration, params={"limit": "5"}, headers=RAW)
    assert (plain.status, raw.status) == (200, 200)
    assert raw.json["pagination"] == plain.json["pagination"]
    assert raw.json["data"]
    for served, record in zip(raw.json["data"], plain.json["data"], strict=True):
        assert "raw" not in record
        assert {name: value for name, value in served.items() if name != "raw"} == record
        assert_raw(served)
    assert all(name in raw.headers for name in ("X-RateLimit-Remaining", "correlationId"))


@pytest.mark.parametrize(("service", "resource"), ITEM_CASES, ids=ITEM_IDS)
async def test_every_record_serves_the_raw_payload_on_request(
    any_api: Api, service: SandboxService, resource: Resource
) -> None:
    integration, path = await populated_list(any_api, service, resource, minimum=1)
    first = await any_api.first(path, integration)
    item = f"{path}/{quote(str(first['id']), safe='')}"
    plain = await any_api.get(item, integration=integration)
    raw = await any_api.get(item, integration=integration, headers=RAW)
    assert (plain.status, raw.status) == (200, 200)
    assert "raw" not in plain.json
    assert {name: value for name, value in raw.json.items() if name != "raw"} == plain.json
    assert_raw(raw.json)


@pytest.mark.parametrize("value", ["TRUE", " true "])
async def test_true_in_any_case_asks_for_it(any_api: Api, value: str) -> None:
    reply = await any_api.get(
        PROBE, integration=any_api.integration(SHARED.name), headers={"x-unizo-raw": value}
    )
    assert all("raw" in record for record in reply.json["data"])


@pytest.mark.parametrize("value", ["false", "1", "yes", ""])
async def test_any_other_value_does_not(any_api: Api, value: str) -> None:
    reply = await any_api.get(
        PROBE, integration=any_api.integration(SHARED.name), headers={"x-unizo-raw": value}
    )
    assert reply.status == 200
    assert not any("raw" in record for record in reply.json["data"])


async def test_errors_and_platform_answers_are_left_alone(any_api: Api) -> None:
    missing = await any_api.get(PROBE, headers=RAW)  # 400: no integrationId
    assert missing.status == 400 and "raw" not in missing.text
    bad = await any_api.get(
        PROBE, integration=any_api.integration(SHARED.name), params={"limit": "0"}, headers=RAW
    )
    assert bad.status == 400 and "raw" not in bad.text
    assert (await any_api.post(WEBHOOKS, json=hook_body())).status == 201
    hooks = await any_api.get(WEBHOOKS, headers=RAW)
    assert hooks.status == 200 and not any("raw" in hook for hook in hooks.json["data"])


def test_snake_case_of_the_tests_matches_simple_names() -> None:
    assert [snake(name) for name in ("id", "createdDateTime", "ipv4s", "macAddresses")] == [
        "id",
        "created_date_time",
        "ipv4s",
        "mac_addresses",
    ]
