"""Observability: every tool against the sandbox (generated from the declarations and this table) and its
snapshot."""

from servicekit import Example, service_tests
from unizo_mcp_observability.tools import SERVICE

EXAMPLES = {
    "observability_list_logs": Example({"sort": "-timestamp", "limit": 5}),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)
