"""Infra: every tool against the sandbox (generated from the declarations and this table), its snapshot,
the resource tree through `parent_resource_id`, and collections picked when the call leaves them out."""

from typing import Any

from servicekit import Example, service_tests
from unizo_mcp_infra.tools import SERVICE
from unizo_testkit import text_of

TOOLS = {tool.name: tool for tool in SERVICE.tools}


def _resources(data: Any) -> None:
    assert {"id", "name", "type", "state"} <= set(data[0])


EXAMPLES = {
    "infra_list_users": Example({"sort": "name"}),
    "infra_list_resources": Example({"limit": 50, "sort": "type"}, _resources),
    "infra_list_policies": Example({"sort": "-attachmentCount"}),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)


def test_parent_resource_id_is_sent_as_documented() -> None:
    for name in ("infra_list_resources", "infra_get_resource_details"):
        params = {p.name: p for p in TOOLS[name].params}
        assert (params["parent_resource_id"].location, params["parent_resource_id"].wire_name) == (
            "query",
            "parentResourceId",
        )
    collection_tools = [t for t in SERVICE.tools if "{collection_id}" in t.path]
    assert len(collection_tools) == 9
    assert all(next(p for p in t.params if p.name == "collection_id").resolvable for t in collection_tools)


async def test_children_of_a_resource(open_server: Any) -> None:
    async with open_server("infra") as s:
        iid = await s.integration("infra")
        collection = (await s.data("infra_list_collections", {"integration_id": iid}))[0]["id"]
        args = {"integration_id": iid, "collection_id": collection, "limit": 100}
        everything = await s.data("infra_list_resources", args)
        vpc = next(r for r in everything if r["type"] == "VPC")
        children = await s.data("infra_list_resources", {**args, "parent_resource_id": vpc["id"]})
        assert children and {r["parent"] for r in children} == {vpc["id"]}
        assert {r["type"] for r in children} >= {"SUBNET", "CLUSTER"}
        assert len(children) == sum(1 for r in everything if r.get("parent") == vpc["id"])
        subnet = next(r for r in children if r["type"] == "SUBNET" and any(
            x.get("parent") == r["id"] for x in everything
        ))  # fmt: skip
        machines = await s.data("infra_list_resources", {**args, "parent_resource_id": subnet["id"]})
        assert machines and all(r["type"] == "COMPUTE" for r in machines)
        whole = await s.data(
            "infra_get_resource_details",
            {**{k: v for k, v in args.items() if k != "limit"}, "resource_id": machines[0]["id"],
             "parent_resource_id": subnet["id"]},
        )  # fmt: skip
        assert whole["parentResource"]["id"] == subnet["id"] and whole["computeMetadata"]


async def test_a_left_out_collection_is_picked_or_listed(open_server: Any, sandbox: Any) -> None:
    async with open_server("infra") as s:
        iid = await s.integration("infra")
        collections = await s.data("infra_list_collections", {"integration_id": iid})
        assert len(collections) == 3
        before = len(sandbox.requests())
        result = await s.call("infra_list_users", {"integration_id": iid})
        text = text_of(result)
        assert result.is_error and "collection_id is required" in text
        assert all(c["id"] in text for c in collections)
        paths = [r.path for r in sandbox.requests()[before:]]
        assert paths == ["/api/v1/infra/collections"]  # listed, nothing else called
