"""The vulnerability management tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import (
    Aggregate,
    Fields,
    Param,
    Permission,
    ServiceSpec,
    ToolSpec,
    get_tool,
    list_tool,
    path_param,
    query_param,
)

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
ASSET = Fields(
    summary=("id", "name", "type", "ipAddress", "operatingSystem", "riskScore", "vulnerabilityCount"),
    more=(
        "hostname", "domain", "macAddress", "environment", "cloudProvider", "tags", "exploitability",
        "vulnerabilitySummary", "lastScanDate", "firstSeen", "lastSeen", "href", "changeLog",
    ),
)  # fmt: skip
VULNERABILITY = Fields(
    summary=("id", "name", "severity", "cvssScore", "cve", "state"),
    more=(
        "description", "category", "cvss", "cwe", "scan_output", "port", "protocol", "location",
        "exploitAvailable", "firstSeen", "lastSeen", "asset", "changeLog",
    ),
)  # fmt: skip
SCAN = Fields(
    summary=("id", "name", "type", "status", "startTime", "findings.total"),
    more=("scanner", "targets", "endTime", "findings", "asset", "changeLog"),
)

ASSETS = "/vms/assets"
ASSET_PATH = ASSETS + "/{asset_id}"
VULNERABILITIES = ASSET_PATH + "/vulnerabilities"
SCANS = ASSET_PATH + "/scans"

# Ids need no description: vms_list_assets gives asset_id, vms_list_scans scan_id.
ASSET_ID = path_param("asset_id")

SEVERITIES = ("Critical", "High", "Medium", "Low", "Info")
STATES = ("Open", "Confirmed", "In Progress", "Fixed", "False Positive", "Risk Accepted", "Closed")


def _text(name: str, description: str = "") -> Param:
    return query_param(name, "string", description)


def _number(name: str, description: str = "") -> Param:
    return query_param(name, "number", description)


# Filters, sent as query parameters under their camelCase names (assetType, cvssScoreMin, ...).
ASSET_FILTERS = (
    _text("asset_type"),
    _text("operating_system"),
    _text("ip_address"),
    _text("hostname"),
    _text("domain"),
    query_param("tags", "array", "", items="string"),
    query_param("has_vulnerabilities", "boolean", ""),
    _number("risk_score_min"),
    _number("risk_score_max"),
    _text("last_scan_from"),
    _text("last_scan_to"),
    _text("cloud_provider"),
    _text("environment"),
)
VULNERABILITY_FILTERS = (
    query_param("severity", "string", "", enum=SEVERITIES),
    query_param("state", "string", "", enum=STATES),
    _text("cve"),
    _number("cvss_score_min"),
    _number("cvss_score_max"),
    _text("first_seen_from"),
    _text("first_seen_to"),
    _text("last_seen_from"),
    _text("last_seen_to"),
)


def _computed(name: str, description: str, path: str, *params: Param, plan: Aggregate) -> ToolSpec:
    """A tool the core computes from a list (Unizo computes these client-side too)."""
    return ToolSpec(name, description, "GET", path, Permission.READ, params, aggregate=plan)


SERVICE = ServiceSpec(
    name="vms",
    title="Vulnerability management",
    description=(
        "Vulnerability management through Unizo: the assets a scanner knows (risk score, vulnerability "
        "counts), the vulnerabilities found on each (CVE, CVSS, severity, state) and the scans run on it."
    ),
    package="unizo-mcp-vms",
    version=__version__,
    connectors=("tenable", "qualys", "rapid7"),
    # Filters go before the paging parameters: a list tool's parameters end with offset, limit, sort.
    tools=(
        list_tool(
            "vms_list_assets",
            "List assets (type, IP, OS, risk score, vulnerability count).",
            ASSETS,
            *ASSET_FILTERS,
            fields=ASSET,
        ),
        get_tool(
            "vms_get_asset_details",
            "Get one asset: addresses, OS, tags, risk, vulnerability counts, last scan.",
            ASSET_PATH,
            ASSET_ID,
        ),
        _computed(
            "vms_get_asset_risk_assessment",
            "Rank assets by risk score, with counts by exploitability and type.",
            ASSETS,
            _text("asset_id", "One asset only."),
            query_param("top_n", "integer", "", default=10, minimum=1, maximum=100),
            _number("risk_threshold", "Minimum riskScore (0-10)."),
            plan=Aggregate(
                source="vms_list_assets",
                count_by=("exploitability", "type", "environment"),
                stats=("riskScore", "vulnerabilityCount"),
                top="riskScore",
                top_n="top_n",
                match=(("asset_id", "id"),),
                at_least=(("risk_threshold", "riskScore"),),
            ),
        ),
        list_tool(
            "vms_list_vulnerabilities",
            "List an asset's vulnerabilities (severity, CVSS, CVEs, state).",
            VULNERABILITIES,
            ASSET_ID,
            *VULNERABILITY_FILTERS,
            fields=VULNERABILITY,
        ),
        _computed(
            "vms_get_vulnerability_summary",
            "Count an asset's vulnerabilities by severity and state, with CVSS figures and the worst.",
            VULNERABILITIES,
            ASSET_ID,
            query_param("group_by", "string", "", enum=("severity", "state")),
            query_param("filter_severity", "array", "", items="string"),
            query_param("filter_state", "array", "", items="string"),
            _text("date_range_from", "Of firstSeen."),
            _text("date_range_to"),
            plan=Aggregate(
                source="vms_list_vulnerabilities",
                count_by=("severity", "state"),
                stats=("cvssScore",),
                top="cvssScore",
                group_by="group_by",
                match=(("filter_severity", "severity"), ("filter_state", "state")),
                since=(("date_range_from", "firstSeen"),),
                until=(("date_range_to", "firstSeen"),),
            ),
        ),
        list_tool(
            "vms_list_scans",
            "List an asset's scans (type, status, start, findings).",
            SCANS,
            ASSET_ID,
            fields=SCAN,
        ),
        get_tool(
            "vms_get_scan_details",
            "Get one scan: scanner, targets, times and findings by severity.",
            SCANS + "/{scan_id}",
            ASSET_ID,
            path_param("scan_id"),
        ),
    ),
)
