"""VMS: every tool against the sandbox (generated from the declarations and this table), its snapshot, and
the filters and computed tools seen through the MCP server."""

from typing import Any

from servicekit import Example, Session, ref, service_tests
from unizo_mcp_vms.tools import SERVICE

TOOLS = {tool.name: tool for tool in SERVICE.tools}
SEVERITIES = ("Critical", "High", "Medium", "Low", "Info")


def _risky_first(data: Any) -> None:
    scores = [asset["riskScore"] for asset in data]
    assert scores == sorted(scores, reverse=True) and all(asset["vulnerabilityCount"] for asset in data)


def _summary(data: Any) -> None:
    assert set(data["by_severity"]) <= set(SEVERITIES) and data["complete"] is True
    assert sum(data["by_severity"].values()) == data["matching"] == sum(data["by_state"].values())


def _assessment(data: Any) -> None:
    scores = [asset["riskScore"] for asset in data["top"]]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    assert data["records_read"] == data["total"] == 40 and data["riskScore"]["max"] == scores[0]


EXAMPLES = {
    "vms_list_assets": Example({"limit": 5, "sort": "-riskScore", "has_vulnerabilities": True}, _risky_first),
    "vms_get_asset_risk_assessment": Example({"top_n": 3}, _assessment),
    "vms_list_vulnerabilities": Example({"sort": "-cvssScore", "limit": 50}),
    "vms_get_vulnerability_summary": Example(
        {"asset_id": ref("vms_list_assets", where=lambda asset: asset["vulnerabilityCount"] > 5)}, _summary
    ),
    "vms_list_scans": Example({"sort": "-startTime"}),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)


def test_filters_are_query_params_under_camel_case_names() -> None:
    for name in ("vms_list_assets", "vms_list_vulnerabilities"):
        tool = TOOLS[name]
        names = [p.name for p in tool.params]
        assert names[-3:] == ["offset", "limit", "sort"]
        filters = [
            p for p in tool.params if p.location == "query" and p.name not in ("offset", "limit", "sort")
        ]
        assert filters and all(p.wire_name[0].islower() and "_" not in p.wire_name for p in filters)
    wires = {p.wire_name for p in TOOLS["vms_list_vulnerabilities"].params}
    assert {
        "severity",
        "state",
        "cve",
        "cvssScoreMin",
        "cvssScoreMax",
        "firstSeenFrom",
        "lastSeenTo",
    } <= wires
    assets = {p.wire_name for p in TOOLS["vms_list_assets"].params}
    assert {
        "assetType",
        "hasVulnerabilities",
        "riskScoreMin",
        "lastScanFrom",
        "cloudProvider",
        "tags",
    } <= assets


def test_enums_follow_the_reference() -> None:
    vulnerabilities = {p.name: p for p in TOOLS["vms_list_vulnerabilities"].params}
    assert vulnerabilities["severity"].enum == SEVERITIES
    assert vulnerabilities["state"].enum == (
        "Open", "Confirmed", "In Progress", "Fixed", "False Positive", "Risk Accepted", "Closed",
    )  # fmt: skip


def test_computed_tools_page_through_their_list() -> None:
    summary = TOOLS["vms_get_vulnerability_summary"]
    assert summary.aggregate is not None and summary.aggregate.source == "vms_list_vulnerabilities"
    assert summary.path == TOOLS["vms_list_vulnerabilities"].path
    assessment = TOOLS["vms_get_asset_risk_assessment"]
    assert assessment.aggregate is not None and assessment.aggregate.source == "vms_list_assets"
    assert assessment.aggregate.filter_params() == {"asset_id", "risk_threshold", "top_n"}


async def _asset(s: Session, iid: str, where: Any) -> dict[str, Any]:
    assets = await s.data("vms_list_assets", {"integration_id": iid, "limit": 100, "fields": ["*"]})
    return next(asset for asset in assets if where(asset))


