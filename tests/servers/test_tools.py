"""Every tool of every server, in process against the sandbox: one call that succeeds, one that fails.

Success cases walk the seeded data (list → pick ids → get; creates with valid bodies) and check the
sandbox received exactly the intended method and path. Failure cases check the actionable message:
an unknown id gives the API's 404 naming it; a key without the permission gives the 403 naming the
service and the action (the key is rotated under the running server, so the API itself refuses).
A tool without a case fails `test_every_tool_has_cases`.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import attrs
import pytest

from .catalog import ROUTES
from servicekit import Session
from unizo_testkit import text_of

API = "/api/v1"
SEARCH = ("POST", API + "/integrations/search")
MISSING = "does-not-exist-4242"


@attrs.frozen
class Call:
    args: dict[str, Any]
    method: str
    path: str  # decoded path under /api/v1, as the sandbox records it
    check: Callable[[Any], None] | None = None  # on the result's data


Case = Callable[[Session], Awaitable[Call]]
SUCCESS: dict[str, Case] = {}


def success(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        assert name not in SUCCESS, name
        SUCCESS[name] = fn
        return fn

    return register


def first_id(items: list[dict[str, Any]]) -> str:
    assert items, "the sandbox returned an empty list"
    return str(items[0]["id"])


# --- discovery (every service) ---------------------------------------------------------------------


def _discovery_cases(service: str, connector: str) -> None:
    @success(f"{service}_list_connectors")
    async def _connectors(s: Session) -> Call:
        def check(data: Any) -> None:
            names = [c["name"] if isinstance(c, dict) else c for c in data]
            assert connector in names

        return Call({}, *SEARCH, check)

    @success(f"{service}_list_integrations")
    async def _integrations(s: Session) -> Call:
        def check(data: Any) -> None:
            assert data and all(set(i) >= {"id", "name"} for i in data)

        return Call({"connector": connector}, *SEARCH, check)


_discovery_cases("edr", "crowdstrike")
_discovery_cases("scm", "github")
_discovery_cases("ticketing", "jira")
_discovery_cases("observability", "datadog")


# --- EDR -----------------------------------------------------------------------------------------


async def _device_with_alerts(s: Session) -> tuple[str, str, str]:
    iid = await s.integration("edr")
    devices = await s.data("edr_list_devices", {"integration_id": iid, "limit": 20})
    for device in devices:
        alerts = await s.data("edr_list_device_alerts", {"integration_id": iid, "device_id": device["id"]})
        if alerts:
            return iid, device["id"], alerts[0]["id"]
    raise AssertionError("no device with alerts among the first 20")


@success("edr_list_devices")
async def _(s: Session) -> Call:
    iid = await s.integration("edr")
    return Call({"integration_id": iid, "limit": 5, "sort": "id"}, "GET", f"{API}/edr/devices", _has_items(5))


@success("edr_get_device_details")
async def _(s: Session) -> Call:
    iid = await s.integration("edr")
    device = first_id(await s.data("edr_list_devices", {"integration_id": iid, "limit": 1}))
    return Call(
        {"integration_id": iid, "device_id": device}, "GET", f"{API}/edr/devices/{device}", _is(device)
    )


@success("edr_list_device_alerts")
async def _(s: Session) -> Call:
    iid, device, _alert = await _device_with_alerts(s)
    path = f"{API}/edr/devices/{device}/alerts"
    return Call({"integration_id": iid, "device_id": device, "sort": "-severity"}, "GET", path, _has_items())


@success("edr_get_device_alert_details")
async def _(s: Session) -> Call:
    iid, device, alert = await _device_with_alerts(s)
    path = f"{API}/edr/devices/{device}/alerts/{alert}"
    return Call({"integration_id": iid, "device_id": device, "alert_id": alert}, "GET", path, _is(alert))


# --- SCM -----------------------------------------------------------------------------------------


async def _repo(s: Session) -> tuple[dict[str, str], str]:
    iid = await s.integration("scm")
    org = first_id(await s.data("scm_list_organizations", {"integration_id": iid}))
    repo = first_id(await s.data("scm_list_repositories", {"integration_id": iid, "organization_id": org}))
    ids = {"integration_id": iid, "organization_id": org, "repository_id": repo}
    return ids, f"{API}/scm/organizations/{org}/repositories/{repo}"


@success("scm_list_organizations")
async def _(s: Session) -> Call:
    iid = await s.integration("scm")
    return Call({"integration_id": iid}, "GET", f"{API}/scm/organizations", _has_items())


@success("scm_get_organization")
async def _(s: Session) -> Call:
    iid = await s.integration("scm")
    org = first_id(await s.data("scm_list_organizations", {"integration_id": iid}))
    return Call(
        {"integration_id": iid, "organization_id": org}, "GET", f"{API}/scm/organizations/{org}", _is(org)
    )


@success("scm_list_repositories")
async def _(s: Session) -> Call:
    iid = await s.integration("scm")
    org = first_id(await s.data("scm_list_organizations", {"integration_id": iid}))
    path = f"{API}/scm/organizations/{org}/repositories"
    return Call({"integration_id": iid, "organization_id": org, "limit": 3}, "GET", path, _has_items(3))


@success("scm_get_repository")
async def _(s: Session) -> Call:
    ids, path = await _repo(s)
    return Call(ids, "GET", path, _is(ids["repository_id"]))


@success("scm_list_branches")
async def _(s: Session) -> Call:
    ids, path = await _repo(s)
    return Call({**ids, "sort": "name"}, "GET", path + "/branches", _has_items())


@success("scm_get_branch")
async def _(s: Session) -> Call:
    ids, path = await _repo(s)
    branch = first_id(await s.data("scm_list_branches", ids))
    return Call({**ids, "branch_id": branch}, "GET", f"{path}/branches/{branch}", _is(branch))


@success("scm_list_commits")
async def _(s: Session) -> Call:
    ids, path = await _repo(s)
    return Call({**ids, "offset": 1, "limit": 2}, "GET", path + "/commits", _has_items(2))


@success("scm_get_commit")
async def _(s: Session) -> Call:
    ids, path = await _repo(s)
    commit = first_id(await s.data("scm_list_commits", ids))
    return Call({**ids, "commit_id": commit}, "GET", f"{path}/commits/{commit}", _is(commit))


@success("scm_list_pull_requests")
async def _(s: Session) -> Call:
    ids, path = await _repo(s)
    return Call(ids, "GET", path + "/pullRequests", _has_items())


@success("scm_get_pull_request")
async def _(s: Session) -> Call:
    ids, path = await _repo(s)
    pr = first_id(await s.data("scm_list_pull_requests", ids))
    return Call({**ids, "pull_request_id": pr}, "GET", f"{path}/pullRequests/{pr}", _is(pr))


@success("scm_create_pull_request")
async def _(s: Session) -> Call:
    ids, path = await _repo(s)
    branches = [b["name"] for b in await s.data("scm_list_branches", ids) if b["name"] != "main"]
    args = {
        **ids,
        "title": "Add MCP test",
        "source": branches[0],
        "target": "main",
        "description": "From a test.",
    }

    def check(data: Any) -> None:
        assert data["title"] == "Add MCP test" and data["source"] == branches[0] and data["target"] == "main"
        assert data["state"] == "opened"

    return Call(args, "POST", path + "/pullRequests", check)


@success("scm_update_pull_request")
async def _(s: Session) -> Call:
    ids, path = await _repo(s)
    pr = first_id(await s.data("scm_list_pull_requests", ids))

    def check(data: Any) -> None:
        assert data["id"] == pr and data["state"] == "closed" and data["title"] == "Renamed by a test"

    args = {**ids, "pull_request_id": pr, "state": "closed", "title": "Renamed by a test"}
    return Call(args, "PUT", f"{path}/pullRequests/{pr}", check)


# --- Ticketing -----------------------------------------------------------------------------------


async def _collection(s: Session) -> tuple[dict[str, str], str]:
    iid = await s.integration("ticketing")
    org = first_id(await s.data("ticketing_list_organizations", {"integration_id": iid}))
    col = first_id(
        await s.data("ticketing_list_collections", {"integration_id": iid, "organization_id": org})
    )
    ids = {"integration_id": iid, "organization_id": org, "collection_id": col}
    return ids, f"{API}/ticketing/{org}/collections/{col}/tickets"


async def _ticket_with(s: Session, children: str) -> tuple[dict[str, str], str, str]:
    """A ticket that has seeded `children` (comments, attachments, labels), and the first child's id."""
    ids, tickets = await _collection(s)
    for ticket in await s.data("ticketing_list_tickets", {**ids, "limit": 50}):
        args = {**ids, "ticket_id": ticket["id"]}
        found = await s.data(f"ticketing_list_{children}", args)
        if found:
            return args, f"{tickets}/{ticket['id']}", str(found[0]["id"])
    raise AssertionError(f"no ticket with {children} among the first 50")


