"""Identity: every tool against the sandbox (generated from the declarations and this table), its snapshot,
and the filters and expansions only this service has, as a model would call them."""

from __future__ import annotations

import math
import time
from typing import Any

from servicekit import Example, Session, ref, service_tests
from unizo_mcp_identity.tools import SERVICE
from unizo_mcp_sandbox.timeutil import parse_iso
from unizo_testkit import text_of

TOOLS = {tool.name: tool for tool in SERVICE.tools}
DAY = 86_400


def _active_mfa_users(data: Any) -> None:
    assert data and all(u["status"] == "ACTIVE" and u["mfaStatus"] == "Enabled" for u in data)


def _expanded_user(data: Any) -> None:
    assert data["groups"] and all({"href", "type", "displayName"} <= set(g) for g in data["groups"])
    assert all("os" in device and "isManaged" in device for device in data.get("devices", []))


def _expanded_group(data: Any) -> None:
    assert data["members"] and all({"id", "type", "name"} <= set(member) for member in data["members"])


def _active_sessions(data: Any) -> None:
    assert data and {session["status"] for session in data} == {"active"}


EXAMPLES = {
    "identity_list_users": Example(
        {"status": "ACTIVE", "mfa_status": "Enabled", "limit": 50}, check=_active_mfa_users
    ),
    "identity_get_user_details": Example({"expand": ["groups", "devices"]}, check=_expanded_user),
    "identity_list_groups": Example(
        {"has_members": True}, check=lambda data: all(group["memberCount"] > 0 for group in data)
    ),
    "identity_get_group_details": Example({"expand": ["members"]}, check=_expanded_group),
    "identity_list_group_members": Example(
        {"member_type": "user"}, check=lambda data: {member["type"] for member in data} == {"user"}
    ),
    "identity_list_user_sessions": Example({}, check=_active_sessions),
    "identity_list_audit_logs": Example(
        {"log_type": ref("identity_list_audit_logs", "eventType")},
        check=lambda data: len({log["eventType"] for log in data}) == 1,
    ),
}

test_tool_succeeds, test_tool_fails, test_tool_snapshot = service_tests(SERVICE, EXAMPLES)


async def _users(s: Session, **args: Any) -> list[dict[str, Any]]:
    iid = await s.integration("identity")
    return list(await s.data("identity_list_users", {"integration_id": iid, "limit": 100, **args}))


async def test_user_filters_reach_the_api(open_server: Any) -> None:
    async with open_server("identity") as s:
        everyone = await _users(s, fields=["domain", "devices", "hasMfa"])
        guests = await _users(s, user_type="Guest", fields=["domain"])
        assert guests and {u["type"] for u in guests} == {"Guest"} and len(guests) < len(everyone)
        domain = guests[0]["domain"]
        assert {u["domain"] for u in await _users(s, domain=domain, fields=["domain"])} == {domain}
        without = await _users(s, has_devices=False, fields=["devices"])
        assert without and not any(u.get("devices") for u in without)
        named = everyone[0]["fullName"].split()[0]
        found = await _users(s, search=named.lower())
        assert found and all(named.lower() in (u["fullName"] + u["email"]).lower() for u in found)


