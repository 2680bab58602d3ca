"""Streamable HTTP needs the bearer token, seen from outside: the MCP Inspector CLI against every server.

Each server runs with the run's own `UNIZO_HTTP_TOKEN`. `tools/list` without an `Authorization` header,
and with a well-formed token that is not the server's, fails the way a CI script sees it: the Inspector
exits 3 ("auth required") with the server's 401 JSON-RPC error in its error envelope. The same call with
`--header "Authorization: Bearer <token>"` succeeds (it is the `tools-list` run of test_ext_inspector.py).
"""

from __future__ import annotations

import pytest
from lab import AUTH_CALLS, InspectorRun
from mcp_clients import INSPECTOR_AUTH_REQUIRED, INSPECTOR_OK, inspector_result
from targets import TARGETS

UNAUTHORIZED = -32001  # the servers' JSON-RPC error code for a refused request (unizo_mcp_core.httpgate)


@pytest.mark.parametrize("target", list(TARGETS))
def test_http_needs_the_bearer_token(http_auth_runs: dict[str, InspectorRun]) -> None:
    for call in (*AUTH_CALLS, "tools-list"):
        assert not http_auth_runs[call].run.leaked, f"{call}: a secret appeared in the Inspector's output"

    for call in AUTH_CALLS:
        run = http_auth_runs[call].run
        assert run.returncode == INSPECTOR_AUTH_REQUIRED, run.describe()
        envelope = run.stderr_json()
        assert envelope and envelope.get("error", {}).get("code") == "auth_required", run.describe()
        message = str(envelope["error"].get("message", ""))
        # The server's own 401 body, relayed by the Inspector: refused by the server, not by the network.
        assert str(UNAUTHORIZED) in message and "Unauthorized" in message, run.describe()
        assert '"result"' not in run.stdout, f"{call}: a result came back without the token\n{run.describe()}"

    with_token = http_auth_runs["tools-list"].run
    assert with_token.returncode == INSPECTOR_OK, with_token.describe()
    assert inspector_result(with_token).get("tools"), with_token.describe()
