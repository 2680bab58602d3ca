"""Vulnerability management: seeded assets (Tenable- and Qualys-like), the vulnerabilities found on each
and the scans that ran against each, served read-only as Unizo's are.

Every integration holds 40 assets and 400 vulnerabilities spread over them (a few assets are clean).
Vulnerabilities come from a catalogue of real CVEs with their CVSS v3 base scores; an asset's
`vulnerabilityCount`, `vulnerabilitySummary`, `riskScore` and `exploitability` are computed from its own
vulnerabilities, and its `lastScanDate` from its scans, so every figure agrees with the lists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.data.common import API, BASE_TIME, Gen, Record, Tables, change_log, slug
from unizo_mcp_sandbox.filters import Filter, at_least, at_most, equals, search, since, until, value_at
from unizo_mcp_sandbox.resources import Resource
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import iso, parse_iso

ASSETS_PER_INTEGRATION = 40
VULNERABILITIES_PER_INTEGRATION = 400
CLEAN_ASSETS = 4  # assets without any vulnerability (hasVulnerabilities=false)

SEVERITIES = ("Critical", "High", "Medium", "Low", "Info")
STATES = ("Open", "Confirmed", "In Progress", "Fixed", "False Positive", "Risk Accepted", "Closed")
STATE_WEIGHTS = (45, 10, 10, 20, 5, 5, 5)
UNRESOLVED = frozenset({"Open", "Confirmed", "In Progress"})
ASSET_TYPES = (
    "Server", "Workstation", "Mobile", "Network Device", "IoT Device", "Cloud Instance", "Container",
    "Web Application",
)  # fmt: skip
SCAN_STATUSES = ("Pending", "Running", "Completed", "Failed", "Cancelled", "Paused")
UNFINISHED = frozenset({"Pending", "Running", "Paused"})


@attrs.frozen
class Finding:
    """One catalogue entry: what a scanner reports, and which kinds of asset it can be found on."""

    name: str
    cve: tuple[str, ...]
    cvss: float
    cwe: str | None
    category: str
    port: int | None
    protocol: str | None
    families: frozenset[str]
    exploited: bool = False  # in CISA's known-exploited catalogue
    evidence: str = ""


def _f(
    name: str,
    cve: tuple[str, ...],
    cvss: float,
    cwe: str | None,
    category: str,
    port: int | None,
    protocol: str | None,
    families: str,
    exploited: bool = False,
    evidence: str = "",
) -> Finding:
    return Finding(
        name, cve, cvss, cwe, category, port, protocol, frozenset(families.split()), exploited, evidence
    )


# (families: linux windows macos mobile network iot web tls, and "any" for every asset but web apps)
CATALOGUE = (
    _f("OpenSSH regreSSHion remote code execution", ("CVE-2024-6387",), 8.1, "CWE-362", "General", 22,
       "tcp", "linux", evidence="Remote banner: SSH-2.0-OpenSSH_9.6p1\nFixed version: OpenSSH 9.8p1"),
    _f("XZ Utils liblzma backdoor", ("CVE-2024-3094",), 10.0, "CWE-506", "Backdoors", None, None, "linux",
       evidence="Installed package: xz-utils 5.6.0\nFixed version: 5.6.1+really5.4.5"),
    _f("OpenSSL BN_mod_sqrt() infinite loop", ("CVE-2022-0778",), 7.5, "CWE-835", "General", 443, "tcp",
       "linux web", evidence="Installed version: OpenSSL 1.1.1m\nFixed version: 1.1.1n"),
    _f("OpenSSL c_rehash command injection", ("CVE-2022-2068",), 9.8, "CWE-78", "General", None, None,
       "linux", evidence="Installed version: OpenSSL 3.0.3\nFixed version: 3.0.4"),
    _f("Linux kernel nf_tables use-after-free", ("CVE-2024-1086",), 7.8, "CWE-416", "Local", None, None,
       "linux", exploited=True, evidence="Running kernel: 6.1.0-17\nFixed kernel: 6.1.76"),
    _f("curl SOCKS5 heap buffer overflow", ("CVE-2023-38545",), 9.8, "CWE-787", "General", None, None,
       "linux macos", evidence="Installed version: curl 8.2.1\nFixed version: 8.4.0"),
    _f("Apache Log4j remote code execution (Log4Shell)", ("CVE-2021-44228",), 10.0, "CWE-502",
       "CGI abuses", 8080, "tcp", "linux web", exploited=True,
       evidence="Path: /opt/app/lib/log4j-core-2.14.1.jar\nFixed version: 2.17.1"),
    _f("Spring Framework remote code execution (Spring4Shell)", ("CVE-2022-22965",), 9.8, "CWE-94",
       "CGI abuses", 8080, "tcp", "web", exploited=True),
    _f("Apache HTTP Server path traversal", ("CVE-2021-41773",), 7.5, "CWE-22", "Web Servers", 80, "tcp",
       "linux web", exploited=True, evidence="Server: Apache/2.4.49"),
    _f("Apache HTTP Server mod_proxy request smuggling", ("CVE-2023-25690",), 9.8, "CWE-444",
       "Web Servers", 80, "tcp", "linux web", evidence="Server: Apache/2.4.55"),
    _f("Apache Commons Text interpolation (Text4Shell)", ("CVE-2022-42889",), 9.8, "CWE-94",
       "CGI abuses", 8080, "tcp", "web"),
    _f("HTTP/2 Rapid Reset denial of service", ("CVE-2023-44487",), 7.5, "CWE-400", "Denial of Service",
       443, "tcp", "web network", exploited=True),
    _f("MOVEit Transfer SQL injection", ("CVE-2023-34362",), 9.8, "CWE-89", "CGI abuses", 443, "tcp",
       "web", exploited=True),
    _f("libwebp heap buffer overflow", ("CVE-2023-4863",), 8.8, "CWE-787", "Local", None, None,
       "windows macos mobile", exploited=True),
    _f("Windows Print Spooler remote code execution (PrintNightmare)", ("CVE-2021-34527",), 8.8, "CWE-269",
       "Windows", 445, "tcp", "windows", exploited=True),
    _f("Netlogon elevation of privilege (Zerologon)", ("CVE-2020-1472",), 10.0, "CWE-330", "Windows", 445,
       "tcp", "windows", exploited=True),
    _f("Remote Desktop Services remote code execution (BlueKeep)", ("CVE-2019-0708",), 9.8, "CWE-416",
       "Windows", 3389, "tcp", "windows", exploited=True),
    _f("MS17-010: SMBv1 remote code execution (EternalBlue)", ("CVE-2017-0144",), 8.1, "CWE-20", "Windows",
       445, "tcp", "windows", exploited=True),
    _f("Microsoft Outlook remote code execution (MonikerLink)", ("CVE-2024-21413",), 9.8, "CWE-20",
       "Windows", None, None, "windows", exploited=True),
    _f("Office and Windows HTML remote code execution", ("CVE-2023-36884",), 8.8, "CWE-362", "Windows",
       None, None, "windows", exploited=True),
    _f("SMB signing not required", (), 5.3, "CWE-290", "Misc.", 445, "tcp", "windows"),
    _f("macOS Sonoma < 14.4 kernel memory corruption", ("CVE-2024-23225",), 7.8, "CWE-787", "MacOS X",
       None, None, "macos", exploited=True),
    _f("Apple iOS < 17.4 RTKit memory corruption", ("CVE-2024-23296",), 7.8, "CWE-787", "Mobile", None,
       None, "mobile", exploited=True),
    _f("Android < 2024-03-01 security patch level", ("CVE-2024-0039",), 9.8, "CWE-787", "Mobile", None,
       None, "mobile"),
    _f("FortiOS SSL VPN out-of-bounds write", ("CVE-2024-21762",), 9.8, "CWE-787", "Firewalls", 443, "tcp",
       "network", exploited=True),
    _f("Cisco IOS XE web UI privilege escalation", ("CVE-2023-20198",), 10.0, "CWE-420", "CISCO", 443,
       "tcp", "network", exploited=True),
    _f("SNMP agent default community name (public)", ("CVE-1999-0517",), 7.5, "CWE-798", "SNMP", 161,
       "udp", "network iot"),
    _f("Hikvision web server command injection", ("CVE-2021-36260",), 9.8, "CWE-78", "CGI abuses", 80,
       "tcp", "iot", exploited=True),
    _f("Unencrypted Telnet server", (), 6.5, "CWE-319", "Misc.", 23, "tcp", "iot network"),
    _f("SSH Terrapin prefix truncation weakness", ("CVE-2023-48795",), 5.9, "CWE-354", "Misc.", 22, "tcp",
       "linux macos network"),
    _f("SSL/TLS 64-bit block ciphers supported (SWEET32)", ("CVE-2016-2183",), 7.5, "CWE-200",
       "Service detection", 443, "tcp", "tls"),
    _f("TLS version 1.0 protocol detection", (), 6.5, "CWE-327", "Service detection", 443, "tcp", "tls"),
    _f("SSL certificate cannot be trusted", (), 6.5, "CWE-295", "General", 443, "tcp", "tls iot"),
    _f("SSL/TLS Diffie-Hellman modulus <= 1024 bits (Logjam)", ("CVE-2015-4000",), 3.7, "CWE-310",
       "Misc.", 443, "tcp", "tls"),
    _f("SSH weak key exchange algorithms enabled", (), 3.7, "CWE-327", "Misc.", 22, "tcp", "linux network"),
    _f("ICMP timestamp request remote date disclosure", ("CVE-1999-0524",), 2.1, "CWE-200", "General",
       None, "icmp", "any"),
    _f("HTTP TRACE / TRACK methods allowed", ("CVE-2003-1567",), 5.3, "CWE-693", "Web Servers", 80, "tcp",
       "web"),
    _f("OpenSSL ASN.1 object identifier slow processing", ("CVE-2023-2650",), 6.5, "CWE-770", "General",
       443, "tcp", "linux web"),
    _f("Operating system identification", (), 0.0, None, "General", None, None, "any"),
    _f("Open port detected", (), 0.0, None, "Port scanners", 443, "tcp", "any web"),
    _f("SSL certificate information", (), 0.0, None, "General", 443, "tcp", "tls"),
    _f("Traceroute information", (), 0.0, None, "General", None, "udp", "any"),
    _f("Installed software enumeration", (), 0.0, None, "Settings", None, None, "linux windows macos"),
)  # fmt: skip

# (asset type, operating systems, families, weight)
ASSET_KINDS = (
    ("Server", ("Ubuntu 22.04.4 LTS", "Red Hat Enterprise Linux 9.4"), "linux tls any", 9),
    ("Server", ("Windows Server 2022 Datacenter", "Windows Server 2019 Standard"), "windows tls any", 5),
    ("Workstation", ("Windows 11 Enterprise 23H2", "Windows 10 Pro 22H2"), "windows any", 6),
    ("Workstation", ("macOS Sonoma 14.3", "macOS Ventura 13.6"), "macos any", 3),
    ("Cloud Instance", ("Amazon Linux 2023", "Ubuntu 22.04.4 LTS"), "linux tls web any", 6),
    ("Container", ("Alpine Linux 3.19", "Debian 12"), "linux web any", 3),
    ("Network Device", ("Cisco IOS XE 17.9", "FortiOS 7.2.6"), "network tls any", 3),
    ("Web Application", (None,), "web tls", 3),
    ("Mobile", ("iOS 17.3", "Android 14"), "mobile any", 1),
    ("IoT Device", ("Embedded Linux 4.9",), "iot any", 1),
)  # fmt: skip
HOST_PREFIX = {
    "Server": "srv", "Workstation": "ws", "Cloud Instance": "ec2", "Container": "ctr", "Network Device": "fw",
    "Web Application": "app", "Mobile": "mob", "IoT Device": "cam",
}  # fmt: skip
TAGS = ("pci", "internet-facing", "crown-jewel", "dmz", "finance", "dev", "soc2", "legacy")
ENVIRONMENTS = ("production", "staging", "development")
SCAN_KINDS = (
    ("Weekly internal network scan", "Network"),
    ("Credentialed agent scan", "Agent"),
    ("PCI quarterly external scan", "Network"),
    ("Web application scan", "Web Application"),
    ("CIS benchmark compliance scan", "Compliance"),
    ("Asset discovery sweep", "Discovery"),
)
SCANNERS = {
    "tenable": ("Nessus Scanner us-east-1", "Nessus Scanner eu-west-1", "Tenable Cloud Scanner"),
    "qualys": ("Qualys Scanner Appliance DC-1", "Qualys Cloud Agent", "Qualys External Scanner"),
}

ASSET_SORT_FIELDS = frozenset({
    "id", "name", "type", "hostname", "ipAddress", "environment", "riskScore", "vulnerabilityCount",
    "lastScanDate", "firstSeen", "lastSeen",
})  # fmt: skip
VULNERABILITY_SORT_FIELDS = frozenset(
    {"id", "name", "severity", "cvssScore", "state", "port", "firstSeen", "lastSeen"}
)
SCAN_SORT_FIELDS = frozenset({"id", "name", "type", "status", "startTime", "findings.total"})


def severity_of(score: float) -> str:
    """CVSS v3 qualitative rating (Info for a score of 0)."""
    if score >= 9.0:
        return "Critical"
    if score >= 7.0:
        return "High"
    if score >= 4.0:
        return "Medium"
    return "Low" if score > 0 else "Info"


def _id(gen: Gen, connector: str, digits: int = 9) -> str:
    return gen.uuid() if connector == "tenable" else gen.digits(digits)


def _applicable(families: frozenset[str]) -> list[Finding]:
    return [item for item in CATALOGUE if item.families & families]


def _asset(gen: Gen, connector: str, owner: Organization, index: int) -> tuple[Record, list[Finding]]:
    kind, systems, families, _ = gen.weighted(ASSET_KINDS, [weight for *_, weight in ASSET_KINDS])
    prefix = HOST_PREFIX[kind]
    hostname = f"{slug(owner.name).split('-')[0]}-{prefix}-{index + 1:03d}"
    domain = f"corp.{slug(owner.name)}.com"
    cloud = kind in ("Cloud Instance", "Container") or (kind == "Server" and gen.chance(0.3))
    first_seen = gen.past(500, 60)
    asset_id = _id(gen, connector)
    asset = {
        "id": asset_id,
        "name": f"{hostname}.{domain}" if kind != "Web Application" else f"https://{hostname}.{domain}",
        "type": kind,
        "hostname": hostname,
        "domain": domain,
        "ipAddress": f"10.{gen.number(10, 40)}.{gen.number(0, 255)}.{gen.number(2, 254)}",
        "macAddress": ":".join(gen.hex(2) for _ in range(6)) if kind != "Web Application" else None,
        "operatingSystem": gen.pick(systems),
        "environment": gen.weighted(ENVIRONMENTS, (60, 25, 15)),
        "cloudProvider": gen.pick(("AWS", "Azure", "GCP")) if cloud else None,
        "tags": sorted(gen.sample(TAGS, gen.number(0, 3))),
        "firstSeen": iso(first_seen),
        "href": f"{API}/vms/assets/{asset_id}",
    }
    return asset, _applicable(frozenset(families.split()))


def _counts(gen: Gen, capacities: list[int]) -> list[int]:
    """VULNERABILITIES_PER_INTEGRATION spread over the assets, none above what its kind can have."""
    counts = [0] * len(capacities)
    clean = set(gen.sample(range(len(capacities)), CLEAN_ASSETS))
    weights = [0.0 if index in clean else gen.rng.uniform(0.3, 3.0) for index in range(len(capacities))]
    for index, weight in enumerate(weights):
        counts[index] = 1 if weight else 0
    for _ in range(VULNERABILITIES_PER_INTEGRATION - sum(counts)):
        open_slots = [i for i, w in enumerate(weights) if w and counts[i] < capacities[i]]
        chosen = gen.weighted(open_slots, [weights[i] for i in open_slots])
        counts[chosen] += 1
    return counts


def _vulnerability(gen: Gen, connector: str, asset: Record, finding: Finding, last_scan: float) -> Record:
    """Found between the asset's first sighting and its last completed scan; still seen by that scan
    unless resolved."""
    first = float(int(gen.rng.uniform(min(parse_iso(asset["firstSeen"]), last_scan), last_scan)))
    state = gen.weighted(STATES, STATE_WEIGHTS)
    last = last_scan if state in UNRESOLVED else float(int(gen.rng.uniform(first, last_scan)))
    score = finding.cvss
    location = f"{finding.protocol}/{finding.port}" if finding.port else (finding.protocol or "local package")
    return {
        "id": _id(gen, connector),
        "name": finding.name,
        "description": f"{finding.name} was detected on {asset['hostname']}.",
        "category": [finding.category],
        "severity": severity_of(score),
        "cvssScore": score,
        "cvss": {"v3": {"baseScore": score} if score else None, "v2": None},
        "cve": list(finding.cve),
        "cwe": finding.cwe,
        "state": state,
        "scan_output": finding.evidence or f"{finding.name}: reported by {connector} for {asset['name']}",
        "port": finding.port,
        "protocol": finding.protocol,
        "location": location,
        "exploitAvailable": finding.exploited,
        "firstSeen": iso(first),
        "lastSeen": iso(last),
        "asset": {"id": asset["id"], "name": asset["name"]},
        "changeLog": change_log(first, last),
    }


def _scans(gen: Gen, connector: str, asset: Record) -> list[Record]:
    scans = []
    moment = max(parse_iso(asset["firstSeen"]), gen.past(200, 100))
    count = gen.number(2, 4)
    first_id = int(gen.digits(10)) if connector == "qualys" else gen.number(10_000, 90_000)
    for index in range(count):
        moment = gen.after(moment, 40) if index else moment
        name, scan_type = gen.pick(SCAN_KINDS)
        last = index == count - 1
        if index == 0:
            status = "Completed"
        else:
            options = SCAN_STATUSES if last else ("Completed", "Failed", "Cancelled")
            weights = (5, 7, 70, 8, 5, 5) if last else (85, 10, 5)
            status = gen.weighted(options, weights)
        end = None if status in UNFINISHED else min(moment + gen.number(600, 14_400), BASE_TIME)
        scans.append(
            {
                "id": str(first_id + index),
                "name": name,
                "type": scan_type,
                "status": status,
                "scanner": {"name": gen.pick(SCANNERS[connector]), "vendor": connector},
                "targets": [asset["ipAddress"], asset["hostname"]],
                "startTime": iso(moment),
                "endTime": iso(end) if end is not None else None,
                "findings": None,
                "asset": {"id": asset["id"], "name": asset["name"]},
                "changeLog": change_log(moment, end or moment),
            }
        )
    return scans


def _findings(vulnerabilities: list[Record], scan: Record) -> Record:
    """What a scan found: the asset's vulnerabilities present when it ended (nothing for unfinished scans)."""
    if scan["status"] != "Completed":
        return {"total": 0, **{severity.lower(): 0 for severity in SEVERITIES}}
    end = scan["endTime"]
    seen = [v for v in vulnerabilities if v["firstSeen"] <= end and (v["lastSeen"] >= end)]
    counts = Counter(v["severity"] for v in seen)
    return {"total": len(seen), **{severity.lower(): counts[severity] for severity in SEVERITIES}}


