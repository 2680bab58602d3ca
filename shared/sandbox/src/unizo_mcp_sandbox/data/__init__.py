"""Deterministic seeded data: the integrations of each account and every record they serve.

Each integration draws from its own `random.Random`, seeded from the sandbox seed and the integration's
place, so the data never depends on generation order, the hash seed or the network.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable

import attrs

from unizo_mcp_sandbox.accounts import ORGANIZATIONS, Organization
from unizo_mcp_sandbox.data import edr, observability, scm, ticketing
from unizo_mcp_sandbox.data.common import Gen, Record, Scope, Tables, change_log

DISPLAY_NAMES = {
    ("edr", "crowdstrike"): "CrowdStrike Falcon",
    ("edr", "sentinelone"): "SentinelOne Singularity",
    ("scm", "github"): "GitHub",
    ("scm", "gitlab"): "GitLab",
    ("ticketing", "jira"): "Jira Cloud",
    ("ticketing", "github"): "GitHub Issues",
    ("observability", "datadog"): "Datadog",
    ("observability", "splunk"): "Splunk Cloud",
}
Generator = Callable[[Gen, Record, Organization, Tables], None]
GENERATORS: dict[str, Generator] = {
    "edr": edr.generate,
    "scm": scm.generate,
    "ticketing": ticketing.generate,
    "observability": observability.generate,
}


@attrs.frozen
class Dataset:
    seed: int
    integrations: list[Record]
    tables: Tables

    def integration(self, integration_id: str) -> Record | None:
        return next((item for item in self.integrations if item["id"] == integration_id), None)


def _integration(gen: Gen, organization: Organization, service: str, connector: str) -> Record:
    created = gen.past(500, 200)
    return {
        "id": gen.uuid(),
        "name": f"{DISPLAY_NAMES[(service, connector)]} ({organization.name})",
        "type": service.upper(),
        "state": "ACTIVE",
        "serviceProfile": {"id": gen.uuid(), "name": connector},
        "organization": {"id": organization.id},
        "changeLog": change_log(created, gen.after(created, 200)),
    }


@functools.lru_cache(maxsize=4)
def generate_dataset(seed: int) -> Dataset:
    """Cached: seeded records are never modified (writes go to overlays), so sandboxes can share them."""
    tables: Tables = defaultdict(dict)
    integrations = []
    for organization in ORGANIZATIONS:
        for service, connectors in organization.connectors.items():
            for connector in connectors:
                gen = Gen(f"unizo-sandbox:{seed}:{organization.name}:{service}:{connector}")
                integration = _integration(gen, organization, service, connector)
                integrations.append(integration)
                GENERATORS[service](gen, integration, organization, tables)
    return Dataset(seed=seed, integrations=integrations, tables=dict(tables))


__all__ = ["Dataset", "Record", "Scope", "generate_dataset"]
