"""Deterministic seeded data: the integrations of each account and every record they serve.

Each integration draws from its own `random.Random`, seeded from the sandbox seed and the integration's
place, so the data never depends on generation order, the hash seed or the network. The records themselves
come from each service's `generate`.
"""

from __future__ import annotations

import functools
from collections import defaultdict

import attrs

from unizo_mcp_sandbox.accounts import Organization, organizations
from unizo_mcp_sandbox.data.common import Gen, Record, Scope, Tables, change_log
from unizo_mcp_sandbox.services import SandboxService, service_named


@attrs.frozen
class Dataset:
    seed: int
    integrations: list[Record]
    tables: Tables

    def integration(self, integration_id: str) -> Record | None:
        return next((item for item in self.integrations if item["id"] == integration_id), None)


def _integration(gen: Gen, organization: Organization, service: SandboxService, connector: str) -> Record:
    created = gen.past(500, 200)
    return {
        "id": gen.uuid(),
        "name": f"{service.display_name(connector)} ({organization.name})",
        "type": service.category,
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
    for organization in organizations():
        for name, connectors in organization.connectors.items():
            service = service_named(name)
            for connector in connectors:
                gen = Gen(f"unizo-sandbox:{seed}:{organization.name}:{name}:{connector}")
                integration = _integration(gen, organization, service, connector)
                integrations.append(integration)
                service.generate(gen, integration, organization, tables)
    return Dataset(seed=seed, integrations=integrations, tables=dict(tables))


__all__ = ["Dataset", "Record", "Scope", "generate_dataset"]
