"""The observability tools: declarations only; the core does the rest."""

from __future__ import annotations

from unizo_mcp_core.spec import Fields, ServiceSpec, get_tool, list_tool, path_param

from . import __version__

# What a list shows of each record (a get tool gives the whole record; `fields` adds to a list).
LOG = Fields(
    summary=("id", "timestamp", "level", "source", "message"),
    more=("host", "service", "environment", "tags", "metadata"),
)


SERVICE = ServiceSpec(
    name="observability",
    title="Observability",
    description=(
        "Observability through Unizo: search the logs collected by a monitoring vendor "
        "(level, message, source, timestamp) and read one entry in full."
    ),
    package="unizo-mcp-observability",
    version=__version__,
    connectors=("datadog", "splunk", "elastic", "new_relic"),
    tools=(
        list_tool(
            "observability_list_logs",
            "List log entries (level, message, source, timestamp); sort e.g. '-timestamp'.",
            "/logs",
            fields=LOG,
        ),
        get_tool(
            "observability_get_log_details",
            "Get one log entry with its metadata.",
            "/logs/{log_id}",
            path_param("log_id"),
        ),
    ),
)
