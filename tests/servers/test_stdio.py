"""Every console script as a desktop client runs it: a subprocess over stdio, with an explicit environment.

One process per console script (each service's server, and the all-in-one server): the tools it lists
are the ones its package declares, with honest annotations on the wire, and a discovery call and a
real read work end to end. Everything else about servers is tested in process.
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from servicekit import Walker, installed, is_top_list, services_where, tools_where
from unizo_mcp_core.registry import ALL_IN_ONE_PACKAGE
from unizo_mcp_core.spec import ServiceSpec

from .helpers import base_env, script

pytestmark = pytest.mark.slow

SERVICES = services_where()


def _check_annotations(listed: list[Any], specs: list[ServiceSpec]) -> None:
    """readOnlyHint on reads (discovery searches included), destructiveHint only on deletes."""
    declared = {t.name: t for spec in specs for t in spec.all_tools()}
    assert sorted(t.name for t in listed) == sorted(declared)
    for tool in listed:
        spec = declared[tool.name]
        notes = tool.annotations
        assert notes.read_only_hint is (spec.permission.value == "read"), tool.name
        assert notes.destructive_hint is (spec.method == "DELETE" and spec.handler == "http"), tool.name
        assert notes.idempotent_hint is (spec.method in ("GET", "PUT", "DELETE") or spec.handler != "http")
        assert notes.open_world_hint is None  # left out: MCP's default (true) is what these tools are


async def _read_once(client: Any, spec: ServiceSpec, sandbox: Any) -> None:
    """Discovery, then the first top-level list of the service, over the real pipe."""

    class PipeSession:
        async def data(self, tool: str, args: Any = None) -> Any:
            result = await client.call_tool(tool, dict(args or {}))
            assert not result.is_error, result.content
            return result.structured_content["data"]

        async def integration(self, service: str) -> str:
            connectors = await self.data(f"{service}_list_connectors")
            first = connectors[0]
            found = await self.data(f"{service}_list_integrations", {"connector": first})
            return str(found[0]["id"])

    walker = Walker(PipeSession(), spec, {})  # type: ignore[arg-type]
    tool = tools_where(spec, is_top_list)[0]
    args = {**await walker.base(), "limit": 2}
    data = await PipeSession().data(tool.name, args)
    assert isinstance(data, list) and 0 < len(data) <= 2
    sent = [(r.method, r.path, r.status, r.integration_id) for r in sandbox.requests()]
    assert ("GET", "/api/v1" + tool.path, 200, args.get("integration_id")) in sent


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
async def test_each_server_over_stdio(spec: ServiceSpec, sandbox, tmp_path) -> None:
    params = StdioServerParameters(
        command=script(spec.package, cold=True), args=[], env=base_env(tmp_path, sandbox.env("full"))
    )
    async with Client(params, read_timeout_seconds=60) as client:
        _check_annotations((await client.list_tools()).tools, [spec])
        await _read_once(client, spec, sandbox)


async def test_all_in_one_over_stdio(sandbox, tmp_path) -> None:
    params = StdioServerParameters(
        command=script(ALL_IN_ONE_PACKAGE, cold=True), args=[], env=base_env(tmp_path, sandbox.env("full"))
    )
    async with Client(params, read_timeout_seconds=60) as client:
        _check_annotations((await client.list_tools()).tools, list(installed().values()))
        for spec in SERVICES:
            await _read_once(client, spec, sandbox)
