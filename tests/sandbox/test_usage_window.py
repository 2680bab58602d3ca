"""Key usage over a `since` window: requests, errors, by status, by service, every hour (ours, `full`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from unizo_mcp_sandbox.testclient import sandbox_client as client
from unizo_mcp_sandbox.testing import start_sandbox
from unizo_mcp_sandbox.timeutil import iso
from unizo_mcp_sandbox.usage import OTHER, UsageCounter

from .support import API, KEYS, PROBE, SHARED, Api


async def traffic(api: Api) -> dict[str, Any]:
    """A key that made three good reads, one 404 and one integrations search."""
    permissions = {SHARED.name: ["read"], "platform": ["read"]}
    created = (await api.post(KEYS, json={"name": "measured", "permissions": permissions})).json
    integration = api.integration(SHARED.name)
    for _ in range(3):
        assert (await api.get(PROBE, key=created["key"], integration=integration)).status == 200
    assert (await api.get(f"{PROBE}/missing", key=created["key"], integration=integration)).status == 404
    search = await api.post(f"{API}/integrations/search", key=created["key"], json={})
    assert search.status == 200, search.text
    return created


async def usage(api: Api, key_id: str, since: str) -> dict[str, Any]:
    reply = await api.get(f"{KEYS}/{key_id}/usage", params={"since": since})
    assert reply.status == 200, reply.text
    return reply.json


async def test_a_window_counts_by_status_service_and_hour(api: Api) -> None:
    created = await traffic(api)
    window = await usage(api, created["id"], "24h")
    assert window["keyId"] == created["id"]
    assert (window["requests"], window["errors"]) == (5, 1)
    assert window["byStatus"] == {"200": 4, "404": 1}
    assert window["byService"] == {
        SHARED.name: {"requests": 4, "errors": 1},
        OTHER: {"requests": 1, "errors": 0},
    }
    hours = window["byHour"]
    assert len(hours) == 25  # the current hour and the 24 before it, zeros included
    assert hours[-1] == {"hour": iso(time.time() // 3600 * 3600), "requests": 5, "errors": 1}
    assert all(hour["requests"] == 0 for hour in hours[:-1])
    assert window["since"] < window["until"]


async def test_windows_slide_with_the_clock_and_reach_seven_days(api: Api) -> None:
    created = await traffic(api)
    api.sandbox.advance_clock(2 * 86_400)
    assert (await usage(api, created["id"], "24h"))["requests"] == 0
    week = await usage(api, created["id"], "7d")
    assert week["requests"] == 5 and len(week["byHour"]) == 169
    assert (await usage(api, created["id"], "3000m"))["requests"] == 5
    since = iso(time.time() - 3600)  # real time is two sandbox days ago
    assert (await usage(api, created["id"], since))["requests"] == 5


async def test_without_since_the_answer_is_the_last_24_hours(api: Api) -> None:
    created = await traffic(api)
    reply = await api.get(f"{KEYS}/{created['id']}/usage")
    assert reply.json == {
        "keyId": created["id"],
        "last24h": {"requests": 5, "byStatus": {"200": 4, "404": 1}},
    }


@pytest.mark.parametrize("since", ["yesterday", "8d", "0h", "-1h", "24 h", "2999-01-01T00:00:00Z", ""])
async def test_a_bad_since_is_a_400_naming_it(api: Api, since: str) -> None:
    reply = await api.get(f"{KEYS}/{api.sandbox.key_id('full')}/usage", params={"since": since})
    assert reply.status == 400, reply.text
    assert reply.error["property"] == "since"


async def test_unknown_and_foreign_keys_answer_404(api: Api) -> None:
    assert (await api.get(f"{KEYS}/0badc0de/usage", params={"since": "1h"})).status == 404
    beta = api.sandbox.key_id("service_disabled")
    assert (await api.get(f"{KEYS}/{beta}/usage", params={"since": "1h"})).status == 404


async def test_usage_survives_a_restart(tmp_path: Path) -> None:
    with start_sandbox(state_dir=tmp_path) as handle:
        async with client(handle) as api:
            created = await traffic(api)
        handle.save_state()
        handle.restart()
        async with client(handle) as api:
            window = await usage(api, created["id"], "1h")
    assert window["byService"][SHARED.name] == {"requests": 4, "errors": 1}


def test_state_of_the_earlier_hourly_format_still_loads() -> None:
    hour = int(time.time() // 3600)
    counter = UsageCounter()
    counter.load_state({"3f2a9c1b": {str(hour): {"200": 2, "500": 1}}})
    window = counter.window(["3f2a9c1b"], hour * 3600 - 1, time.time())
    assert window["byService"] == {OTHER: {"requests": 3, "errors": 1}}
    assert json.loads(json.dumps(counter.to_state()))["minutes"]["3f2a9c1b"]


def test_dropped_requests_count_as_errors_and_old_minutes_are_pruned() -> None:
    counter = UsageCounter()
    now = 1_800_000_000.0
    counter.record("k", 0, now - 8 * 86_400)
    counter.record("k", 0, now)
    counter.record("k", 200, now)
    assert counter.window(["k"], now - 9 * 86_400, now)["errors"] == 1  # the 8-day-old one is gone
