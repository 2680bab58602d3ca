"""What the core puts on the wire for the SCM declarations, checked against the sandbox.

- branch names with '/' (`scm_get_branch`) travel as one percent-encoded segment (`%2F`);
- body defaults the schema advertises are sent (`state`, `visibility`).
"""

from __future__ import annotations

from typing import Any

import pytest
from servicekit import Session
from unizo_testkit import text_of

API = "/api/v1"


def _bodies(sent: list[dict[str, Any]], method: str, suffix: str) -> list[Any]:
    return [c["json"] for c in sent if c["method"] == method and c["path"].endswith(suffix)]


async def _repo(s: Session) -> dict[str, str]:
    iid = await s.integration("scm")
    org = (await s.data("scm_list_organizations", {"integration_id": iid}))[0]["id"]
    repo = (await s.data("scm_list_repositories", {"integration_id": iid, "organization_id": org}))[0]["id"]
    return {"integration_id": iid, "organization_id": str(org), "repository_id": str(repo)}


# --- branch names with '/' ---------------------------------------------------------------------------


async def test_branch_with_slash_is_one_encoded_segment(open_server, sandbox) -> None:
    async with open_server("scm") as s:
        ids = await _repo(s)
        branches_path = (
            f"{API}/scm/organizations/{ids['organization_id']}/repositories/{ids['repository_id']}"
        )
        sandbox.clear_requests()
        result = await s.call("scm_get_branch", {**ids, "branch_id": "feature/x"})
        # no such branch in the seed data: the sandbox's router matched branches/{branchId} and decoded %2F
        assert result.is_error and "branch 'feature/x' was not found" in text_of(result), text_of(result)
        [request] = [r for r in sandbox.requests() if "/branches/" in r.path]
        assert request.raw_path == f"{branches_path}/branches/feature%2Fx"
        assert request.path == f"{branches_path}/branches/feature/x" and request.status == 404

        # a branch named feature/x (the seed has none; added directly to the sandbox's records)
        scope = (ids["integration_id"], ids["organization_id"], ids["repository_id"])

        def add_branch(box: Any) -> None:
            main = box.records.get("branches", scope, "main")
            box.records.insert("branches", scope, {**main, "id": "feature/x", "name": "feature/x"})

        sandbox._server.call(add_branch)
        data = await s.data("scm_get_branch", {**ids, "branch_id": "feature/x"})
        assert data["id"] == "feature/x" and data["name"] == "feature/x"


@pytest.mark.parametrize("branch", ["feature/../main", "/main", "feature//x", "feature%2Fx"])
async def test_hostile_branch_names_never_reach_the_api(open_server, sandbox, branch: str) -> None:
    async with open_server("scm") as s:
        ids = await _repo(s)
        sandbox.clear_requests()
        result = await s.call("scm_get_branch", {**ids, "branch_id": branch})
        assert result.is_error and "Refused branch_id" in text_of(result), text_of(result)
        assert not [r for r in sandbox.requests() if "/branches" in r.path]


# --- body defaults ---------------------------------------------------------------------------------


async def test_pull_request_defaults_are_sent(open_server, sent) -> None:
    async with open_server("scm") as s:
        ids = await _repo(s)
        names = [b["name"] for b in await s.data("scm_list_branches", ids) if b["name"] != "main"]
        created = await s.data(
            "scm_create_pull_request", {**ids, "title": "Defaults", "source": names[0], "target": "main"}
        )
        [body] = _bodies(sent, "POST", "/pullRequests")
        assert body == {
            "title": "Defaults",
            "source": names[0],
            "target": "main",
            "state": "opened",
            "visibility": "private",
        }
        stored = await s.data("scm_get_pull_request", {**ids, "pull_request_id": created["id"]})
        assert stored["state"] == "opened" and stored["visibility"] == "private"
        # an update reads the pull request and sends it whole, as Unizo's own server does: what was not
        # given keeps its value (no default overwrites the stored state)
        await s.data("scm_update_pull_request", {**ids, "pull_request_id": created["id"], "title": "Renamed"})
        [update] = _bodies(sent, "PUT", f"/pullRequests/{created['id']}")
        assert update == {
            "title": "Renamed",
            "description": "",  # what the sandbox stored for a pull request created without one
            "source": names[0],
            "target": "main",
            "state": "opened",
            "visibility": "private",
        }
