"""The sandbox's vulnerability management emulation: 40 assets and 400 vulnerabilities per integration
(Tenable- and Qualys-like), scans per asset, figures that agree with the lists, the filters of the lists,
served read-only.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.services import vms
from unizo_mcp_sandbox.testclient import SandboxClient

ASSETS = "/api/v1/vms/assets"
DATASET = generate_dataset(1729)
INTEGRATIONS = [item for item in DATASET.integrations if item["type"] == "VMS"]
Api = SandboxClient


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


def _assets(integration: dict[str, Any]) -> list[dict[str, Any]]:
    return DATASET.tables["vms_assets"][(integration["id"],)]


def _children(kind: str, integration: dict[str, Any], asset: dict[str, Any]) -> list[dict[str, Any]]:
    return DATASET.tables[kind][(integration["id"], asset["id"])]


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda item: item["name"])
def test_volumes_and_vendor_like_ids(integration: dict[str, Any]) -> None:
    assets = _assets(integration)
    assert len(assets) == vms.ASSETS_PER_INTEGRATION == 40
    vulnerabilities = [v for a in assets for v in _children("vms_vulnerabilities", integration, a)]
    assert len(vulnerabilities) == vms.VULNERABILITIES_PER_INTEGRATION == 400
    assert set(Counter(v["severity"] for v in vulnerabilities)) == set(vms.SEVERITIES)
    assert len({cve for v in vulnerabilities for cve in v["cve"]}) >= 20
    assert len({v["state"] for v in vulnerabilities}) == len(vms.STATES)
    assert sum(1 for a in assets if a["vulnerabilityCount"] == 0) == vms.CLEAN_ASSETS
    connector = integration["serviceProfile"]["name"]
    pattern = r"[0-9a-f-]{36}" if connector == "tenable" else r"\d{9}"
    assert all(re.fullmatch(pattern, asset["id"]) for asset in assets)
    assert all(_children("vms_scans", integration, asset) for asset in assets)


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda item: item["name"])
def test_asset_figures_agree_with_their_vulnerabilities_and_scans(integration: dict[str, Any]) -> None:
    for asset in _assets(integration):
        found = _children("vms_vulnerabilities", integration, asset)
        scans = _children("vms_scans", integration, asset)
        assert asset["vulnerabilityCount"] == len(found)
        counts = Counter(v["severity"].lower() for v in found)
        assert asset["vulnerabilitySummary"] == {s.lower(): counts[s.lower()] for s in vms.SEVERITIES}
        assert all(v["severity"] == vms.severity_of(v["cvssScore"]) for v in found)
        assert all(v["asset"]["id"] == asset["id"] for v in found)
        live = [v for v in found if v["state"] in vms.UNRESOLVED and v["cvssScore"] > 0]
        assert (asset["riskScore"] > 0) is bool(live)
        assert (asset["exploitability"] == "High") is any(v["exploitAvailable"] for v in live)
        completed = [s["endTime"] for s in scans if s["status"] == "Completed"]
        assert asset["lastScanDate"] == max(completed)
        assert all(v["firstSeen"] <= v["lastSeen"] <= asset["lastScanDate"] for v in found)
        starts = [s["startTime"] for s in scans]
        assert starts == sorted(starts, reverse=True)  # newest first
        for scan in scans:
            if scan["status"] != "Completed":
                assert scan["endTime"] is None or scan["findings"]["total"] == 0
            assert scan["findings"]["total"] == sum(v for k, v in scan["findings"].items() if k != "total")


async def test_vms_is_read_only(api: Api) -> None:
    integration = api.integration("vms")
    asset = await api.first(ASSETS, integration)
    for method in ("POST", "PUT", "DELETE"):
        reply = await api.call(method, f"{ASSETS}/{asset['id']}", integration=integration, json={})
        assert (reply.status, reply.error["errorCode"]) == (405, "AP-4050001")


async def test_vulnerabilities_belong_to_their_asset(api: Api) -> None:
    integration = api.integration("vms", "qualys")
    listed = (await api.get(ASSETS, integration=integration, params={"hasVulnerabilities": "true"})).json
    first, second = listed["data"][:2]
    found = await api.first(f"{ASSETS}/{first['id']}/vulnerabilities", integration)
    path = f"{ASSETS}/{first['id']}/vulnerabilities/{found['id']}"
    assert (await api.get(path, integration=integration)).json == found
    elsewhere = await api.get(
        f"{ASSETS}/{second['id']}/vulnerabilities/{found['id']}", integration=integration
    )
    assert elsewhere.error["errorMessage"] == f"vulnerability '{found['id']}' was not found"


async def _all(api: Api, path: str, integration: str, **params: str) -> list[dict[str, Any]]:
    reply = await api.get(path, integration=integration, params={"limit": "100", **params})
    assert reply.status == 200, reply.text
    return list(reply.json["data"])


async def test_asset_filters(api: Api) -> None:
    integration = api.integration("vms")
    everything = await _all(api, ASSETS, integration)
    assert len(everything) == 40
    cases: dict[str, Any] = {
        "hasVulnerabilities=false": (
            {"hasVulnerabilities": "false"},
            lambda a: a["vulnerabilityCount"] == 0,
        ),
        "riskScoreMin": ({"riskScoreMin": "8"}, lambda a: a["riskScore"] >= 8),
        "riskScoreMax": ({"riskScoreMax": "7.5"}, lambda a: a["riskScore"] <= 7.5),
        "assetType": ({"assetType": "server"}, lambda a: a["type"] == "Server"),
        "tags": ({"tags": "pci,dmz"}, lambda a: {"pci", "dmz"} & set(a["tags"])),
        "operatingSystem": (
            {"operatingSystem": "windows"},
            lambda a: "Windows" in (a["operatingSystem"] or ""),
        ),
        "lastScanFrom": ({"lastScanFrom": "2026-09-01"}, lambda a: a["lastScanDate"] >= "2026-09-01"),
        "environment": ({"environment": "Production"}, lambda a: a["environment"] == "production"),
    }
    for name, (params, keep) in cases.items():
        kept = await _all(api, ASSETS, integration, **params)
        assert [a["id"] for a in kept] == [a["id"] for a in everything if keep(a)], name
        assert kept, name


async def test_vulnerability_filters(api: Api) -> None:
    integration = api.integration("vms", "qualys")
    assets = await _all(api, ASSETS, integration, sort="-vulnerabilityCount")
    path = f"{ASSETS}/{assets[0]['id']}/vulnerabilities"
    everything = await _all(api, path, integration)
    assert len(everything) == assets[0]["vulnerabilityCount"] >= 10
    cve = next(v["cve"][0] for v in everything if v["cve"])
    cases: dict[str, Any] = {
        "severity": ({"severity": "critical"}, lambda v: v["severity"] == "Critical"),
        "state": ({"state": "open"}, lambda v: v["state"] == "Open"),
        "cve": ({"cve": cve}, lambda v: cve in v["cve"]),
        "cvss range": ({"cvssScoreMin": "4", "cvssScoreMax": "8.9"}, lambda v: 4 <= v["cvssScore"] <= 8.9),
        "firstSeenTo": (
            {"firstSeenTo": everything[0]["firstSeen"]},
            lambda v: v["firstSeen"] <= everything[0]["firstSeen"],
        ),
        "lastSeenFrom": (
            {"lastSeenFrom": everything[0]["lastSeen"]},
            lambda v: v["lastSeen"] >= everything[0]["lastSeen"],
        ),
    }
    for name, (params, keep) in cases.items():
        kept = await _all(api, path, integration, **params)
        assert [v["id"] for v in kept] == [v["id"] for v in everything if keep(v)], name


@pytest.mark.parametrize(
    ("params", "property"),
    [({"riskScoreMin": "high"}, "riskScoreMin"), ({"hasVulnerabilities": "yes"}, "hasVulnerabilities"),
     ({"lastScanFrom": "last week"}, "lastScanFrom"), ({"tags": " , "}, "tags")],
)  # fmt: skip
async def test_malformed_filter_values_are_400s_naming_them(
    api: Api, params: dict[str, str], property: str
) -> None:
    reply = await api.get(ASSETS, integration=api.integration("vms"), params=params)
    assert reply.status == 400 and reply.error["property"] == property
