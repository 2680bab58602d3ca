"""The request log and the /_sandbox/ admin endpoints (reset, limits, clock, stats)."""

from __future__ import annotations

import yarl
from unizo_mcp_sandbox.recording import RecordedRequest, RequestRecorder

from .support import KEYS, PROBE, SHARED, WEBHOOKS, Api, hook_body


def admin(api: Api) -> dict[str, str]:
    return {"x-sandbox-admin-token": api.sandbox.admin_token}


async def test_requests_are_recorded_raw_and_decoded_without_key_values(api: Api) -> None:
    integration = api.integration(SHARED.name)
    raw = f"{PROBE}/..%2Fsecret%20file?limit=5&q=%3Cscript%3E"
    url = yarl.URL(api.sandbox.base_url + raw, encoded=True)
    headers = {"apikey": api.sandbox.keys["full"], "integrationId": integration}
    async with api.session.get(url, headers=headers) as response:
        assert response.status == 404
    await api.get("/health", role=None)
    entries = api.sandbox.requests()
    assert entries[0] == RecordedRequest(
        method="GET",
        raw_path=raw,
        path=f"{PROBE}/../secret file",
        status=404,
        integration_id=integration,
        key_id=api.sandbox.key_id("full"),
        correlation_id=entries[0].correlation_id,
        fault=None,
        timestamp=entries[0].timestamp,
    )
    assert (entries[1].path, entries[1].status, entries[1].key_id) == ("/health", 200, None)
    secret = api.sandbox.keys["full"].rsplit("_", 1)[1]
    assert secret not in repr(entries)


async def test_request_log_over_http_and_clearing(api: Api) -> None:
    await api.get(PROBE, integration=api.integration(SHARED.name))
    logged = await api.get("/_sandbox/requests", role=None, headers=admin(api))
    assert logged.status == 200
    assert [(item["method"], item["path"], item["status"]) for item in logged.json["data"]] == [
        ("GET", PROBE, 200)
    ]
    assert (await api.call("DELETE", "/_sandbox/requests", role=None, headers=admin(api))).status == 204
    assert [entry.path for entry in api.sandbox.requests()] == ["/_sandbox/requests"]  # the DELETE itself
    api.sandbox.clear_requests()
    assert api.sandbox.requests() == []


def test_the_request_log_is_a_bounded_ring() -> None:
    recorder = RequestRecorder(capacity=3)
    for index in range(5):
        recorder.add(RecordedRequest("GET", f"/{index}", f"/{index}", 200, None))
    assert [entry.path for entry in recorder.entries()] == ["/2", "/3", "/4"]


async def test_reset_over_http_restores_the_seeded_state(api: Api) -> None:
    keys_before = (await api.get(KEYS, params={"limit": "100"})).json["pagination"]["total"]
    assert (await api.post(WEBHOOKS, json=hook_body())).status == 201
    assert (await api.post(KEYS, json={"name": "temporary", "permissions": {}})).status == 201
    await api.post(f"{KEYS}/{api.sandbox.key_id('readonly')}/revoke")
    api.sandbox.set_faults("GET /health=503")
    reset = await api.post("/_sandbox/reset", role=None, headers=admin(api))
    assert (reset.status, reset.json) == (200, {"status": "reset"})
    assert (await api.get(WEBHOOKS)).json["data"] == []
    assert (await api.get(KEYS, params={"limit": "100"})).json["pagination"]["total"] == keys_before
    assert (await api.get(PROBE, role="readonly", integration=api.integration(SHARED.name))).status == 200
    assert (await api.get("/health", role=None)).status == 200


async def test_limits_over_http(api: Api) -> None:
    changed = await api.put(
        "/_sandbox/limits", role=None, headers=admin(api), json={"rateLimit": 1, "rateWindow": 0.5}
    )
    assert changed.json == {"rateLimit": 1, "dailyQuota": 10000, "maxConcurrency": 5, "rateWindow": 0.5}
    assert (await api.get("/_sandbox/limits", role=None, headers=admin(api))).json == changed.json
    integration = api.integration(SHARED.name)
    assert (await api.get(PROBE, integration=integration)).status == 200
    assert (await api.get(PROBE, integration=integration)).status == 429
    clock = await api.post("/_sandbox/clock", role=None, headers=admin(api), json={"seconds": 0.5})
    assert clock.status == 200
    assert (await api.get(PROBE, integration=integration)).status == 200
    bad = await api.put("/_sandbox/limits", role=None, headers=admin(api), json={"maxConcurrency": 0})
    assert (bad.status, bad.error["property"]) == (400, "maxConcurrency")
    backwards = await api.post("/_sandbox/clock", role=None, headers=admin(api), json={"seconds": -1})
    assert backwards.error["property"] == "seconds"


async def test_stats_report_the_most_simultaneous_requests_per_key(api: Api) -> None:
    await api.get(PROBE, integration=api.integration(SHARED.name))
    stats = await api.get("/_sandbox/stats", role=None, headers=admin(api))
    assert stats.json == {"maxInFlight": {api.sandbox.key_id("full"): 1}}
    assert api.sandbox.max_in_flight == {api.sandbox.key_id("full"): 1}
