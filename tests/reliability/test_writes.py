"""Nothing lost: a write (a create) happens exactly once, or the caller is told it did not happen.

The write is the first create tool of an installed service whose records a list tool at the same path
lists (a ticket, a pull request...), recognised by a unique value in a free-text field. Each fault hits
the creation once. The sandbox's data (records carrying the call's unique value, read back directly from
the API) and its request log (how many POSTs reached it) are the judges: a retry must never create a
second record, and a success must mean exactly one record.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from security.calls import marker_param
from servicekit import has_writes, is_list, is_write, services_where
from unizo_mcp_core.spec import Param, ServiceSpec, ToolSpec

from .conftest import Session, api, rendered, server_session, text_of

# recorded faults after which the request had reached the create handler (no fault: it did too)
HANDLED = (None, "drop_after", "truncate", "nonjson", "latency")
AFTER_WRITE = ("drop_after", "truncate", "nonjson")

# fault on the create call -> (the call succeeds, records that must exist afterwards)
SCENARIOS = {
    "response lost after the write (connection dropped)": ("drop_after", False, 1),
    "truncated response after the write": ("truncate", False, 1),
    "non-JSON response after the write": ("nonjson", False, 1),
    "connection dropped before the write": ("drop", False, 0),
    "503 before the write": ("503", False, 0),
    "502 before the write": ("502", False, 0),
    "429 before the write, Retry-After 0.2 s": ("429:retry_after=0.2", True, 1),
}


def creatable() -> tuple[ServiceSpec, ToolSpec, Param]:
    """(service, create tool, its free-text field): a POST write whose path a list tool lists."""
    for spec in services_where(has_writes):
        lists = {t.path for t in spec.tools if is_list(t)}
        for tool in spec.tools:
            marker = marker_param(tool)
            if is_write(tool) and tool.method == "POST" and tool.path in lists and marker is not None:
                return spec, tool, marker
    raise AssertionError("no installed service has a create tool whose records a list tool lists")


SPEC, CREATE, MARKER = creatable()


class Target:
    """Where the records are created: the create call's real arguments, and its path."""

    def __init__(self, session: Session, args: dict[str, Any]) -> None:
        self.session = session
        self.args = args
        self.path = rendered(CREATE, args)
        self.integration = args["integration_id"]

    async def create(self, value: str) -> Any:
        return await self.session.call(CREATE.name, {**self.args, MARKER.name: value}, timeout=60)

    async def count(self, value: str) -> int:
        """How many records at the path carry `value`, read page by page from the API."""
        found, offset = 0, 0
        while True:
            page = await api(
                self.session.sandbox,
                "GET",
                f"{self.path}?offset={offset}&limit=100",
                integration_id=self.integration,
            )
            found += sum(1 for record in page["data"] if record.get(MARKER.wire_name) == value)
            following = page["pagination"].get("next")
            if not following or following <= offset:
                return found
            offset = following

    def posts(self) -> list[Any]:
        path = "/api/v1" + self.path
        return [e for e in self.session.sandbox.requests() if e.method == "POST" and e.path == path]


async def target(session: Session) -> Target:
    return Target(session, await session.args(SPEC, CREATE))


async def test_a_write_happens_exactly_once_or_the_caller_is_told(sandbox: Any) -> None:
    problems = []
    async with server_session(sandbox, [SPEC]) as session:
        where = await target(session)
        for label, (fault, succeeds, created) in SCENARIOS.items():
            name = f"reliability {uuid.uuid4().hex[:12]}"
            sandbox.clear_requests()
            sandbox.set_faults(f"POST /api/v1{where.path}={fault}#1")
            result = await where.create(name)
            sandbox.set_faults(None)
            count = await where.count(name)
            handled = [p for p in where.posts() if p.fault in HANDLED]
            if count > 1 or len(handled) > 1:
                problems.append(f"{label}: DUPLICATE: {count} records, {len(handled)} POSTs handled")
            if not result.is_error and count != 1:
                problems.append(f"{label}: the call succeeded but {count} records exist")
            if result.is_error != (not succeeds):
                problems.append(
                    f"{label}: expected {'success' if succeeds else 'a tool error'}, got "
                    f"{'an error' if result.is_error else 'success'}: {text_of(result)[:300]}"
                )
            if count != created:
                problems.append(f"{label}: expected {created} record(s), found {count}")
            if result.is_error and fault in AFTER_WRITE and "may have been" not in text_of(result).lower():
                # the write happened: the caller must not be left believing it did not
                problems.append(f"{label}: the error does not say the record may exist: {text_of(result)}")
        # and the server still writes normally
        name = f"reliability {uuid.uuid4().hex[:12]}"
        assert not (await where.create(name)).is_error
        assert await where.count(name) == 1
    assert not problems, "\n".join(problems)


@pytest.mark.slow
async def test_a_write_timing_out_is_not_retried(sandbox: Any) -> None:
    """The API is slower than UNIZO_TIMEOUT on a create: a timeout error, not retried, no duplicate."""
    async with server_session(sandbox, [SPEC], env={"UNIZO_TIMEOUT": "0.5"}) as session:
        where = await target(session)
        name = f"reliability {uuid.uuid4().hex[:12]}"
        sandbox.clear_requests()
        sandbox.set_faults(f"POST /api/v1{where.path}=latency:800#1")
        result = await where.create(name)
        sandbox.set_faults(None)
        assert result.is_error and "UNIZO_TIMEOUT" in text_of(result), text_of(result)
        assert "may have been" in text_of(result).lower(), f"not told the write may exist: {text_of(result)}"
        # the slow request is still being handled by the sandbox: wait until it is recorded
        for _ in range(200):
            if where.posts():
                break
            await asyncio.sleep(0.05)
        assert len(where.posts()) == 1, "the timed-out create was sent again"
        # the sandbox applies latency before reading the body, so the abandoned request may or may not
        # have been written; either way at most once, and the caller was told the call failed
        assert await where.count(name) <= 1
