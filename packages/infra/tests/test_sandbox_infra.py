"""The sandbox's infrastructure emulation: accounts and collections per provider (AWS-, Azure- and GCP-like),
IAM users, policies and roles per collection, a resource tree with the documented states, compute types
and parent types, the `parentResourceId` filter, served read-only.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.services import infra
from unizo_mcp_sandbox.testclient import SandboxClient

API = "/api/v1/infra"
DATASET = generate_dataset(1729)
INTEGRATIONS = [item for item in DATASET.integrations if item["type"] == "INFRA"]
Api = SandboxClient
COLLECTION_IDS = {"aws": r"\d{12}", "azure": r"[0-9a-f-]{36}", "gcp": r"[a-z][a-z0-9-]+-\d{4}"}
USER_IDS = {"aws": r"AIDA[A-Z2-7]{17}", "azure": r"[0-9a-f-]{36}", "gcp": r"\d{21}"}
COMPUTE_METADATA = {"cpuCores", "memory", "storage", "os", "runtime", "instanceClass"}  # homonym


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


def _table(kind: str, *scope: str) -> list[dict[str, Any]]:
    return DATASET.tables[kind][scope]


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda item: item["name"])
def test_volumes_and_vendor_like_ids(integration: dict[str, Any]) -> None:
    iid, connector = integration["id"], integration["serviceProfile"]["name"]
    accounts = _table("infra_accounts", iid)
    collections = _table("infra_collections", iid)
    assert len(accounts) == 2 and len(collections) == len(infra.STAGES) == 3
    assert all(c["account"]["id"] == accounts[0]["id"] for c in collections)
    assert all(re.fullmatch(COLLECTION_IDS[connector], c["id"]) for c in collections)
    for collection in collections:
        users = _table("infra_users", iid, collection["id"])
        assert len(users) == infra.USERS_PER_COLLECTION
        assert all(re.fullmatch(USER_IDS[connector], user["id"]) for user in users)
        assert {user["type"] for user in users} == {"USER", "SERVICE_ACCOUNT"}
        assert len(_table("infra_policies", iid, collection["id"])) == 8
        assert len(_table("infra_roles", iid, collection["id"])) == 6
        assert len(_table("infra_resources", iid, collection["id"])) >= 20


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda item: item["name"])
def test_resources_form_a_tree_with_the_documented_values(integration: dict[str, Any]) -> None:
    iid = integration["id"]
    for collection in _table("infra_collections", iid):
        resources = _table("infra_resources", iid, collection["id"])
        by_id = {r["id"]: r for r in resources}
        assert len(by_id) == len(resources)
        assert {r["state"] for r in resources} <= set(infra.RESOURCE_STATES)
        for resource in resources:
            parent = resource["parentResource"]
            if parent is not None:
                assert by_id[parent["id"]]["type"] == parent["type"] in infra.PARENT_TYPES
            if resource["type"] == "COMPUTE":
                assert resource["computeType"] in infra.COMPUTE_TYPES
                assert set(resource["computeMetadata"]) == COMPUTE_METADATA
            else:
                assert resource["type"] in infra.PARENT_TYPES and resource["computeMetadata"] is None
        kinds = {(r["type"], (r["parentResource"] or {}).get("type")) for r in resources}
        assert {("SUBNET", "VPC"), ("CLUSTER", "VPC"), ("NAMESPACE", "CLUSTER"), ("COMPUTE", "SUBNET"),
                ("COMPUTE", "NAMESPACE")} <= kinds  # fmt: skip


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda item: item["name"])
def test_identities_refer_to_their_collection(integration: dict[str, Any]) -> None:
    iid = integration["id"]
    for collection in _table("infra_collections", iid):
        scope = (iid, collection["id"])
        policies = {p["id"] for p in _table("infra_policies", *scope)}
        roles = {r["id"]: r for r in _table("infra_roles", *scope)}
        assert all(ref["id"] in policies for role in roles.values() for ref in role["policies"])
        for user in _table("infra_users", *scope):
            assert user["roles"] and all(ref["id"] in roles for ref in user["roles"])
            assert user["collection"]["id"] == collection["id"]


async def test_infra_is_read_only(api: Api) -> None:
    integration = api.integration("infra")
    collection = await api.first(f"{API}/collections", integration)
    for method in ("POST", "PUT", "DELETE"):
        reply = await api.call(
            method, f"{API}/collections/{collection['id']}/users", integration=integration, json={}
        )
        assert (reply.status, reply.error["errorCode"]) == (405, "AP-4050001")


async def test_parent_resource_filter(api: Api) -> None:
    integration = api.integration("infra", "gcp")
    collection = await api.first(f"{API}/collections", integration)
    path = f"{API}/collections/{collection['id']}/resources"
    everything = (await api.get(path, integration=integration, params={"limit": "100"})).json["data"]
    cluster = next(r for r in everything if r["type"] == "CLUSTER")
    reply = await api.get(
        path, integration=integration, params={"parentResourceId": cluster["id"], "limit": "100"}
    )
    namespaces = reply.json["data"]
    assert [r["id"] for r in namespaces] == [
        r["id"] for r in everything if (r["parentResource"] or {}).get("id") == cluster["id"]
    ]
    assert {r["type"] for r in namespaces} == {"NAMESPACE"}
    none = await api.get(path, integration=integration, params={"parentResourceId": "no-such-parent"})
    assert none.status == 200 and none.json["data"] == []


async def test_collections_of_one_provider_are_not_found_in_another(api: Api) -> None:
    aws, azure = api.integration("infra", "aws"), api.integration("infra", "azure")
    collection = await api.first(f"{API}/collections", aws)
    reply = await api.get(f"{API}/collections/{collection['id']}/roles", integration=azure)
    assert reply.status == 404
    assert reply.error["errorMessage"] == f"collection '{collection['id']}' was not found"