async def _ticket(s: Session) -> tuple[dict[str, str], str]:
    ids, tickets = await _collection(s)
    ticket = first_id(await s.data("ticketing_list_tickets", ids))
    return {**ids, "ticket_id": ticket}, f"{tickets}/{ticket}"


@success("ticketing_list_organizations")
async def _(s: Session) -> Call:
    iid = await s.integration("ticketing")
    return Call({"integration_id": iid}, "GET", f"{API}/ticketing/organizations", _has_items())


@success("ticketing_get_organization")
async def _(s: Session) -> Call:
    iid = await s.integration("ticketing")
    org = first_id(await s.data("ticketing_list_organizations", {"integration_id": iid}))
    path = f"{API}/ticketing/organizations/{org}"
    return Call({"integration_id": iid, "organization_id": org}, "GET", path, _is(org))


@success("ticketing_list_collections")
async def _(s: Session) -> Call:
    iid = await s.integration("ticketing")
    org = first_id(await s.data("ticketing_list_organizations", {"integration_id": iid}))
    path = f"{API}/ticketing/{org}/collections"
    return Call({"integration_id": iid, "organization_id": org}, "GET", path, _has_items())


@success("ticketing_get_collection")
async def _(s: Session) -> Call:
    ids, _ = await _collection(s)
    path = f"{API}/ticketing/{ids['organization_id']}/collections/{ids['collection_id']}"
    return Call(ids, "GET", path, _is(ids["collection_id"]))