def _risk(vulnerabilities: list[Record]) -> tuple[float, str]:
    """(riskScore 0-10, exploitability) from the asset's unresolved vulnerabilities (Info ones aside)."""
    live = [v for v in vulnerabilities if v["state"] in UNRESOLVED and v["cvssScore"] > 0]
    if not live:
        return 0.0, "None"
    worst = max(v["cvssScore"] for v in live)
    serious = sum(1 for v in live if v["cvssScore"] >= 7.0)
    exploited = any(v["exploitAvailable"] for v in live)
    score = min(10.0, worst * 0.7 + min(2.0, 0.25 * serious) + (1.0 if exploited else 0.0))
    if exploited:
        level = "High"
    elif worst >= 7.0:
        level = "Medium"
    else:
        level = "Low"
    return round(score, 1), level


def generate(gen: Gen, integration: Record, owner: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    integration_id = integration["id"]
    drawn = [_asset(gen, connector, owner, index) for index in range(ASSETS_PER_INTEGRATION)]
    counts = _counts(gen, [len(findings) for _, findings in drawn])
    assets = []
    for (asset, findings), count in zip(drawn, counts, strict=True):
        scans = _scans(gen, connector, asset)
        completed = [parse_iso(scan["endTime"]) for scan in scans if scan["status"] == "Completed"]
        last_scan = max(completed)
        vulnerabilities = [
            _vulnerability(gen, connector, asset, finding, last_scan)
            for finding in gen.sample(findings, count)
        ]
        vulnerabilities.sort(key=lambda v: (-v["cvssScore"], v["name"]))
        for scan in scans:
            scan["findings"] = _findings(vulnerabilities, scan)
        scans.reverse()  # newest first
        by_severity = Counter(v["severity"] for v in vulnerabilities)
        risk, exploitability = _risk(vulnerabilities)
        seen = [parse_iso(v["lastSeen"]) for v in vulnerabilities] + [last_scan]
        asset.update(
            riskScore=risk,
            exploitability=exploitability,
            vulnerabilityCount=len(vulnerabilities),
            vulnerabilitySummary={severity.lower(): by_severity[severity] for severity in SEVERITIES},
            lastScanDate=iso(last_scan),
            lastSeen=iso(max(seen)),
            changeLog=change_log(parse_iso(asset["firstSeen"]), max(seen)),
        )
        assets.append(asset)
        tables["vms_vulnerabilities"][(integration_id, asset["id"])] = vulnerabilities
        tables["vms_scans"][(integration_id, asset["id"])] = scans
    assets.sort(key=lambda asset: asset["name"])
    tables["vms_assets"][(integration_id,)] = assets


# ---- the filters the tools send (the query names are ours: Unizo's server forwards none) ---------------


def _any_of(field: str) -> Filter:
    """A comma-separated list of values; keeps records whose list field holds any of them (`tags=pci,dmz`)."""

    def parse(raw: str) -> frozenset[str]:
        values = frozenset(part.strip().lower() for part in raw.split(",") if part.strip())
        if not values:
            raise ValueError("must name at least one value")
        return values

    def matches(record: Mapping[str, Any], wanted: frozenset[str], _: float) -> bool:
        return any(str(value).lower() in wanted for value in record.get(field) or ())

    def sample(record: Mapping[str, Any]) -> str | None:
        values = record.get(field) or ()
        return str(values[0]) if values else None

    return Filter(parse=parse, matches=matches, sample=sample)


def _has(count: Callable[[Mapping[str, Any]], int]) -> Filter:
    """`true` keeps records whose count is above zero, `false` those at zero."""

    def parse(raw: str) -> bool:
        value = raw.strip().lower()
        if value not in ("true", "false"):
            raise ValueError("must be true or false")
        return value == "true"

    return Filter(
        parse=parse,
        matches=lambda record, wanted, _: (count(record) > 0) is wanted,
        sample=lambda record: "true" if count(record) > 0 else "false",
    )


def _number_at(dotted: str) -> Callable[[Mapping[str, Any]], int]:
    def read(record: Mapping[str, Any]) -> int:
        value = value_at(record, dotted)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return read


ASSET_FILTERS: dict[str, Filter | str] = {
    "assetType": "type",
    "operatingSystem": search("operatingSystem"),
    "ipAddress": "ipAddress",
    "hostname": search("hostname", "name"),
    "domain": "domain",
    "tags": _any_of("tags"),
    "hasVulnerabilities": _has(_number_at("vulnerabilityCount")),
    "riskScoreMin": at_least("riskScore"),
    "riskScoreMax": at_most("riskScore"),
    "lastScanFrom": since("lastScanDate"),
    "lastScanTo": until("lastScanDate"),
    "cloudProvider": "cloudProvider",
    "environment": "environment",
}
VULNERABILITY_FILTERS: dict[str, Filter | str] = {
    "severity": "severity",
    "state": "state",
    "cve": equals("cve"),
    "cvssScoreMin": at_least("cvssScore"),
    "cvssScoreMax": at_most("cvssScore"),
    "firstSeenFrom": since("firstSeen"),
    "firstSeenTo": until("firstSeen"),
    "lastSeenFrom": since("lastSeen"),
    "lastSeenTo": until("lastSeen"),
}

ASSETS = Resource(
    kind="vms_assets",
    path="/vms/assets",
    label="asset",
    sortable=ASSET_SORT_FIELDS,
    item_param="assetId",
    filters=ASSET_FILTERS,
)
VULNERABILITIES = Resource(
    kind="vms_vulnerabilities",
    path="/vms/assets/{assetId}/vulnerabilities",
    label="vulnerability",
    sortable=VULNERABILITY_SORT_FIELDS,
    item_param="vulnerabilityId",
    parent=ASSETS,
    filters=VULNERABILITY_FILTERS,
)
SCANS = Resource(
    kind="vms_scans",
    path="/vms/assets/{assetId}/scans",
    label="scan",
    sortable=SCAN_SORT_FIELDS,
    item_param="scanId",
    parent=ASSETS,
)

SERVICE = SandboxService(
    name="vms",
    category="VMS",
    connectors=(("tenable", "Tenable Vulnerability Management"), ("qualys", "Qualys VMDR")),
    path_prefixes=("vms",),
    generate=generate,
    probe="/vms/assets",
    resources=(ASSETS, VULNERABILITIES, SCANS),
)