async def test_last_login_days_keeps_recent_sign_ins(open_server: Any) -> None:
    async with open_server("identity") as s:
        everyone = await _users(s)
        logins = sorted(parse_iso(u["lastLogin"]) for u in everyone if "lastLogin" in u)
        assert len(logins) < len(everyone), "some users never signed in"
        middle = logins[len(logins) // 2]
        days = math.ceil((time.time() - middle) / DAY)
        recent = await _users(s, last_login_days=days)
        cutoff = time.time() - days * DAY - DAY  # a day's leeway for the clock moving on
        assert recent and all(parse_iso(u["lastLogin"]) >= cutoff for u in recent)
        assert len(recent) < len(logins)
        assert len(await _users(s, last_login_days=36_500)) == len(logins)


async def test_a_short_search_is_refused_before_the_api(open_server: Any) -> None:
    async with open_server("identity") as s:
        before = len(s.sandbox.requests())
        result = await s.call("identity_list_users", {"search": "ab"})
        assert result.is_error and "search" in text_of(result)
        assert [r for r in s.sandbox.requests()[before:] if "/identity/" in r.path] == []


async def test_sessions_by_status_and_date(open_server: Any) -> None:
    async with open_server("identity") as s:
        iid = await s.integration("identity")
        users = await _users(s, status="ACTIVE")
        args = {"integration_id": iid, "status": "all", "limit": 100}
        sessions, user_id = [], ""
        for user in users:
            user_id = user["id"]
            sessions = await s.data("identity_list_user_sessions", {**args, "user_id": user_id})
            if len({session["status"] for session in sessions}) > 1 and len(sessions) >= 3:
                break
        assert len({session["status"] for session in sessions}) > 1, "a user with several kinds of session"
        stamps = [session["createdTimeDt"] for session in sessions]
        assert stamps == sorted(stamps, reverse=True)
        middle = stamps[len(stamps) // 2]
        since = await s.data("identity_list_user_sessions", {**args, "user_id": user_id, "from_date": middle})
        until = await s.data("identity_list_user_sessions", {**args, "user_id": user_id, "to_date": middle})
        assert all(x["createdTimeDt"] >= middle for x in since) and all(
            x["createdTimeDt"] <= middle for x in until
        )
        assert len(since) + len(until) == len(sessions) + 1
        expired = await s.data(
            "identity_list_user_sessions", {**args, "user_id": user_id, "status": "expired"}
        )
        assert {x["status"] for x in expired} <= {"expired"}


async def test_groups_by_parent_and_their_expansions(open_server: Any) -> None:
    async with open_server("identity") as s:
        iid = await s.integration("identity")
        groups = await s.data("identity_list_groups", {"integration_id": iid, "limit": 100})
        parent = next(group for group in groups if group["name"] == "Engineering")
        children = await s.data(
            "identity_list_groups", {"integration_id": iid, "parent_group_id": parent["id"]}
        )
        assert [child["name"] for child in children] == ["AWS Production Access"]
        full = await s.data(
            "identity_get_group_details", {"integration_id": iid, "group_id": parent["id"], "expand": ["all"]}
        )
        assert full["childGroups"][0]["href"].endswith("/identity/groups/" + children[0]["id"])
        assert {member["type"] for member in full["members"]} >= {"user", "group"}
        assert all("email" in owner for owner in full["owners"])
        empty = await s.data("identity_list_groups", {"integration_id": iid, "has_members": False})
        assert {group["name"] for group in empty} == {"Legacy Wiki Users", "Interns 2027"}


async def test_audit_logs_since(open_server: Any) -> None:
    async with open_server("identity") as s:
        iid = await s.integration("identity")
        logs = await s.data("identity_list_audit_logs", {"integration_id": iid, "limit": 100})
        stamps = [log["eventPublished"] for log in logs]
        assert stamps == sorted(stamps, reverse=True)
        since = stamps[10]
        recent = await s.data(
            "identity_list_audit_logs", {"integration_id": iid, "since": since, "limit": 100}
        )
        assert [log["eventPublished"] for log in recent] == stamps[: len(recent)] and len(recent) >= 11


def test_filters_use_the_api_names() -> None:
    wires = {
        name: {p.name: p.wire_name for p in tool.params if p.location == "query"}
        for name, tool in TOOLS.items()
    }
    users = wires["identity_list_users"]
    assert [users[n] for n in ("mfa_status", "user_type", "has_devices", "last_login_days")] == [
        "mfaStatus", "userType", "hasDevices", "lastLoginDays",
    ]  # fmt: skip
    assert wires["identity_list_groups"]["parent_group_id"] == "parentGroupId"
    assert wires["identity_list_group_members"]["member_type"] == "memberType"
    sessions = wires["identity_list_user_sessions"]
    assert (sessions["from_date"], sessions["to_date"]) == ("from", "to")
    assert wires["identity_list_audit_logs"]["log_type"] == "type"
    status = next(p for p in TOOLS["identity_list_user_sessions"].params if p.name == "status")
    assert status.default == "active" and "all" in (status.enum or ())
