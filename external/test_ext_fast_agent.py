"""fast-agent's `passthrough` model calls tools of the servers from the entries they print.

The service is the first installed one that declares a write tool (`walk.service_with_writes`); every call
is one `fast-agent go` run of the config `fast-agent.yaml` (the printed entries under `mcp.servers`):

- list, get and write through the service's own server, whose key reaches it only through fast-agent's
  expansion of the entry's `${UNIZO_<SERVICE>_API_KEY}` placeholder (fast-agent passes stdio servers a
  minimal environment). The get reads a record the list returned; the write's request is checked in the
  sandbox's own request log, made with that service's key.
- a refused call: the same write through the all-in-one server, whose entry reads the sandbox's read-only
  key from UNIZO_API_KEY_FILE. The server hides the write tools from that key, so fast-agent refuses the
  call itself (its result lists the tools it has: every read tool, no write tool) and the API sees nothing.
"""

from __future__ import annotations

import re
from typing import Any

from fast_agent import AgentCall, FastAgentReport
from servicekit import expected_path, is_write
from targets import specs

NAMESPACED = re.compile(r"\b[\w-]+__(\w+)")  # fast-agent lists a server's tools as <server>__<tool>


def _answered(call: AgentCall, server: str) -> None:
    run = call.run
    assert not run.leaked, f"{run.label}: an API key appeared in fast-agent's output (redacted in artifacts)"
    assert run.returncode == 0, call.describe()
    assert call.result is not None, f"no tool result in fast-agent's --results history\n{call.describe()}"
    assert call.answered_by == server, f"answered by {call.answered_by!r}, not {server}\n{call.describe()}"


def _succeeded(call: AgentCall, server: str) -> Any:
    _answered(call, server)
    assert not call.is_error, f"{call.tool} failed: {call.text}\n{call.describe()}"
    return call.data


def test_list(fast_agent_report: FastAgentReport) -> None:
    call = fast_agent_report.calls["list"]
    records = _succeeded(call, fast_agent_report.service_server)
    assert isinstance(records, list) and records, f"{call.tool} listed nothing: {call.result}"
    ids = [str(r.get("id")) for r in records if isinstance(r, dict)]
    assert len(ids) == len(records) and all(ids), f"records without an id: {records}"
    limit = call.arguments.get("limit")
    assert limit is None or len(records) <= limit, f"{len(records)} records for limit {limit}"
    assert all(i in call.text for i in ids), "the text content does not carry the listed ids"


def test_get_reads_a_listed_record(fast_agent_report: FastAgentReport) -> None:
    listed = fast_agent_report.calls["list"].data
    assert "get" in fast_agent_report.calls, f"no record id in the list result: {listed}"
    call = fast_agent_report.calls["get"]
    record = _succeeded(call, fast_agent_report.service_server)
    wanted = str(listed[0]["id"])
    assert isinstance(record, dict) and str(record.get("id")) == wanted, (
        f"{call.tool} {call.arguments}: expected record {wanted}, got {call.result}"
    )
    assert wanted in call.text


def test_write(fast_agent_report: FastAgentReport, sandbox_server: Any) -> None:
    from unizo_mcp_sandbox.testing import service_role

    plan = fast_agent_report.plan
    call = fast_agent_report.calls["write"]
    written = _succeeded(call, fast_agent_report.service_server)
    assert written, f"{call.tool} returned no data: {call.result}"
    if plan.write_check is not None:  # the service's own Example check of what was written
        plan.write_check(written)
    # The sandbox received the write, made with the service's own key: the placeholder was expanded.
    path = expected_path(plan.writer, plan.write_args)
    key_id = sandbox_server.key_id(service_role(plan.service))
    seen = [
        (r.status, r.key_id)
        for r in sandbox_server.requests()
        if r.method == plan.writer.method and r.raw_path.split("?")[0] == path
    ]
    assert any(200 <= status < 300 and key == key_id for status, key in seen), (
        f"no successful {plan.writer.method} {path} with the {plan.service} key in the sandbox log: {seen}"
    )


def test_write_refused_with_the_read_only_key(
    fast_agent_report: FastAgentReport, sandbox_server: Any
) -> None:
    plan = fast_agent_report.plan
    call = fast_agent_report.calls["refused"]
    run = call.run
    assert not run.leaked, f"{run.label}: an API key appeared in fast-agent's output (redacted in artifacts)"
    assert run.returncode == 0, call.describe()
    assert call.result is not None and call.is_error, f"the write was not refused\n{call.describe()}"
    assert call.answered_by is None, f"the server answered; it should not list the tool\n{call.describe()}"
    assert plan.writer.name in call.text and "not available" in call.text, call.text
    # What the all-in-one server listed for the read-only key: every read tool of every service, no write.
    # fast-agent's own environment holds UNIZO_<SERVICE>_API_KEY keys that may write, and such a variable
    # wins over UNIZO_API_KEY_FILE: no write listed also shows fast-agent passed the server only its entry.
    listed = set(NAMESPACED.findall(call.text))
    tools = [t for spec in specs().values() for t in spec.all_tools()]
    reads = {t.name for t in tools if not is_write(t)}
    writes = {t.name for t in tools if is_write(t)}
    assert reads <= listed, f"read tools missing from the all-in-one server: {sorted(reads - listed)}"
    assert not writes & listed, f"write tools listed for a read-only key: {sorted(writes & listed)}"
    # Nothing reached the API with the read-only key on the write's path.
    path = expected_path(plan.writer, plan.write_args)
    readonly = sandbox_server.key_id("readonly")
    sent = [
        r
        for r in sandbox_server.requests()
        if r.key_id == readonly and r.method == plan.writer.method and r.raw_path.split("?")[0] == path
    ]
    assert not sent, f"the read-only key reached {path}: {sent}"
