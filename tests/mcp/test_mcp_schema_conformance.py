"""Generated tool schemas are valid JSON Schema (Draft 2020-12).

The servers do not check their schemas at start-up (that cost 10-116 ms per launch); this module is
where that check happens instead: once, for every tool of every installed service and of the test specs.
"""

from __future__ import annotations

import jsonschema
import pytest
from mcp_specs import GADGETS, WIDGETS
from test_mcp_schema import BULK
from unizo_mcp_core.registry import discover_services
from unizo_mcp_core.schema import argument_validator, input_schema
from unizo_mcp_core.spec import ServiceSpec, ToolSpec


def _services() -> list[ServiceSpec]:
    installed = discover_services()
    assert installed, "no Unizo service package is installed (pip install -e packages/...)"
    return [*installed.values(), WIDGETS, GADGETS]


TOOLS: dict[str, ToolSpec] = {t.name: t for s in _services() for t in s.all_tools()}
TOOLS[BULK.name] = BULK
SCHEMAS = {name: input_schema(tool) for name, tool in TOOLS.items()}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_generated_schema_is_valid_json_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMAS[name])
    # and the validator built from it accepts a call with only the required arguments filled
    required = SCHEMAS[name].get("required", [])
    problems = argument_validator(SCHEMAS[name])({n: "x" for n in required})
    assert all("missing required" not in p for p in problems), problems
