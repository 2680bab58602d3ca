"""The two Unizo accounts (organizations) the sandbox serves. Their ids do not depend on the seed."""

from __future__ import annotations

import uuid

import attrs

CATEGORY_SERVICES = ("edr", "scm", "ticketing", "observability")
ALL_SERVICES = (
    "edr",
    "scm",
    "ticketing",
    "observability",
    "comms",
    "identity",
    "incident",
    "vms",
    "infra",
    "pcr",
    "key_management",
    "storage",
    "platform",
)
ACTIONS = ("read", "write", "delete")
# Account administration (keys, webhooks) is not a category a customer enables: every account has it.
ALWAYS_ENABLED = frozenset({"platform"})

_NAMESPACE = uuid.UUID("6f1c2a8e-4b7d-4e0a-9c1f-2d3b4a5c6e7f")


@attrs.frozen
class Organization:
    id: str
    name: str
    enabled_services: tuple[str, ...]
    # connector names per enabled category; one integration is created for each
    connectors: dict[str, tuple[str, ...]]

    def service_enabled(self, service: str) -> bool:
        return service in ALWAYS_ENABLED or service in self.enabled_services

    def reference(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name}


def _org_id(name: str) -> str:
    return "org-" + str(uuid.uuid5(_NAMESPACE, name))


ACME = Organization(
    id=_org_id("Acme Security"),
    name="Acme Security",
    enabled_services=CATEGORY_SERVICES,
    connectors={
        "edr": ("crowdstrike", "sentinelone"),
        "scm": ("github", "gitlab"),
        "ticketing": ("jira", "github"),
        "observability": ("datadog", "splunk"),
    },
)
# One integration per enabled category, and observability not enabled at all.
BETA = Organization(
    id=_org_id("Beta Corp"),
    name="Beta Corp",
    enabled_services=("edr", "scm", "ticketing"),
    connectors={"edr": ("crowdstrike",), "scm": ("github",), "ticketing": ("jira",)},
)
ORGANIZATIONS = (ACME, BETA)
ORGANIZATIONS_BY_ID = {org.id: org for org in ORGANIZATIONS}
