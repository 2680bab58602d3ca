"""Nothing lost: a write (create ticket) happens exactly once, or the caller is told it did not happen.

Each fault hits the ticket creation once. The sandbox's data (tickets with the call's unique name, read
back directly from the API) and its request log (how many POSTs reached it) are the judges: a retry must
never create a second ticket, and a success must mean exactly one ticket.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from .conftest import Session, api, server_session, text_of

TICKETS = "/ticketing/{org}/collections/{collection}/tickets"
# recorded faults after which the request had reached the ticket handler (no fault: it did too)
HANDLED = (None, "drop_after", "truncate", "nonjson", "latency")
AFTER_WRITE = ("drop_after", "truncate", "nonjson")

# fault on the create call -> (the call succeeds, tickets that must exist afterwards)
SCENARIOS = {
    "response lost after the write (connection dropped)": ("drop_after", False, 1),
    "truncated response after the write": ("truncate", False, 1),
    "non-JSON response after the write": ("nonjson", False, 1),
    "connection dropped before the write": ("drop", False, 0),
    "503 before the write": ("503", False, 0),
    "502 before the write": ("502", False, 0),
    "429 before the write, Retry-After 0.2 s": ("429:retry_after=0.2", True, 1),
}


async def collection(sandbox: Any) -> tuple[str, str, str]:
    integration = sandbox.integrations("ticketing")[0]["id"]
    org = (await api(sandbox, "GET", "/ticketing/organizations", integration_id=integration))["data"][0]["id"]
    collections = await api(sandbox, "GET", f"/ticketing/{org}/collections", integration_id=integration)
    return integration, org, collections["data"][0]["id"]


async def tickets_named(sandbox: Any, integration: str, org: str, coll: str, name: str) -> int:
    """How many tickets of the collection carry `name`, read page by page from the API."""
    found, offset = 0, 0
    path = TICKETS.format(org=org, collection=coll)
    while True:
        page = await api(sandbox, "GET", f"{path}?offset={offset}&limit=100", integration_id=integration)
        found += sum(1 for ticket in page["data"] if ticket.get("name") == name)
        following = page["pagination"].get("next")
        if not following or following <= offset:
            return found
        offset = following


async def create(session: Session, integration: str, org: str, coll: str, name: str) -> Any:
    args = {
        "integration_id": integration,
        "organization_id": org,
        "collection_id": coll,
        "name": name,
        "description": "reliability suite",
        "type": "task",
    }
    return await session.call("ticketing_create_ticket", args, timeout=60)


def posts_of(sandbox: Any, org: str, coll: str) -> list[Any]:
    path = "/api/v1" + TICKETS.format(org=org, collection=coll)
    return [e for e in sandbox.requests() if e.method == "POST" and e.path == path]


async def test_a_write_happens_exactly_once_or_the_caller_is_told(sandbox: Any) -> None:
    integration, org, coll = await collection(sandbox)
    problems = []
    async with server_session(sandbox, ("ticketing",)) as session:
        for label, (fault, succeeds, created) in SCENARIOS.items():
            name = f"reliability {uuid.uuid4().hex[:12]}"
            sandbox.clear_requests()
            sandbox.set_faults(f"POST */tickets={fault}#1")
            result = await create(session, integration, org, coll, name)
            sandbox.set_faults(None)
            count = await tickets_named(sandbox, integration, org, coll, name)
            posts = posts_of(sandbox, org, coll)
            handled = [p for p in posts if p.fault in HANDLED]
            if count > 1 or len(handled) > 1:
                problems.append(f"{label}: DUPLICATE: {count} tickets, {len(handled)} POSTs handled")
            if not result.is_error and count != 1:
                problems.append(f"{label}: the call succeeded but {count} tickets exist")
            if result.is_error != (not succeeds):
                problems.append(
                    f"{label}: expected {'success' if succeeds else 'a tool error'}, got "
                    f"{'an error' if result.is_error else 'success'}: {text_of(result)[:300]}"
                )
            if count != created:
                problems.append(f"{label}: expected {created} ticket(s), found {count}")
            if result.is_error and fault in AFTER_WRITE and "may have been" not in text_of(result).lower():
                # the write happened: the caller must not be left believing it did not
                problems.append(f"{label}: the error does not say the ticket may exist: {text_of(result)}")
        # and the server still writes normally
        name = f"reliability {uuid.uuid4().hex[:12]}"
        assert not (await create(session, integration, org, coll, name)).is_error
        assert await tickets_named(sandbox, integration, org, coll, name) == 1
    assert not problems, "\n".join(problems)


@pytest.mark.slow
async def test_a_write_timing_out_is_not_retried(sandbox: Any) -> None:
    """The API is slower than UNIZO_TIMEOUT on a create: a timeout error, not retried, no duplicate."""
    integration, org, coll = await collection(sandbox)
    async with server_session(sandbox, ("ticketing",), env={"UNIZO_TIMEOUT": "1"}) as session:
        name = f"reliability {uuid.uuid4().hex[:12]}"
        sandbox.set_faults("POST */tickets=latency:3000#1")
        result = await create(session, integration, org, coll, name)
        sandbox.set_faults(None)
        assert result.is_error and "UNIZO_TIMEOUT" in text_of(result), text_of(result)
        assert "may have been" in text_of(result).lower(), f"not told the write may exist: {text_of(result)}"
        # the slow request is still being handled by the sandbox: wait until it is recorded
        for _ in range(200):
            if posts_of(sandbox, org, coll):
                break
            await asyncio.sleep(0.05)
        assert len(posts_of(sandbox, org, coll)) == 1, "the timed-out create was sent again"
        # the sandbox applies latency before reading the body, so the abandoned request may or may not
        # have been written; either way at most once, and the caller was told the call failed
        assert await tickets_named(sandbox, integration, org, coll, name) <= 1