@success("ticketing_list_users")
async def _(s: Session) -> Call:
    iid = await s.integration("ticketing")
    return Call({"integration_id": iid, "limit": 4}, "GET", f"{API}/ticketing/users", _has_items(4))


@success("ticketing_get_user")
async def _(s: Session) -> Call:
    iid = await s.integration("ticketing")
    user = first_id(await s.data("ticketing_list_users", {"integration_id": iid}))
    return Call({"integration_id": iid, "user_id": user}, "GET", f"{API}/ticketing/users/{user}", _is(user))


@success("ticketing_list_tickets")
async def _(s: Session) -> Call:
    ids, tickets = await _collection(s)
    return Call({**ids, "limit": 10}, "GET", tickets, _has_items())


@success("ticketing_get_ticket")
async def _(s: Session) -> Call:
    ids, path = await _ticket(s)
    return Call(ids, "GET", path, _is(ids["ticket_id"]))


@success("ticketing_create_ticket")
async def _(s: Session) -> Call:
    ids, tickets = await _collection(s)
    user = first_id(await s.data("ticketing_list_users", {"integration_id": ids["integration_id"]}))
    args = {
        **ids,
        "name": "Rotate the leaked token",
        "description": "Found by the MCP server test.",
        "type": "security",
        "priority": "critical",
        "assignee_ids": [user],
        "labels": ["security", "mcp"],
        "due_date": "2026-12-31",
    }

    def check(data: Any) -> None:
        assert data["name"] == "Rotate the leaked token" and data["type"] == "security" and data["id"]

    return Call(args, "POST", tickets, check)


@success("ticketing_create_bulk_tickets")
async def _(s: Session) -> Call:
    ids, tickets = await _collection(s)
    batch = [
        {"name": "Bulk one", "description": "First of two.", "type": "task"},
        {"name": "Bulk two", "description": "Second of two.", "type": "bug", "priority": "low"},
    ]

    def check(data: Any) -> None:
        assert "Bulk one" in str(data) and "Bulk two" in str(data)

    return Call({**ids, "tickets": batch, "notify": False}, "POST", tickets + "/bulk", check)


