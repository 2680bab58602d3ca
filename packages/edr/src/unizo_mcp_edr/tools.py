"""The EDR / XDR tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import Fields, ServiceSpec, get_tool, list_tool, path_param

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
DEVICE = Fields(
    summary=("id", "hostnames", "platform.name", "os.version", "state", "lastSeen"),
    more=(
        "platform", "os", "fqdns", "ipv4s", "ipv6s", "macAddresses", "sourceVendors", "installedSoftware",
        "adInfo", "cloudMetadata", "tags", "identities", "changeLog",
    ),
)  # fmt: skip
ALERT = Fields(
    summary=("id", "title", "severity", "state", "status.internal", "createdDateTime"),
    more=("description", "vendor", "source", "status", "device", "changeLog"),
)


# Ids need no description: edr_list_devices gives device_id, edr_list_device_alerts alert_id.
DEVICE_ID = path_param("device_id")
ALERT_ID = path_param("alert_id")

SERVICE = ServiceSpec(
    name="edr",
    title="EDR / XDR",
    description=(
        "Endpoint detection and response through Unizo: the devices an EDR/XDR vendor manages "
        "(platform, OS, hostnames, IPs, agent) and the security alerts raised on each device."
    ),
    package="unizo-mcp-edr",
    version=__version__,
    connectors=("crowdstrike", "sentinelone"),
    tools=(
        list_tool(
            "edr_list_devices",
            "List managed endpoint devices (id, state, platform, OS, hostnames, IPs).",
            "/edr/devices",
            fields=DEVICE,
        ),
        get_tool(
            "edr_get_device_details",
            "Get one device: platform, OS, network addresses, agent, cloud metadata, tags.",
            "/edr/devices/{device_id}",
            DEVICE_ID,
        ),
        list_tool(
            "edr_list_device_alerts",
            "List the security alerts of one device (title, severity, state, status).",
            "/edr/devices/{device_id}/alerts",
            DEVICE_ID,
            fields=ALERT,
        ),
        get_tool(
            "edr_get_device_alert_details",
            "Get one alert of a device: description, severity, vendor and source details.",
            "/edr/devices/{device_id}/alerts/{alert_id}",
            DEVICE_ID,
            ALERT_ID,
        ),
    ),
)
