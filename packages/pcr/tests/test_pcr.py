"""PCR: every tool against the sandbox (generated from the declarations and this table), its snapshot, and
organizations picked when the call leaves them out."""

from typing import Any

from servicekit import Example, service_tests
from unizo_mcp_pcr.tools import SERVICE
from unizo_testkit import text_of


def _newest_first(data: Any) -> None:
    pushed = [artifact["pushedAt"] for artifact in data]
    assert pushed == sorted(pushed, reverse=True)


EXAMPLES = {
    "pcr_list_repositories": Example({"sort": "-lastPushed"}),
    "pcr_list_artifacts": Example({"limit": 10}, _newest_first),
    "pcr_list_tags": Example({"sort": "name"}),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)


def test_organization_id_may_be_left_out_everywhere() -> None:
    below = [tool for tool in SERVICE.tools if "{organization_id}" in tool.path]
    assert len(below) == 7
    assert all(next(p for p in t.params if p.name == "organization_id").resolvable for t in below)


async def test_tags_name_the_artifact_they_point_at(open_server: Any) -> None:
    async with open_server("pcr") as s:
        iid = await s.integration("pcr")
        org = (await s.data("pcr_list_organizations", {"integration_id": iid}))[0]["id"]
        ids = {"integration_id": iid, "organization_id": org}
        repositories = await s.data("pcr_list_repositories", {**ids, "limit": 100, "fields": ["*"]})
        repository = next(r for r in repositories if r["type"] == "container")
        ids["repository_id"] = repository["id"]
        newest = await s.data("pcr_list_artifacts", {**ids, "limit": 100})
        tagged = next(a for a in newest if a.get("tags"))
        assert "latest" in tagged["tags"]
        artifact = await s.data("pcr_get_artifact_details", {**ids, "artifact_id": tagged["id"]})
        tags = await s.data("pcr_list_tags", {**ids, "artifact_id": tagged["id"], "fields": ["digest"]})
        assert sorted(t["name"] for t in tags) == sorted(artifact["tags"])
        assert {t["digest"] for t in tags} == {artifact["digest"]}
        assert {t["type"] for t in tags} <= {"tag", "branch", "semantic"}


async def test_a_left_out_organization_is_listed_when_there_are_several(open_server: Any) -> None:
    async with open_server("pcr") as s:
        iid = await s.integration("pcr")
        organizations = await s.data("pcr_list_organizations", {"integration_id": iid})
        assert len(organizations) == 2
        result = await s.call("pcr_list_repositories", {"integration_id": iid})
        text = text_of(result)
        assert result.is_error and "organization_id is required" in text
        assert all(f"{o['id']} ({o['name']})" in text for o in organizations)
