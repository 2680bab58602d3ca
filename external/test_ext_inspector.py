"""The MCP Inspector CLI (a client nobody here wrote) drives every server over stdio and streamable HTTP.

Per server and transport: `tools/list` (with `--strict` schema portability checks), one successful
`tools/call` (`<svc>_list_connectors` of a category; an account-level service's first list) and one failing
call (a get tool with an id that does not exist).
The servers are every installed service's and the all-in-one server (`targets.TARGETS`, from the registry).
The assertions are on the Inspector's exit codes and its JSON, as a CI script using it would see them.
"""

from __future__ import annotations

import json
import re

import pytest
from lab import InspectorRun
from mcp_clients import (
    INSPECTOR_OK,
    INSPECTOR_TOOL_ERROR,
    ToolRun,
    inspector_result,
    tool_text,
)
from targets import (
    DISCOVERY_TOOLS,
    TARGETS,
    declared_tools,
    effective_hints,
    expected_hints,
    has_discovery,
    installed_services,
)

TRANSPORTS = ("stdio", "http")
pytestmark = [
    pytest.mark.parametrize("transport", TRANSPORTS),
    pytest.mark.parametrize("target", list(TARGETS)),
]


def _no_leak(run: ToolRun) -> None:
    assert not run.leaked, (
        f"{run.label}: the API key appeared in the Inspector's output (redacted in artifacts)"
    )


@pytest.mark.inspector_call("tools-list")
def test_tools_list(inspector_run: InspectorRun) -> None:
    run = inspector_run.run
    _no_leak(run)
    assert run.returncode == INSPECTOR_OK, run.describe()
    tools = inspector_result(run).get("tools")
    assert isinstance(tools, list), run.describe()
    seen = {t["name"]: t for t in tools}
    assert len(seen) == len(tools), f"duplicate tool names: {sorted(t['name'] for t in tools)}"

    # Exactly the declared surface (the full-access key hides nothing), with the declared annotations.
    services = inspector_run.target.expected_services()
    if inspector_run.target.services is None:  # the all-in-one server: every installed service
        assert services == installed_services() and services, f"installed services: {services}"
    declared = declared_tools(services)
    assert sorted(seen) == sorted(declared)
    # Compared as a host understands them: a hint left out means the MCP default.
    wrong = {
        name: (seen[name].get("annotations"), want)
        for name, want in declared.items()
        if effective_hints(seen[name].get("annotations")) != effective_hints(want)
    }
    assert not wrong, f"annotations differ from the declarations (seen, declared): {wrong}"

    # Independent rules: every category has its discovery tools, and a tool's verb fixes its hints.
    for service in filter(has_discovery, services):
        for pattern in DISCOVERY_TOOLS:
            assert pattern.format(service=service) in seen, f"{pattern.format(service=service)} missing"
    for name, tool in seen.items():
        hints = expected_hints(name, services)
        got = effective_hints(tool.get("annotations"))
        assert hints is None or got == hints, (
            f"{name}: annotations {tool.get('annotations')} mean {got}, expected {hints}"
        )

    for tool in tools:
        assert tool.get("description"), f"{tool['name']} has no description"
        schema = tool.get("inputSchema") or {}
        assert schema.get("type") == "object", f"{tool['name']}: inputSchema {schema}"
        prefixes = tuple(f"{s}_" for s in services)
        assert tool["name"].startswith(prefixes), f"{tool['name']} belongs to another service"


@pytest.mark.inspector_call("ok-call")
def test_successful_call(inspector_run: InspectorRun) -> None:
    run = inspector_run.run
    _no_leak(run)
    assert run.returncode == INSPECTOR_OK, run.describe()
    result = inspector_result(run)
    assert result.get("isError") is not True, run.describe()
    assert result.get("content"), f"no content in {result}"
    structured = result.get("structuredContent")
    assert isinstance(structured, dict) and isinstance(structured.get("data"), list), result
    if not has_discovery(inspector_run.target.ok_service):
        # An account-level list: the first record the sandbox lists over its own API is in the result.
        assert inspector_run.first_record, "the sandbox lists nothing for this account-level tool"
        ids = [str(item.get("id")) for item in structured["data"] if isinstance(item, dict)]
        assert inspector_run.first_record in ids, f"{inspector_run.first_record} missing from {result}"
        return
    # The connectors the sandbox has for this service appear in the result (text or structured).
    rendered = (tool_text(result) + json.dumps(result.get("structuredContent"))).lower()
    assert inspector_run.connectors, "the sandbox reports no connectors for this service"
    missing = sorted(c for c in inspector_run.connectors if c not in rendered)
    assert not missing, f"connectors {missing} missing from {inspector_run.target.ok_tool}: {result}"
    # Structured output (the core's `{"data": ...}` envelope) carries exactly those connectors.
    assert {str(c).lower() for c in structured["data"]} == inspector_run.connectors, result


@pytest.mark.inspector_call("error-call")
def test_error_call(inspector_run: InspectorRun) -> None:
    run = inspector_run.run
    _no_leak(run)
    # Exit code 5 is the Inspector's "the tool returned isError:true".
    assert run.returncode == INSPECTOR_TOOL_ERROR, run.describe()
    envelope = run.stderr_json()
    assert envelope and envelope.get("error", {}).get("code") == "tool_is_error", run.describe()
    result = inspector_result(run)
    assert result.get("isError") is True, run.describe()
    text = tool_text(result)
    missing_id = inspector_run.error_args[inspector_run.error_param]
    # Actionable: says what was not found, that the API said 404, and what to do next.
    assert missing_id in text, f"the error does not name the id: {text!r}"
    assert re.search(r"not found", text, re.IGNORECASE), f"the error does not say 'not found': {text!r}"
    assert "404" in text, f"the error does not carry the API status: {text!r}"
    next_step = r"check the id|list .*to find|list the .* use one of their ids"
    assert re.search(next_step, text, re.IGNORECASE), f"no next step in: {text!r}"
    assert "Traceback" not in text and "Traceback" not in run.stderr, run.describe()
