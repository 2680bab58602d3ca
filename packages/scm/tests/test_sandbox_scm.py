"""The sandbox's SCM emulation: seeded organizations, repositories, branches, commits and pull requests,
pull request writes and their validation, and the webhook events they emit.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox).
"""

from __future__ import annotations

import re

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.services import scm
from unizo_mcp_sandbox.testclient import SandboxClient, WebhookReceiver

Api = SandboxClient
ORGANIZATIONS = "/api/v1/scm/organizations"


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


async def repository_path(api: Api, connector: str = "github") -> tuple[str, str]:
    """(integration id, path) of the first repository of the first organization."""
    integration = api.integration("scm", connector)
    organization = await api.first(ORGANIZATIONS, integration)
    repository = await api.first(f"{ORGANIZATIONS}/{organization['id']}/repositories", integration)
    return integration, f"{ORGANIZATIONS}/{organization['id']}/repositories/{repository['id']}"


def test_every_kind_of_record_is_seeded() -> None:
    dataset = generate_dataset(1729)
    integrations = [item for item in dataset.integrations if item["type"] == "SCM"]
    assert {item["serviceProfile"]["name"] for item in integrations} == {"github", "gitlab"}
    for kind in ("scm_organizations", "repositories", "branches", "commits", "pull_requests"):
        for integration in integrations:
            rows = [
                r for scope, rs in dataset.tables[kind].items() if scope[0] == integration["id"] for r in rs
            ]
            assert rows, kind
    for scope, commits in dataset.tables["commits"].items():
        assert len(commits) == scm.COMMITS_PER_REPOSITORY
        assert all(re.fullmatch(r"[0-9a-f]{40}", commit["sha"]) for commit in commits)
        assert [commit["author"]["date"] for commit in commits] == sorted(
            (commit["author"]["date"] for commit in commits), reverse=True
        )
        branches = dataset.tables["branches"][scope]
        assert branches[0]["name"] == "main" and branches[0]["sha"] == commits[0]["sha"]
        pulls = dataset.tables["pull_requests"][scope]
        assert {pull["source"] for pull in pulls} <= {branch["name"] for branch in branches}


async def test_branch_ids_are_their_names(api: Api) -> None:
    integration, repository = await repository_path(api, "gitlab")
    branches = (await api.get(f"{repository}/branches", integration=integration)).json["data"]
    assert all(branch["id"] == branch["name"] for branch in branches)
    main = await api.get(f"{repository}/branches/main", integration=integration)
    assert (main.status, main.json["protected"]) == (200, True)


async def test_pull_requests_can_be_created_and_updated(api: Api) -> None:
    integration, repository = await repository_path(api)
    branches = (await api.get(f"{repository}/branches", integration=integration)).json["data"]
    source = next(branch["name"] for branch in branches if branch["name"] != "main")
    pulls = f"{repository}/pullRequests"
    existing = (await api.get(pulls, integration=integration)).json
    body = {"title": "Harden TLS settings", "source": source, "target": "main", "description": "TLS 1.3 only"}
    created = await api.post(pulls, integration=integration, json=body)
    assert created.status == 201, created.text
    pull = created.json
    assert (pull["state"], pull["visibility"], pull["number"]) == (
        "opened",
        "private",
        existing["pagination"]["total"] + 1,
    )
    update = await api.put(
        f"{pulls}/{pull['id']}", integration=integration, json={"state": "merged", "title": "Harden TLS"}
    )
    assert update.status == 200
    fetched = (await api.get(f"{pulls}/{pull['id']}", integration=integration)).json
    assert (fetched["state"], fetched["title"], fetched["name"]) == ("merged", "Harden TLS", "Harden TLS")
    assert (await api.get(pulls, integration=integration)).json["pagination"]["total"] == existing[
        "pagination"
    ]["total"] + 1
    unknown = await api.post(pulls, integration=integration, json={**body, "source": "no-such-branch"})
    assert unknown.error["property"] == "source"
    same = await api.post(pulls, integration=integration, json={**body, "source": "main"})
    assert same.error["property"] == "target"
    bad_state = await api.put(f"{pulls}/{pull['id']}", integration=integration, json={"state": "draft"})
    assert bad_state.error["property"] == "state"


async def test_pull_request_events(api: Api, webhook_receiver: WebhookReceiver) -> None:
    body = {
        "name": "t",
        "url": webhook_receiver.url + "/scm",
        "events": ["pull_request:*"],
        "secret": "0123456789",
    }
    assert (await api.post("/api/v1/webhooks", json=body)).status == 201
    integration, repository = await repository_path(api)
    branches = (await api.get(f"{repository}/branches", integration=integration)).json["data"]
    source = next(branch["name"] for branch in branches if branch["name"] != "main")
    body = {"title": "Webhook test", "source": source, "target": "main"}
    pull = (await api.post(f"{repository}/pullRequests", integration=integration, json=body)).json
    received = await webhook_receiver.next()
    assert received.payload["type"] == "pull_request:created"
    assert received.payload["data"]["id"] == pull["id"]
    assert received.payload["data"]["repository"]["id"] == repository.rsplit("/", 1)[1]
    await api.put(
        f"{repository}/pullRequests/{pull['id']}", integration=integration, json={"state": "closed"}
    )
    updated = await webhook_receiver.next()
    assert (updated.payload["type"], updated.payload["data"]["state"]) == ("pull_request:updated", "closed")
