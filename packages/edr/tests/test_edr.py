"""EDR: every tool against the sandbox (generated from the declarations and this table) and its snapshot."""

from servicekit import Example, service_tests
from unizo_mcp_edr.tools import SERVICE

EXAMPLES = {
    "edr_list_devices": Example({"limit": 5, "sort": "id"}),
    "edr_list_device_alerts": Example({"sort": "-severity"}),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)
