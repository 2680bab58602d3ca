"""The sandbox's registry emulation: organizations (Docker Hub namespaces, GitHub organizations), their
repositories, artifacts newest first with digests and the documented types, and tags that point at them,
served read-only.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.services import pcr
from unizo_mcp_sandbox.testclient import SandboxClient

API = "/api/v1/pcr"
DATASET = generate_dataset(1729)
INTEGRATIONS = [item for item in DATASET.integrations if item["type"] == "PCR"]
Api = SandboxClient


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


def _walk(integration: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]:
    """(organization, repository, artifacts) of every repository of the integration."""
    iid = integration["id"]
    found = []
    for organization in DATASET.tables["pcr_organizations"][(iid,)]:
        for repository in DATASET.tables["pcr_repositories"][(iid, organization["id"])]:
            found.append(
                (
                    organization,
                    repository,
                    DATASET.tables["pcr_artifacts"][(iid, organization["id"], repository["id"])],
                )
            )
    return found


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda item: item["name"])
def test_volumes_types_and_digests(integration: dict[str, Any]) -> None:
    walked = _walk(integration)
    organizations = {organization["id"] for organization, _, _ in walked}
    assert len(organizations) == pcr.ORGANIZATIONS_PER_INTEGRATION
    assert len(walked) >= 8
    docker = integration["serviceProfile"]["name"] == "docker_hub"
    for organization, repository, artifacts in walked:
        assert repository["type"] in pcr.REPOSITORY_TYPES and not (docker and repository["type"] == "package")
        assert re.fullmatch(r"[a-z0-9]+" if docker else r"[a-z0-9-]+", organization["name"])
        assert repository["fullName"] == f"{organization['name']}/{repository['name']}"
        assert repository["artifactCount"] == len(artifacts) >= 3
        assert repository["lastPushed"] == artifacts[0]["pushedAt"]
        pushed = [artifact["pushedAt"] for artifact in artifacts]
        assert pushed == sorted(pushed, reverse=True)
        for artifact in artifacts:
            assert artifact["type"] in pcr.ARTIFACT_TYPES
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", artifact["digest"])
            assert artifact["id"] == artifact["digest"][7:23]
        assert sum("latest" in artifact["tags"] for artifact in artifacts) == 1


@pytest.mark.parametrize("integration", INTEGRATIONS, ids=lambda item: item["name"])
def test_tags_point_at_their_artifact(integration: dict[str, Any]) -> None:
    iid = integration["id"]
    for organization, repository, artifacts in _walk(integration):
        names = []
        for artifact in artifacts:
            tags = DATASET.tables["pcr_tags"][(iid, organization["id"], repository["id"], artifact["id"])]
            assert [tag["name"] for tag in tags] == artifact["tags"]
            assert all(tag["digest"] == artifact["digest"] and tag["type"] in pcr.TAG_TYPES for tag in tags)
            assert all(
                tag["type"] == "semantic" for tag in tags if re.fullmatch(r"\d+\.\d+\.\d+", tag["name"])
            )
            names += [tag["name"] for tag in tags]
        assert len(names) == len(set(names)), "a tag name points at one artifact of a repository"


async def test_pcr_is_read_only(api: Api) -> None:
    integration = api.integration("pcr")
    organization = await api.first(f"{API}/organizations", integration)
    for method in ("POST", "PUT", "DELETE"):
        reply = await api.call(
            method, f"{API}/{organization['id']}/repositories", integration=integration, json={}
        )
        assert (reply.status, reply.error["errorCode"]) == (405, "AP-4050001")


async def test_organizations_are_matched_before_repositories(api: Api) -> None:
    """/pcr/organizations/{id} is declared before /pcr/{organizationId}/repositories."""
    integration = api.integration("pcr")
    reply = await api.get(f"{API}/organizations/repositories", integration=integration)
    assert reply.error["errorMessage"] == "organization 'repositories' was not found"
    unknown = await api.get(f"{API}/organizations/repositories/x", integration=integration)
    assert unknown.status == 404


async def test_artifacts_belong_to_their_repository(api: Api) -> None:
    integration = api.integration("pcr", "github_container_registry")
    organization = await api.first(f"{API}/organizations", integration)
    repositories = f"{API}/{organization['id']}/repositories"
    first, second = (await api.get(repositories, integration=integration, params={"limit": "2"})).json["data"]
    artifact = await api.first(f"{repositories}/{first['id']}/artifacts", integration)
    elsewhere = await api.get(
        f"{repositories}/{second['id']}/artifacts/{artifact['id']}", integration=integration
    )
    assert elsewhere.error["errorMessage"] == f"artifact '{artifact['id']}' was not found"
