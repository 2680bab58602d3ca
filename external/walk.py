"""Real arguments for the calls an external client makes, chosen from the declarations, never by name.

The service is the first installed one (name order) that declares a write tool. Its calls:

- list: the first list tool that needs no parent id (`servicekit.is_top_list`) whose records a get tool
  reads (`targets.reader_of`), with the arguments `servicekit.Walker` finds for a non-empty page;
- get: that get tool, for a record the list call returned (the id is taken from the client's result);
- write: a write tool (`servicekit.is_write`) whose required arguments the service's own `Example` table
  gives (POST first, then the fewest path ids), with the arguments the Walker builds from that table.

The Walker needs an MCP session: it gets an in-process one on the service's server, with the full key of
the session's sandbox (the sandbox is not reset: other external runs use it at the same time).
"""

from __future__ import annotations

import asyncio
import importlib.util
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servicekit import Example, Session, Walker, has_writes, is_top_list, is_write
from targets import reader_of, specs

if TYPE_CHECKING:
    from unizo_mcp_core.spec import ServiceSpec, ToolSpec

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINT_GROUP = "unizo_mcp.services"


def service_with_writes() -> str:
    """The first installed service (name order) that declares a write tool."""
    for name, spec in specs().items():
        if has_writes(spec):
            return name
    raise LookupError("no installed service declares a write tool")


def examples_of(service: str) -> Mapping[str, Example]:
    """The service's own `EXAMPLES` table (packages/<folder>/tests/test_<service>.py), or none."""
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if service not in project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {}):
            continue
        module_path = pyproject.parent / "tests" / f"test_{service}.py"
        if not module_path.is_file():
            return {}
        module_spec = importlib.util.spec_from_file_location(f"_external_examples_{service}", module_path)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return dict(getattr(module, "EXAMPLES", {}))
    return {}


def _lister(spec: ServiceSpec) -> tuple[ToolSpec, ToolSpec]:
    for tool in spec.all_tools():
        reader = reader_of(spec, tool.path) if is_top_list(tool) else None
        if reader is not None:
            return tool, reader
    raise LookupError(f"service {spec.name}: no list tool without a parent id whose records a get tool reads")


def _writer(spec: ServiceSpec, examples: Mapping[str, Example]) -> ToolSpec:
    def buildable(tool: ToolSpec) -> bool:
        given = set(examples[tool.name].args) if tool.name in examples else set()
        needed = {p.name for p in tool.params if p.required and p.location != "path"}
        return needed <= given

    writes = [t for t in spec.all_tools() if is_write(t) and t.handler == "http" and buildable(t)]
    if not writes:
        raise LookupError(
            f"service {spec.name}: no write tool whose required arguments its Example table gives"
        )
    return min(writes, key=lambda t: (t.method != "POST", len(t.path_params())))


@dataclass(frozen=True)
class Plan:
    service: str
    lister: ToolSpec
    list_args: dict[str, Any]
    reader: ToolSpec
    writer: ToolSpec
    write_args: dict[str, Any]
    write_check: Callable[[Any], None] | None  # the Example's own check of the written record

    def get_args(self, record_id: str) -> dict[str, Any]:
        """The get tool's arguments for one listed record: the list's ids plus the record's."""
        last = self.reader.path_params()[-1].name
        keep = {p.name for p in self.reader.path_params()} | {"integration_id"}
        return {**{k: v for k, v in self.list_args.items() if k in keep}, last: record_id}


def plan_calls(env: Mapping[str, str], service: str) -> Plan:
    """Choose the tools and walk the sandbox for their arguments (`env`: a full-access server env)."""
    return asyncio.run(_plan(dict(env), service))


async def _plan(env: dict[str, str], service: str) -> Plan:
    from mcp import Client
    from unizo_mcp_core.server import prepare_server
    from unizo_mcp_core.settings import load_settings

    spec = specs()[service]
    examples = examples_of(service)
    lister, reader = _lister(spec)
    writer = _writer(spec, examples)
    server = await prepare_server(load_settings(service, env), [spec])
    try:
        async with Client(server.mcp) as client:
            walker = Walker(Session(client, None, None), spec, examples)
            list_args = await walker.arguments(lister)
            write_args = await walker.arguments(writer)
    finally:
        await server.aclose()
    example = examples.get(writer.name)
    return Plan(service, lister, list_args, reader, writer, write_args, example.check if example else None)