@success("ticketing_update_ticket")
async def _(s: Session) -> Call:
    ids, path = await _ticket(s)

    def check(data: Any) -> None:
        assert data["id"] == ids["ticket_id"] and data["status"] == "in_progress"

    return Call({**ids, "status": "in_progress", "priority": "high"}, "PUT", path, check)


@success("ticketing_link_tickets")
async def _(s: Session) -> Call:
    ids, tickets = await _collection(s)
    listed = await s.data("ticketing_list_tickets", {**ids, "limit": 2})
    source, target = listed[0]["id"], listed[1]["id"]
    args = {**ids, "ticket_id": source, "linked_ticket_id": target, "relationship_type": "blocks"}

    def check(data: Any) -> None:
        assert source in str(data) and target in str(data)

    return Call({**args, "description": "Found together."}, "POST", tickets + "/link", check)


@success("ticketing_list_comments")
async def _(s: Session) -> Call:
    args, path, _ = await _ticket_with(s, "comments")
    return Call(args, "GET", path + "/comments", _has_items())


@success("ticketing_get_comment")
async def _(s: Session) -> Call:
    args, path, comment = await _ticket_with(s, "comments")
    return Call({**args, "comment_id": comment}, "GET", f"{path}/comments/{comment}", _is(comment))


@success("ticketing_create_comment")
async def _(s: Session) -> Call:
    ids, path = await _ticket(s)

    def check(data: Any) -> None:
        assert data["content"] == "Looked at it from MCP." and data["isInternal"] is True

    return Call(
        {**ids, "content": "Looked at it from MCP.", "is_internal": True}, "POST", path + "/comments", check
    )


@success("ticketing_list_attachments")
async def _(s: Session) -> Call:
    args, path, _ = await _ticket_with(s, "attachments")
    return Call(args, "GET", path + "/attachments", _has_items())


@success("ticketing_get_attachment")
async def _(s: Session) -> Call:
    args, path, attachment = await _ticket_with(s, "attachments")
    return Call(
        {**args, "attachment_id": attachment}, "GET", f"{path}/attachments/{attachment}", _is(attachment)
    )


@success("ticketing_create_attachment")
async def _(s: Session) -> Call:
    ids, path = await _ticket(s)
    content = b"line one\nline two\n"
    args = {
        **ids,
        "file_data": base64.b64encode(content).decode(),
        "file_name": "notes.txt",
        "mime_type": "text/plain",
        "description": "Test upload",
    }

    def check(data: Any) -> None:
        assert data["fileName"] == "notes.txt" and data["mimeType"] == "text/plain"
        assert data["fileSize"] == len(content)

    return Call(args, "POST", path + "/attachments", check)


@success("ticketing_list_labels")
async def _(s: Session) -> Call:
    args, path, _ = await _ticket_with(s, "labels")
    return Call({**args, "limit": 100}, "GET", path + "/labels", _has_items())


@success("ticketing_create_label")
async def _(s: Session) -> Call:
    ids, path = await _ticket(s)

    def check(data: Any) -> None:
        assert data["name"] == "needs-triage" and data["color"].lower() == "#ff8800"

    args = {**ids, "name": "needs-triage", "color": "#FF8800", "category": "process"}
    return Call(args, "POST", path + "/labels", check)


# --- Observability -------------------------------------------------------------------------------


@success("observability_list_logs")
async def _(s: Session) -> Call:
    iid = await s.integration("observability")
    return Call(
        {"integration_id": iid, "sort": "-timestamp", "limit": 5}, "GET", f"{API}/logs", _has_items(5)
    )


@success("observability_get_log_details")
async def _(s: Session) -> Call:
    iid = await s.integration("observability")
    log_id = first_id(await s.data("observability_list_logs", {"integration_id": iid, "limit": 1}))
    return Call({"integration_id": iid, "log_id": log_id}, "GET", f"{API}/logs/{log_id}", _is(log_id))


# --- checks --------------------------------------------------------------------------------------


def _has_items(count: int | None = None) -> Callable[[Any], None]:
    def check(data: Any) -> None:
        assert isinstance(data, list) and data, data
        if count is not None:
            assert len(data) == count

    return check


def _is(record_id: str) -> Callable[[Any], None]:
    def check(data: Any) -> None:
        assert str(data["id"]) == record_id

    return check