async def test_vulnerability_filters_narrow_the_list(open_server: Any) -> None:
    async with open_server("vms") as s:
        iid = await s.integration("vms")
        asset = await _asset(s, iid, lambda a: a["vulnerabilitySummary"]["critical"] >= 2)
        args = {"integration_id": iid, "asset_id": asset["id"], "limit": 100}
        everything = await s.data("vms_list_vulnerabilities", args)
        critical = await s.data("vms_list_vulnerabilities", {**args, "severity": "Critical"})
        assert len(critical) == asset["vulnerabilitySummary"]["critical"] < len(everything)
        assert {v["severity"] for v in critical} == {"Critical"}
        band = await s.data("vms_list_vulnerabilities", {**args, "cvss_score_min": 4, "cvss_score_max": 6.9})
        assert all(4 <= v["cvssScore"] <= 6.9 for v in band)
        assert len(band) == sum(1 for v in everything if 4 <= v["cvssScore"] <= 6.9)
        cve = next(v["cve"][0] for v in everything if v.get("cve"))
        found = await s.data("vms_list_vulnerabilities", {**args, "cve": cve})
        assert found and all(cve in v["cve"] for v in found)
        whole = await s.data("vms_list_vulnerabilities", {**args, "fields": ["firstSeen"]})
        middle = sorted(v["firstSeen"] for v in whole)[len(whole) // 2]
        later = await s.data(
            "vms_list_vulnerabilities", {**args, "first_seen_from": middle, "fields": ["firstSeen"]}
        )
        assert later and all(v["firstSeen"] >= middle for v in later)
        assert len(later) == sum(1 for v in whole if v["firstSeen"] >= middle)


async def test_asset_filters_narrow_the_list(open_server: Any) -> None:
    async with open_server("vms") as s:
        iid = await s.integration("vms")
        base = {"integration_id": iid, "limit": 100, "fields": ["*"]}
        assets = await s.data("vms_list_assets", base)
        clean = await s.data("vms_list_assets", {**base, "has_vulnerabilities": False})
        assert clean and all(a["vulnerabilityCount"] == 0 for a in clean)
        risky = await s.data("vms_list_assets", {**base, "risk_score_min": 8.5})
        assert risky and len(risky) == sum(1 for a in assets if a["riskScore"] >= 8.5)
        servers = await s.data("vms_list_assets", {**base, "asset_type": "Server"})
        assert servers and {a["type"] for a in servers} == {"Server"}
        tagged = await s.data("vms_list_assets", {**base, "tags": ["pci", "dmz"]})
        assert tagged and all({"pci", "dmz"} & set(a["tags"]) for a in tagged)
        assert len(tagged) == sum(1 for a in assets if {"pci", "dmz"} & set(a.get("tags", [])))


async def test_summary_agrees_with_the_asset_and_applies_its_own_filters(open_server: Any) -> None:
    async with open_server("vms") as s:
        iid = await s.integration("vms")
        asset = await _asset(s, iid, lambda a: a["vulnerabilityCount"] >= 8)
        args = {"integration_id": iid, "asset_id": asset["id"]}
        summary = await s.data("vms_get_vulnerability_summary", args)
        expected = {k.capitalize(): n for k, n in asset["vulnerabilitySummary"].items() if n}
        assert summary["by_severity"] == expected
        assert summary["matching"] == summary["records_read"] == asset["vulnerabilityCount"]
        worst = [v["cvssScore"] for v in summary["top"]]
        assert worst == sorted(worst, reverse=True) and worst[0] == summary["cvssScore"]["max"]
        picked = await s.data(
            "vms_get_vulnerability_summary",
            {**args, "filter_severity": ["critical", "HIGH"], "group_by": "severity"},
        )
        assert set(picked["by_severity"]) <= {"Critical", "High"} and "by_state" not in picked
        high = asset["vulnerabilitySummary"]["critical"] + asset["vulnerabilitySummary"]["high"]
        assert picked["matching"] == high


async def test_risk_assessment_of_one_asset_and_above_a_threshold(open_server: Any) -> None:
    async with open_server("vms") as s:
        iid = await s.integration("vms")
        asset = await _asset(s, iid, lambda a: a["riskScore"] > 0)
        one = await s.data("vms_get_asset_risk_assessment", {"integration_id": iid, "asset_id": asset["id"]})
        assert one["matching"] == 1 and [a["id"] for a in one["top"]] == [asset["id"]]
        assert one["riskScore"] == {
            "min": asset["riskScore"],
            "max": asset["riskScore"],
            "mean": asset["riskScore"],
        }
        above = await s.data("vms_get_asset_risk_assessment", {"integration_id": iid, "risk_threshold": 9})
        assert above["matching"] >= 1 and above["riskScore"]["min"] >= 9
        assert sum(above["by_exploitability"].values()) == above["matching"]


async def test_a_bad_filter_value_is_an_argument_error_before_any_request(
    open_server: Any, sandbox: Any
) -> None:
    async with open_server("vms") as s:
        iid = await s.integration("vms")
        asset = (await s.data("vms_list_assets", {"integration_id": iid, "limit": 1}))[0]["id"]
        before = len(sandbox.requests())
        result = await s.call(
            "vms_list_vulnerabilities", {"integration_id": iid, "asset_id": asset, "severity": "Urgent"}
        )
        assert result.is_error and "severity" in result.content[0].text
        assert len(sandbox.requests()) == before
