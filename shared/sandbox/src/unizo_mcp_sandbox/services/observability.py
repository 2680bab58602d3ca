"""Observability: seeded logs (Datadog- and Splunk-like), newest first.

Served at /api/v1/logs without a category segment, like Unizo's own server.
"""

from __future__ import annotations

from datetime import UTC, datetime

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.data.common import Gen, Record, Tables
from unizo_mcp_sandbox.resources import Resource
from unizo_mcp_sandbox.services import SandboxService

LOGS_PER_INTEGRATION = 540
LEVELS = ("INFO", "WARNING", "ERROR", "CRITICAL", "DEBUG", "TRACE")
LEVEL_WEIGHTS = (45, 15, 12, 3, 17, 8)
SOURCES = {
    "api-gateway": "platform",
    "auth-service": "access",
    "payments-worker": "billing",
    "sensor-ingest": "security",
    "k8s-node-agent": "infrastructure",
    "postgres-primary": "data",
}
MESSAGES = {
    "INFO": ("Request completed in {ms} ms", "User {user} signed in", "Job {job} finished", "Cache warmed"),
    "WARNING": (
        "Slow query took {ms} ms",
        "Retrying upstream call (attempt 2)",
        "Certificate expires in 14 days",
    ),
    "ERROR": (
        "Upstream returned 502 Bad Gateway",
        "Failed to parse event payload",
        "Payment declined by issuer",
    ),
    "CRITICAL": ("Disk usage above 95% on /var/lib/postgresql", "Primary database unreachable"),
    "DEBUG": ("Loaded {n} detection rules", "Feature flag {flag} evaluated to true"),
    "TRACE": ("Entering handler {handler}", "Span {span} closed"),
}
LOG_SORT_FIELDS = frozenset({"id", "timestamp", "level", "source", "message"})


def _log(gen: Gen, connector: str, organization: Organization) -> Record:
    level = gen.weighted(LEVELS, LEVEL_WEIGHTS)
    source = gen.pick(tuple(SOURCES))
    epoch = gen.past(14) + gen.number(0, 999) / 1000
    moment = datetime.fromtimestamp(epoch, UTC)
    message = gen.pick(MESSAGES[level]).format(
        ms=gen.number(3, 9000),
        user=f"user{gen.number(1, 400)}@{organization.name.split()[0].lower()}.com",
        job=gen.hex(8),
        n=gen.number(100, 2000),
        flag=gen.pick(("new-dashboard", "strict-mfa", "async-export")),
        handler=gen.pick(("GET /v1/alerts", "POST /v1/login")),
        span=gen.hex(16),
    )
    host = f"ip-10-0-{gen.number(0, 15)}-{gen.number(2, 254)}"
    return {
        "id": f"log-{moment:%Y-%m-%d-%H-%M-%S}-{gen.hex(6)}",
        "level": level,
        "message": message,
        "source": source,
        "timestamp": f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z",
        "host": host,
        "service": source,
        "environment": "production",
        "tags": ["env:production", f"team:{SOURCES[source]}", f"vendor:{connector}"],
        "metadata": {
            "traceId": gen.hex(32),
            "spanId": gen.hex(16),
            "region": gen.pick(("us-east-1", "eu-west-1")),
            "hostname": host,
        },
    }


def generate(gen: Gen, integration: Record, organization: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    logs = [_log(gen, connector, organization) for _ in range(LOGS_PER_INTEGRATION)]
    logs.sort(key=lambda log: log["timestamp"], reverse=True)
    tables["logs"][(integration["id"],)] = logs


LOGS = Resource(kind="logs", path="/logs", label="log", sortable=LOG_SORT_FIELDS, item_param="logId")

SERVICE = SandboxService(
    name="observability",
    category="OBSERVABILITY",
    connectors=(("datadog", "Datadog"), ("splunk", "Splunk Cloud")),
    path_prefixes=("logs",),
    generate=generate,
    probe="/logs",
    resources=(LOGS,),
    second_organization=False,  # Beta Corp lacks it: the sandbox's example of a service not enabled
)