def _service(tool: str) -> str:
    return next(s for s in ("edr", "scm", "ticketing", "observability") if tool.startswith(s + "_"))


# --- failure cases -------------------------------------------------------------------------------
# kind "not_found": replace the last path id (or, without one, the integration id) by MISSING;
# kind "forbidden": rotate the key to one without the permission the tool needs.

DISCOVERY = {name for name, route in ROUTES.items() if route == ("POST", "/integrations/search")}
WRITES = {name for name, (method, _) in ROUTES.items() if method in ("POST", "PUT") and name not in DISCOVERY}
FAILURE: dict[str, str] = {
    name: "forbidden" if name in DISCOVERY | WRITES else "not_found" for name in ROUTES
}


def test_every_tool_has_cases():
    from .catalog import all_services

    declared = {t.name for spec in all_services().values() for t in spec.all_tools()}
    assert declared == set(ROUTES), "catalog.ROUTES is out of date"
    assert set(SUCCESS) == declared, f"tools without a success case: {sorted(declared - set(SUCCESS))}"
    assert set(FAILURE) == declared


def _new_requests(sandbox: Any, before: int) -> list[Any]:
    return list(sandbox.requests())[before:]


@pytest.mark.parametrize("tool", sorted(ROUTES))
async def test_tool_succeeds(tool, open_server, sandbox):
    service = _service(tool)
    async with open_server(service) as s:
        call = await SUCCESS[tool](s)
        before = len(sandbox.requests())
        result = await s.call(tool, call.args)
        assert not result.is_error, text_of(result)
        data = result.structured_content["data"]
        if call.check is not None:
            call.check(data)
        sent = _new_requests(sandbox, before)
        if tool in DISCOVERY:
            assert sent and {(r.method, r.path, r.status) for r in sent} == {(*SEARCH, 200)}
            return
        assert [(r.method, r.path) for r in sent] == [(call.method, call.path)], "unexpected requests"
        (request,) = sent
        assert 200 <= request.status < 300
        assert request.integration_id == call.args["integration_id"]
        encoded = API + "/".join(quote(part, safe="") for part in call.path[len(API) :].split("/"))
        assert request.raw_path.split("?")[0] == encoded
        if "limit" in call.args:
            assert f"limit={call.args['limit']}" in request.raw_path


async def _not_found(tool: str, s: Session, sandbox: Any) -> None:
    call = await SUCCESS[tool](s)
    path_ids = [name for name in call.args if name.endswith("_id") and name != "integration_id"]
    target = path_ids[-1] if path_ids else "integration_id"
    before = len(sandbox.requests())
    result = await s.call(tool, {**call.args, target: MISSING})
    text = text_of(result)
    assert result.is_error, text
    assert MISSING in text and "HTTP 404" in text, text
    # the resource (or integration) is unknown, not the route: the tool reached the right endpoint
    assert ("AP-4040001" if path_ids else "AP-4040002") in text, text
    assert [r.status for r in _new_requests(sandbox, before)] == [404]


async def _forbidden(tool: str, s: Session, sandbox: Any, new_key: Any) -> None:
    service = _service(tool)
    action = "read" if tool in DISCOVERY else "write"
    call = await SUCCESS[tool](s)
    if action == "write":
        s.rotate_key(sandbox.keys["readonly"])
    else:
        others = {svc: ["read"] for svc in ("edr", "scm", "ticketing", "observability") if svc != service}
        s.rotate_key(await new_key(others))
    before = len(sandbox.requests())
    result = await s.call(tool, call.args)
    text = text_of(result)
    assert result.is_error, text
    assert f"{service}:{action}" in text, text
    statuses = [r.status for r in _new_requests(sandbox, before) if r.path != "/v1/auth/verify"]
    assert 403 in statuses, statuses


@pytest.mark.parametrize("tool", sorted(ROUTES))
async def test_tool_fails_with_actionable_error(tool, open_server, sandbox, new_key):
    service = _service(tool)
    if FAILURE[tool] == "not_found":
        async with open_server(service) as s:
            await _not_found(tool, s, sandbox)
    else:
        async with open_server(service, key_file=True) as s:
            await _forbidden(tool, s, sandbox, new_key)
