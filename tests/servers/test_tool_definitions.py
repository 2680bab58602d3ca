"""What a model pays for every turn: the tool definitions, as `tools/list` sends them.

Each service's definitions stay small on average (every byte is context on every turn), the all-in-one
server lists exactly the union of the services' definitions, and what the core leaves out on purpose
(guards checked locally, defaults MCP already implies) stays out.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from servicekit import services_where

AVERAGE_BUDGET = 600  # bytes per definition, compact JSON
LARGEST_BUDGET = 1500
SERVICES = services_where()


def _definitions(tools: list[Any]) -> dict[str, dict[str, Any]]:
    fields = {"name", "title", "description", "input_schema", "annotations"}
    return {
        t.name: t.model_dump(mode="json", by_alias=True, exclude_none=True, include=fields) for t in tools
    }


def _size(definition: dict[str, Any]) -> int:
    return len(json.dumps(definition, separators=(",", ":"), ensure_ascii=False))


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
async def test_definitions_stay_small(spec: Any, open_server: Any) -> None:
    async with open_server(spec.name) as s:
        sizes = {name: _size(d) for name, d in _definitions((await s.client.list_tools()).tools).items()}
    average = sum(sizes.values()) / len(sizes)
    assert average < AVERAGE_BUDGET, f"{spec.package}: {average:.0f} bytes per definition on average"
    largest = max(sizes, key=sizes.__getitem__)
    assert sizes[largest] <= LARGEST_BUDGET, f"{largest} takes {sizes[largest]} bytes"


async def test_all_in_one_lists_the_union_of_the_services(open_server: Any) -> None:
    union: dict[str, dict[str, Any]] = {}
    for spec in SERVICES:
        async with open_server(spec.name) as s:
            union.update(_definitions((await s.client.list_tools()).tools))
    async with open_server(None, services=[s.name for s in SERVICES]) as s:
        together = _definitions((await s.client.list_tools()).tools)
    assert together == union
    assert sum(map(_size, together.values())) / len(together) < AVERAGE_BUDGET


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
async def test_no_redundant_schema_parts(spec: Any, open_server: Any) -> None:
    async with open_server(spec.name) as s:
        definitions = _definitions((await s.client.list_tools()).tools)
    for name, tool in definitions.items():
        props = tool["inputSchema"]["properties"]
        assert "title" not in tool or tool["title"].lower().replace(" ", "_") not in name, name
        assert "openWorldHint" not in tool["annotations"]  # MCP default: true, which is what these are
        assert set(tool["annotations"]) == {"readOnlyHint", "destructiveHint", "idempotentHint"}
        assert tool["inputSchema"]["additionalProperties"] is False
        if "integration_id" in props:
            assert props["integration_id"] == {"type": "string"}, name
        if "limit" in props:
            assert props["limit"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
            assert props["offset"] == {"type": "integer", "minimum": 0, "maximum": 10_000_000}
            assert "maxLength" not in props.get("sort", {})
        for required in tool["inputSchema"].get("required", []):
            assert "minLength" not in props[required] or required == "connector", (name, required)
