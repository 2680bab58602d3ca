"""The seeded data and keys: deterministic, derived from the discovered services, identical per seed."""

from __future__ import annotations

import uuid

import pytest
from unizo_mcp_sandbox.accounts import PLATFORM, acme, beta, organizations
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.keys import ApiKey, reconcile, seeded_keys, service_role
from unizo_mcp_sandbox.services import SandboxService

from .support import SERVICE_IDS, SERVICES

DATASET = generate_dataset(1729)
FIXED_ROLES = [
    "full", "readonly", "expired", "revoked", "development", "wrong_environment", "ip_restricted",
    "service_disabled",
]  # fmt: skip


def records(kind: str, integration_id: str) -> list[dict]:
    return [
        record
        for scope, rows in DATASET.tables[kind].items()
        if scope[0] == integration_id
        for record in rows
    ]


def integrations(organization_id: str, category: str) -> list[dict]:
    return [
        item
        for item in DATASET.integrations
        if item["organization"]["id"] == organization_id and item["type"] == category
    ]


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not() -> None:
    again = generate_dataset.__wrapped__(1729)  # bypass the cache
    assert again is not DATASET
    assert (again.integrations, again.tables) == (DATASET.integrations, DATASET.tables)
    other = generate_dataset.__wrapped__(1730)
    assert other.integrations != DATASET.integrations
    assert all(other.tables[kind] != DATASET.tables[kind] for kind in DATASET.tables)


def test_the_organizations_follow_the_services() -> None:
    assert organizations() == (acme(), beta())
    assert acme().enabled_services == tuple(SERVICE_IDS)
    assert beta().enabled_services == tuple(s.name for s in SERVICES if s.second_organization)
    assert acme().id != beta().id and acme().id.startswith("org-")
    assert acme().service_enabled("platform") and beta().service_enabled("platform")


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_each_category_has_its_declared_connectors(service: SandboxService) -> None:
    in_acme = integrations(acme().id, service.category)
    assert [item["serviceProfile"]["name"] for item in in_acme] == [name for name, _ in service.connectors]
    assert [item["name"] for item in in_acme] == [
        f"{display} (Acme Security)" for _, display in service.connectors
    ]
    in_beta = integrations(beta().id, service.category)
    expected = [service.connectors[0][0]] if service.second_organization else []
    assert [item["serviceProfile"]["name"] for item in in_beta] == expected
    assert all(uuid.UUID(item["id"]) and item["state"] == "ACTIVE" for item in in_acme + in_beta)


@pytest.mark.parametrize("service", SERVICES, ids=SERVICE_IDS)
def test_every_declared_resource_has_seeded_records_in_every_acme_integration(
    service: SandboxService,
) -> None:
    for integration in integrations(acme().id, service.category):
        for resource in service.resources:
            rows = records(resource.kind, integration["id"])
            assert rows, f"{service.name} {resource.kind} of {integration['name']}"
            for scope, scoped in DATASET.tables[resource.kind].items():
                if scope[0] == integration["id"]:
                    assert len({row["id"] for row in scoped}) == len(scoped), (resource.kind, scope)
                    assert len(scope) == len(resource.scope_params) + 1, resource.kind


def test_seeded_keys_are_deterministic_and_distinct() -> None:
    first, again = seeded_keys(1729, "production"), seeded_keys(1729, "production")
    assert [item.key for item in first] == [item.key for item in again]
    assert len({item.record.id for item in first}) == len(first)
    assert [item.key for item in seeded_keys(1, "production")] != [item.key for item in first]
    roles = {item.role: item for item in first}
    assert roles["development"].key.startswith("uz_dev_")
    assert roles["ip_restricted"].record.ip_allowlist == ["10.9.9.9/32"]
    assert roles["service_disabled"].record.organization_id == beta().id


def test_there_is_one_single_service_role_per_service_after_the_fixed_roles() -> None:
    seeded = seeded_keys(1729, "production")
    derived = [service_role(name) for name in (*SERVICE_IDS, PLATFORM)]
    assert [item.role for item in seeded] == FIXED_ROLES + derived
    for item in seeded[len(FIXED_ROLES) :]:
        (name,) = item.record.permissions
        assert item.role == f"{name}_only"
        assert item.record.permissions == {name: ["read", "write", "delete"]}
        assert item.record.name == f"demo-{name.replace('_', '-')}-only"
        assert item.record.organization_id == acme().id


def test_the_fixed_roles_keep_their_key_values() -> None:
    """Keys written into users' configurations must survive the services becoming discovered."""
    keys = {item.role: item.key for item in seeded_keys(1729, "production")}
    assert keys["full"] == "uz_prod_f378eb19_vkeBCuAp4kDE6aC8bbf_bR_RS6xAVvO4"
    assert keys["readonly"] == "uz_prod_f5255ef4_5yHnp70cMiAluihC4_ryN-BOpF9E1wZc"
    assert keys["service_disabled"] == "uz_prod_6b765267_IS2qXs0uiX9x_S8sBAQwPF98zp4cF2ko"
    assert keys["wrong_environment"] == "uz_stg_41685440_p11Jq1wslfeMBtufqhD-ftJbJPAOM86a"


def test_saved_keys_are_reconciled_with_todays_roles() -> None:
    seeded = seeded_keys(1729, "production")
    by_role = {item.role: item.record for item in seeded}
    saved_full = ApiKey.from_state(by_role["full"].to_state())
    saved_full.permissions = {"platform": ["read"]}  # as saved before some service existed
    saved_full.revoked_at = 123.0
    created = ApiKey.from_state({**by_role["readonly"].to_state(), "id": "0000abcd", "role": None})
    stale = ApiKey.from_state({**by_role["readonly"].to_state(), "id": "0000dead", "role": "gone_only"})
    merged = reconcile([saved_full, created, stale], seeded_keys(1729, "production"))
    by_id = {key.id: key for key in merged}
    assert "0000dead" not in by_id
    assert by_id["0000abcd"] is created
    full = by_id[by_role["full"].id]
    assert (full.permissions, full.revoked_at) == (by_role["full"].permissions, 123.0)
    assert {key.role for key in merged if key.role} == {item.role for item in seeded}
