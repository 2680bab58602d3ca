"""SCM: every tool against the sandbox (generated from the declarations and this table) and its snapshot."""

from typing import Any

from servicekit import Example, ref, service_tests
from unizo_mcp_scm.tools import SERVICE


def _created(data: Any) -> None:
    assert data["title"] == "Add MCP test" and data["target"] == "main" and data["state"] == "opened"


def _updated(data: Any) -> None:
    assert data["state"] == "closed" and data["title"] == "Renamed by a test"


EXAMPLES = {
    "scm_list_repositories": Example({"limit": 3}),
    "scm_list_branches": Example({"sort": "name"}),
    "scm_list_commits": Example({"offset": 1, "limit": 2}),
    "scm_create_pull_request": Example(
        {
            "title": "Add MCP test",
            "source": ref("scm_list_branches", "name", lambda branch: branch["name"] != "main"),
            "target": "main",
            "description": "From a test.",
        },
        check=_created,
    ),
    "scm_update_pull_request": Example({"state": "closed", "title": "Renamed by a test"}, check=_updated),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)


def test_enums_follow_contract() -> None:
    params = {tool.name: {p.name: p for p in tool.params} for tool in SERVICE.tools}
    pr = params["scm_create_pull_request"]
    assert pr["state"].enum == ("opened", "closed", "merged")
    assert pr["visibility"].enum == ("public", "private")
    assert all(pr[n].required for n in ("title", "source", "target"))
    assert not any(p.required for p in params["scm_update_pull_request"].values() if p.location == "body")
