"""EDR: seeded devices and their alerts (CrowdStrike- and SentinelOne-like), read-only as Unizo's are."""

from __future__ import annotations

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.data.common import API, Gen, Record, Tables, change_log, slug
from unizo_mcp_sandbox.resources import Resource
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import iso

DEVICES_PER_INTEGRATION = 56

# (platform name, platform type, os versions as (version, major, minor), hostname prefix)
PLATFORMS = (
    (
        "Windows",
        "ENDPOINT",
        (("Windows 11 Enterprise 23H2", "11", "23H2"), ("Windows 10 Pro 22H2", "10", "22H2")),
        "LT",
    ),
    ("macOS", "ENDPOINT", (("macOS Sonoma 14.6", "14", "6"), ("macOS Sequoia 15.1", "15", "1")), "MBP"),
    (
        "Linux",
        "SERVER",
        (("Ubuntu 22.04.4 LTS", "22", "04"), ("Red Hat Enterprise Linux 9.4", "9", "4")),
        "SRV",
    ),
    ("Windows Server", "SERVER", (("Windows Server 2022 Datacenter", "2022", "21H2"),), "WS"),
    ("iOS", "MOBILE", (("iOS 17.6", "17", "6"),), "IPH"),
    ("Linux", "IOT", (("Yocto Linux 4.0", "4", "0"),), "CAM"),
)
PLATFORM_WEIGHTS = (40, 22, 18, 8, 7, 5)
SOFTWARE = (
    ("Google Chrome", "Google", "131.0.6778.86"),
    ("Microsoft Office 365", "Microsoft", "16.0.18129"),
    ("Slack", "Slack Technologies", "4.41.97"),
    ("Zoom Workplace", "Zoom", "6.2.11"),
    ("OpenSSL", "OpenSSL Project", "3.0.13"),
    ("Docker Engine", "Docker", "27.3.1"),
    ("Python", "Python Software Foundation", "3.12.7"),
    ("7-Zip", "Igor Pavlov", "24.08"),
    ("Visual Studio Code", "Microsoft", "1.95.3"),
    ("nginx", "F5", "1.26.2"),
)
DEPARTMENTS = ("Engineering", "Finance", "Sales", "Security", "IT", "Legal", "Marketing")
SITES = ("HQ-SanFrancisco", "Office-London", "Office-Bangalore", "DC-Virginia", "Remote")
ALERT_TEMPLATES = (
    ("Credential dumping via LSASS memory access", "A process opened lsass.exe with read access", "CRITICAL"),
    ("Suspicious PowerShell encoded command", "PowerShell ran a base64-encoded command line", "HIGH"),
    (
        "Ransomware behavior: mass file renames",
        "Hundreds of files were renamed with a new extension",
        "CRITICAL",
    ),
    ("Known malware hash detected", "A file matching a known malicious SHA-256 was written", "HIGH"),
    ("Unsigned driver loaded", "A kernel driver without a valid signature was loaded", "MEDIUM"),
    ("Outbound connection to rare domain", "The host contacted a domain first seen today", "MEDIUM"),
    ("Persistence via scheduled task", "A new scheduled task runs a script from a temp folder", "HIGH"),
    ("Office macro spawned a shell", "WINWORD.EXE started cmd.exe", "HIGH"),
    ("Potentially unwanted program", "Adware bundle detected in the user's downloads", "LOW"),
    ("Sensor tampering attempt", "A process tried to stop the EDR sensor service", "CRITICAL"),
    ("Brute-force logon attempts", "More than 50 failed logons in 5 minutes", "MEDIUM"),
    ("Exploit attempt blocked", "Memory protection blocked a heap spray", "LOW"),
)
INTERNAL_STATUSES = ("NEW", "UNDER_INVESTIGATION", "RESOLVED", "FALSE_POSITIVE", "CLOSED")
EXTERNAL_STATUS = {
    "NEW": "new",
    "UNDER_INVESTIGATION": "in_progress",
    "RESOLVED": "resolved",
    "FALSE_POSITIVE": "false_positive",
    "CLOSED": "closed",
}
VENDOR_SEVERITY = {
    "crowdstrike": {"LOW": "Low", "MEDIUM": "Medium", "HIGH": "High", "CRITICAL": "Critical"},
    "sentinelone": {"LOW": "1", "MEDIUM": "2", "HIGH": "3", "CRITICAL": "4"},
}

DEVICE_SORT_FIELDS = frozenset({
    "id", "state", "platform.name", "platform.type", "os.version", "lastSeen",
    "changeLog.createdDateTime", "changeLog.lastUpdatedDateTime",
})  # fmt: skip
ALERT_SORT_FIELDS = frozenset({
    "id", "state", "title", "severity", "createdDateTime", "status.internal",
    "changeLog.createdDateTime", "changeLog.lastUpdatedDateTime",
})  # fmt: skip


def _device_id(gen: Gen, connector: str) -> str:
    return gen.hex(32) if connector == "crowdstrike" else gen.digits(19)


