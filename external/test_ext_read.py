"""One real read per service through the MCP Inspector CLI, built by the generic walk of its declarations.

For every installed service: its first list tool that needs no parent id is asked (over the sandbox's own
API) for its first record, and that record's get tool is called through the service's own server (stdio)
and through the all-in-one server (streamable HTTP). The Inspector must exit 0 with a result that is not
`isError` and carries that record.
"""

from __future__ import annotations

import json

import pytest
from lab import InspectorRun
from mcp_clients import INSPECTOR_OK, inspector_result, tool_text
from targets import READS


@pytest.mark.parametrize(("target", "transport", "service"), READS)
def test_read_call(read_run: InspectorRun) -> None:
    run = read_run.run
    assert read_run.read is not None
    assert not run.leaked, (
        f"{run.label}: the API key appeared in the Inspector's output (redacted in artifacts)"
    )
    assert run.returncode == INSPECTOR_OK, run.describe()
    result = inspector_result(run)
    assert result.get("isError") is not True, run.describe()
    structured = result.get("structuredContent")
    assert isinstance(structured, dict), f"{read_run.read.tool}: no structured content in {result}"
    record = structured.get("data", structured)
    assert isinstance(record, dict) and str(record.get("id")) == read_run.read.record_id, (
        f"{read_run.read.tool} {read_run.read.arguments}: expected record {read_run.read.record_id}, "
        f"got {json.dumps(structured)[:500]}"
    )
    assert read_run.read.record_id in tool_text(result), "the text content does not carry the record"
