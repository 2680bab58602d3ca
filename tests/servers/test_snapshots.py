"""Snapshots of every server's `tools/list`: what a model sees, pinned.

Regenerate after an intended change:  UPDATE_SNAPSHOTS=1 pytest tests/servers/test_snapshots.py
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from .catalog import SERVICES

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "tests" / "snapshots"
SERVERS = [*SERVICES, "server"]
FIELDS = {"name", "title", "description", "input_schema", "annotations"}
UPDATE_HINT = "UPDATE_SNAPSHOTS=1 pytest tests/servers/test_snapshots.py"
# Average bytes of one full tool definition (compact JSON: name, title, description, inputSchema,
# annotations), per server: every definition is paid in context on every turn (issue 7).
AVERAGE_BUDGET = 600
LARGEST_BUDGET = 1500


def _render(tools: list[Any], server: str) -> str:
    listed = [t.model_dump(mode="json", by_alias=True, exclude_none=True, include=FIELDS) for t in tools]
    return json.dumps({"server": f"unizo-mcp-{server}", "tools": listed}, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("server", SERVERS)
async def test_tools_list_matches_snapshot(server, open_server):
    # the all-in-one server as `unizo-mcp-server[all]` installs it: the four services, in its order
    four = {"UNIZO_SERVICES": ",".join(SERVICES)}
    target = {"service": None, "env": four} if server == "server" else {"service": server}
    async with open_server(**target, mode="legacy") as s:
        current = _render((await s.client.list_tools()).tools, server)
        path = SNAPSHOTS / f"{server}.json"
        if os.environ.get("UPDATE_SNAPSHOTS") == "1":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(current, encoding="utf-8")
        assert path.is_file(), f"no snapshot {path.relative_to(ROOT)}; create it with: {UPDATE_HINT}"
        saved = path.read_text(encoding="utf-8")
        if saved != current:
            old, new = saved.splitlines(True), current.splitlines(True)
            diff = "".join(list(difflib.unified_diff(old, new, "saved", "current"))[:80])
            pytest.fail(
                f"tools/list of unizo-mcp-{server} differs from {path.relative_to(ROOT)}.\n{diff}\n"
                f"If the change is intended, update the snapshot with: {UPDATE_HINT}"
            )


def test_all_in_one_snapshot_is_the_union_of_the_services():
    def tools(name: str) -> list[dict[str, Any]]:
        return json.loads((SNAPSHOTS / f"{name}.json").read_text())["tools"]

    union = [t for service in SERVICES for t in tools(service)]
    assert sorted(tools("server"), key=lambda t: t["name"]) == sorted(union, key=lambda t: t["name"])


def _definition_sizes(server: str) -> dict[str, int]:
    tools = json.loads((SNAPSHOTS / f"{server}.json").read_text())["tools"]
    return {t["name"]: len(json.dumps(t, separators=(",", ":"), ensure_ascii=False)) for t in tools}


@pytest.mark.parametrize("server", SERVICES)
def test_tool_definitions_stay_small(server):
    sizes = _definition_sizes(server)
    average = sum(sizes.values()) / len(sizes)
    assert average < AVERAGE_BUDGET, (
        f"unizo-mcp-{server}: average definition {average:.0f} bytes (budget {AVERAGE_BUDGET})"
    )
    largest = max(sizes, key=sizes.__getitem__)
    assert sizes[largest] <= LARGEST_BUDGET, f"{largest} takes {sizes[largest]} bytes"


def test_all_in_one_definitions_stay_small():
    sizes = _definition_sizes("server")
    assert sum(sizes.values()) / len(sizes) < AVERAGE_BUDGET


def test_no_redundant_schema_parts():
    """What the core leaves out on purpose: guards checked locally, defaults MCP already implies."""
    for server in SERVICES:
        for tool in json.loads((SNAPSHOTS / f"{server}.json").read_text())["tools"]:
            props = tool["inputSchema"]["properties"]
            assert "title" not in tool or tool["title"].lower().replace(" ", "_") not in tool["name"], tool[
                "name"
            ]
            assert "openWorldHint" not in tool["annotations"]  # MCP default: true, which is what these are
            assert set(tool["annotations"]) == {"readOnlyHint", "destructiveHint", "idempotentHint"}
            assert tool["inputSchema"]["additionalProperties"] is False
            if "integration_id" in props:
                assert props["integration_id"] == {"type": "string"}, tool["name"]
            if "limit" in props:
                assert props["limit"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
                assert props["offset"] == {"type": "integer", "minimum": 0, "default": 0}
                assert "maxLength" not in props["sort"]
            for name in tool["inputSchema"].get("required", []):
                assert "minLength" not in props[name] or name == "connector", (tool["name"], name)