def _device(gen: Gen, connector: str, organization: Organization, index: int) -> Record:
    platform_name, platform_type, versions, prefix = gen.weighted(PLATFORMS, PLATFORM_WEIGHTS)
    version, major, minor = gen.pick(versions)
    device_id = _device_id(gen, connector)
    hostname = f"{organization.name.split()[0].upper()}-{prefix}-{index + 1:04d}"
    domain = f"corp.{slug(organization.name)}.com"
    first, last = gen.person()
    user_name = f"{first[0].lower()}{last.lower()}"
    created = gen.past(400, 30)
    last_seen = gen.after(created, 400) if gen.chance(0.85) else gen.past(60, 20)
    cloud = None
    if platform_type == "SERVER" and gen.chance(0.6):
        cloud = {
            "cloudProvider": "AWS",
            "accountId": gen.digits(12),
            "region": gen.pick(("us-east-1", "us-west-2", "eu-west-1")),
            "availabilityZone": gen.pick(("a", "b", "c")),
            "instanceId": "i-" + gen.hex(17),
            "instanceType": gen.pick(("m6i.large", "c6g.xlarge", "t3.medium")),
            "imageId": "ami-" + gen.hex(17),
            "kernelId": None,
            "vpcId": "vpc-" + gen.hex(8),
            "subnetId": "subnet-" + gen.hex(8),
        }
    return {
        "id": device_id,
        "state": "ACTIVE" if gen.chance(0.86) else "INACTIVE",
        "platform": {
            "href": f"{API}/edr/devices/{device_id}",
            "type": platform_type,
            "id": slug(platform_name),
            "name": platform_name,
        },
        "os": {"version": version, "major": major, "minor": minor},
        "hostnames": [hostname],
        "fqdns": [f"{hostname.lower()}.{domain}"],
        "ipv4s": [f"10.{gen.number(10, 40)}.{gen.number(0, 255)}.{gen.number(2, 254)}"],
        "ipv6s": [f"fd00:{gen.hex(4)}:{gen.hex(4)}::{gen.hex(4)}"] if gen.chance(0.4) else [],
        "macAddresses": [":".join(gen.hex(2) for _ in range(6))],
        "sourceVendors": [
            {
                "vendor": connector,
                "vendorId": device_id,
                "agentInfo": {
                    "agentVersion": f"7.{gen.number(10, 19)}.{gen.number(10000, 19999)}.0",
                    "signatureVersion": f"{gen.number(1, 9)}.{gen.number(100, 999)}",
                    "policies": [
                        {
                            "name": gen.pick(("Prevention - Standard", "Prevention - Strict", "Detect Only")),
                            "id": gen.hex(32),
                        },
                    ],
                },
            }
        ],
        "installedSoftware": [
            {"name": name, "vendor": vendor, "version": version_}
            for name, vendor, version_ in gen.sample(SOFTWARE, gen.number(2, 5))
        ],
        "adInfo": {
            "orgUnit": f"OU={gen.pick(DEPARTMENTS)},OU=Devices,"
            + ",".join(f"DC={part}" for part in domain.split(".")),
            "siteName": gen.pick(SITES),
            "domain": domain,
            "deviceId": gen.uuid(),
        },
        "cloudMetadata": cloud,
        "tags": [{"key": "department", "value": gen.pick(DEPARTMENTS), "source": connector}],
        "identities": [{"userName": user_name, "userId": gen.uuid()}],
        "lastSeen": iso(last_seen),
        "changeLog": change_log(created, last_seen),
    }


def _alert(gen: Gen, connector: str, device: Record) -> Record:
    title, description, severity = gen.pick(ALERT_TEMPLATES)
    created = gen.past(90)
    internal = gen.weighted(INTERNAL_STATUSES, (35, 20, 25, 10, 10))
    alert_id = gen.uuid()
    return {
        "id": alert_id,
        "state": "ACTIVE" if internal in ("NEW", "UNDER_INVESTIGATION") else "INACTIVE",
        "title": title,
        "description": f"{description} on {device['hostnames'][0]}.",
        "severity": severity,
        "vendor": {
            "id": f"ldt:{gen.hex(32)}:{gen.digits(11)}" if connector == "crowdstrike" else gen.digits(19),
            "severity": VENDOR_SEVERITY[connector][severity],
            "status": EXTERNAL_STATUS[internal],
        },
        "source": {"system": connector},
        "status": {"internal": internal, "external": EXTERNAL_STATUS[internal]},
        "device": {"id": device["id"], "href": f"{API}/edr/devices/{device['id']}"},
        "createdDateTime": iso(created),
        "changeLog": change_log(created, gen.after(created, 10)),
    }


def generate(gen: Gen, integration: Record, organization: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    integration_id = integration["id"]
    devices = [_device(gen, connector, organization, index) for index in range(DEVICES_PER_INTEGRATION)]
    tables["devices"][(integration_id,)] = devices
    for device in devices:
        alerts = [_alert(gen, connector, device) for _ in range(gen.number(2, 6))]
        alerts.sort(key=lambda alert: alert["createdDateTime"], reverse=True)
        tables["alerts"][(integration_id, device["id"])] = alerts


DEVICES = Resource(
    kind="devices", path="/edr/devices", label="device", sortable=DEVICE_SORT_FIELDS, item_param="deviceId"
)
ALERTS = Resource(
    kind="alerts",
    path="/edr/devices/{deviceId}/alerts",
    label="alert",
    sortable=ALERT_SORT_FIELDS,
    item_param="alertId",
    parent=DEVICES,
)

SERVICE = SandboxService(
    name="edr",
    category="EDR",
    connectors=(("crowdstrike", "CrowdStrike Falcon"), ("sentinelone", "SentinelOne Singularity")),
    path_prefixes=("edr",),
    generate=generate,
    probe="/edr/devices",
    resources=(DEVICES, ALERTS),
)
