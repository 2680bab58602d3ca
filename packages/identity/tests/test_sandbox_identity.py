"""The sandbox's identity emulation: seeded directories (users, groups, members, devices, sessions, audit
logs) that agree with each other, `expand` on users and groups, and every filter Unizo's tools send.

Run with the sandbox's pytest plugin (installed with unizo-mcp-sandbox): fixture `sandbox_client`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from unizo_mcp_sandbox.data import generate_dataset
from unizo_mcp_sandbox.services import identity
from unizo_mcp_sandbox.testclient import SandboxClient

Api = SandboxClient
IDENTITY = "/api/v1/identity"
DATASET = generate_dataset(1729)


@pytest.fixture
def api(sandbox_client: SandboxClient) -> SandboxClient:
    return sandbox_client


def acme_integrations() -> list[dict[str, Any]]:
    return [item for item in DATASET.integrations if item["type"] == "IDENTITY"][:2]


async def every(api: Api, path: str, integration: str, **params: str) -> list[dict[str, Any]]:
    """Every record of a list, page after page."""
    records: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        query = {"limit": "100", "offset": str(offset), **params}
        reply = await api.get(path, integration=integration, params=query)
        assert reply.status == 200, reply.text
        records += reply.json["data"]
        offset = reply.json["pagination"]["next"]
    return records


# ---- seeded data ----------------------------------------------------------------------------------------


def test_each_directory_has_users_groups_sessions_and_logs() -> None:
    okta, azure = acme_integrations()
    assert (okta["serviceProfile"]["name"], azure["serviceProfile"]["name"]) == ("okta", "azure_ad")
    for integration, id_shape in ((okta, r"00u[A-Za-z0-9]{17}"), (azure, r"[0-9a-f-]{36}")):
        scope = (integration["id"],)
        users = DATASET.tables["identity_users"][scope]
        assert len(users) >= 50 and all(re.fullmatch(id_shape, user["id"]) for user in users)
        assert {user["status"] for user in users} >= {"ACTIVE", "SUSPENDED", "PENDING"}
        assert set(Counter(user["type"] for user in users)) >= {"User", "Admin", "Guest"}
        groups = DATASET.tables["identity_groups"][scope]
        assert len(groups) >= 10
        sessions = [s for user in users for s in DATASET.tables["identity_sessions"][(*scope, user["id"])]]
        assert len(sessions) >= 100 and {s["status"] for s in sessions} >= {"active", "expired"}
        assert len(DATASET.tables["identity_audit_logs"][scope]) >= 100


def test_memberships_agree_with_groups_and_users() -> None:
    for integration in acme_integrations():
        scope = (integration["id"],)
        users = {user["id"]: user for user in DATASET.tables["identity_users"][scope]}
        for group in DATASET.tables["identity_groups"][scope]:
            members = DATASET.tables["identity_group_members"][(*scope, group["id"])]
            assert group["memberCount"] == len(members)
            for member in members:
                if member["type"] == "user":
                    assert {"id": group["id"], "name": group["name"]} in users[member["id"]]["groups"]
        in_groups = [ref for user in users.values() for ref in user["groups"]]
        assert all(user["groups"][0]["name"] == "Everyone" for user in users.values())
        assert len(in_groups) > 2 * len(users), "users are in several groups"


def test_azure_groups_have_service_principals_and_okta_groups_do_not() -> None:
    okta, azure = acme_integrations()
    kinds = {
        item["serviceProfile"]["name"]: {
            member["type"]
            for scope, members in DATASET.tables["identity_group_members"].items()
            if scope[0] == item["id"]
            for member in members
        }
        for item in (okta, azure)
    }
    assert kinds == {"okta": {"user", "group"}, "azure_ad": {"user", "group", "servicePrincipal"}}


# ---- users and groups with expand -----------------------------------------------------------------------


async def test_a_user_is_served_as_listed_and_expanded_on_request(api: Api) -> None:
    integration = api.integration("identity")
    users = await every(api, f"{IDENTITY}/users", integration, status="ACTIVE", hasDevices="true")
    user = users[0]
    plain = await api.get(f"{IDENTITY}/users/{user['id']}", integration=integration)
    assert plain.json == user
    assert all(set(ref) == {"id", "name"} for ref in user["groups"] + user["devices"])
    full = (
        await api.get(f"{IDENTITY}/users/{user['id']}", integration=integration, params={"expand": "all"})
    ).json
    assert [g["id"] for g in full["groups"]] == [g["id"] for g in user["groups"]]
    assert all(g["href"].endswith(f"/identity/groups/{g['id']}") for g in full["groups"])
    assert [d["id"] for d in full["devices"]] == [d["id"] for d in user["devices"]]
    assert all({"os", "isManaged", "isCompliant", "networkStatus"} <= set(d) for d in full["devices"])
    assert {session["status"] for session in full["sessions"]} <= {"active"}
    if user["manager"] is not None:
        assert full["manager"]["id"] == user["manager"]["id"] and "email" in full["manager"]
    some = (
        await api.get(f"{IDENTITY}/users/{user['id']}", integration=integration, params={"expand": "devices"})
    ).json
    assert some["groups"] == user["groups"] and "sessions" not in some


async def test_a_group_expands_members_owners_and_relatives(api: Api) -> None:
    integration = api.integration("identity")
    groups = await every(api, f"{IDENTITY}/groups", integration)
    group = next(g for g in groups if g["name"] == "IT Service Desk")
    path = f"{IDENTITY}/groups/{group['id']}"
    assert (await api.get(path, integration=integration)).json == group
    assert "members" not in group
    full = (await api.get(path, integration=integration, params={"expand": "members,childGroups"})).json
    assert len(full["members"]) == group["memberCount"]
    assert full["childGroups"][0]["name"] == "IT Admins" and "href" in full["childGroups"][0]
    assert full["owners"] == group["owners"]
    repeated = await api.get(
        path, integration=integration, params=[("expand", "owners"), ("expand", "members")]
    )
    assert "members" in repeated.json and all("email" in owner for owner in repeated.json["owners"])


@pytest.mark.parametrize("path", ["users", "groups"])
async def test_expand_values_are_checked_and_unknown_ids_are_404(api: Api, path: str) -> None:
    integration = api.integration("identity")
    first = (await every(api, f"{IDENTITY}/{path}", integration))[0]
    bad = await api.get(
        f"{IDENTITY}/{path}/{first['id']}", integration=integration, params={"expand": "everything"}
    )
    assert (bad.status, bad.error["property"]) == (400, "expand")
    missing = await api.get(f"{IDENTITY}/{path}/nobody", integration=integration, params={"expand": "all"})
    assert (missing.status, missing.error["errorCode"]) == (404, "AP-4040001")
    assert "'nobody' was not found" in missing.error["errorMessage"]


# ---- filters --------------------------------------------------------------------------------------------


async def test_user_filters(api: Api) -> None:
    integration = api.integration("identity")
    users = f"{IDENTITY}/users"
    everyone = await every(api, users, integration)
    for param, field, value in (
        ("status", "status", "suspended"),
        ("mfaStatus", "mfaStatus", "Disabled"),
        ("userType", "type", "admin"),
    ):
        kept = await every(api, users, integration, **{param: value})
        expected = [u["id"] for u in everyone if u[field].lower() == value.lower()]
        assert [u["id"] for u in kept] == expected and expected, param
    with_devices = await every(api, users, integration, hasDevices="true")
    assert [u["id"] for u in with_devices] == [u["id"] for u in everyone if u["devices"]]
    never = [u["id"] for u in everyone if u["lastLogin"] is None]
    signed_in = await every(api, users, integration, lastLoginDays="36500")
    assert never and [u["id"] for u in signed_in] == [u["id"] for u in everyone if u["lastLogin"]]
    guest = next(u for u in everyone if u["type"] == "Guest")
    assert guest["id"] in [u["id"] for u in await every(api, users, integration, domain=guest["domain"])]
    found = await every(api, users, integration, search=guest["email"][:6].upper())
    assert guest["id"] in [u["id"] for u in found]


@pytest.mark.parametrize(
    ("path", "params", "property"),
    [
        ("users", {"search": "ab"}, "search"),
        ("users", {"hasDevices": "yes"}, "hasDevices"),
        ("users", {"lastLoginDays": "-1"}, "lastLoginDays"),
        ("groups", {"search": "  x "}, "search"),
        ("groups", {"hasMembers": "1"}, "hasMembers"),
        ("logs", {"since": "last week"}, "since"),
    ],
)
async def test_bad_filter_values_are_400_naming_them(
    api: Api, path: str, params: dict[str, str], property: str
) -> None:
    reply = await api.get(f"{IDENTITY}/{path}", integration=api.integration("identity"), params=params)
    assert (reply.status, reply.error["property"]) == (400, property)


async def test_group_filters(api: Api) -> None:
    integration = api.integration("identity")
    groups = f"{IDENTITY}/groups"
    everything = await every(api, groups, integration)
    finance = next(g for g in everything if g["name"] == "Finance")
    children = await every(api, groups, integration, parentGroupId=finance["id"])
    assert [g["name"] for g in children] == ["Payroll Approvers"]
    assert [g["name"] for g in await every(api, groups, integration, groupType="Role_Based")] == [
        "IT Admins", "Payroll Approvers",
    ]  # fmt: skip
    assert [g["name"] for g in await every(api, groups, integration, status="archived")] == [
        "Legacy Wiki Users"
    ]
    assert [g["name"] for g in await every(api, groups, integration, search="production")] == [
        "AWS Production Access"
    ]
    assert len(await every(api, groups, integration, hasMembers="true")) == len(everything) - 2


async def test_member_filters(api: Api) -> None:
    integration = api.integration("identity", "azure_ad")
    groups = await every(api, f"{IDENTITY}/groups", integration)
    admins = next(g for g in groups if g["name"] == "IT Admins")
    path = f"{IDENTITY}/groups/{admins['id']}/members"
    members = await every(api, path, integration)
    apps = await every(api, path, integration, memberType="servicePrincipal")
    assert [m["servicePrincipal"]["name"] for m in apps] == ["scim-provisioning"]
    found = await every(api, path, integration, search="scim")
    assert [m["id"] for m in found] == [apps[0]["id"]]
    user = next(m for m in members if m["type"] == "user")
    kept = await every(api, path, integration, status=user["status"])
    assert user["id"] in [m["id"] for m in kept] and {m["status"] for m in kept} == {user["status"]}
    one = await api.get(f"{path}/{user['id']}", integration=integration)
    assert one.json == user


async def test_session_filters(api: Api) -> None:
    integration = api.integration("identity")
    users = await every(api, f"{IDENTITY}/users", integration, status="ACTIVE")
    path = ""
    for user in users:
        path = f"{IDENTITY}/users/{user['id']}/sessions"
        if len({s["status"] for s in await every(api, path, integration)}) > 1:
            break
    everything = await every(api, path, integration)
    assert everything == await every(api, path, integration, status="all")
    active = await every(api, path, integration, status="active")
    assert active == [s for s in everything if s["status"] == "active"]
    middle = everything[len(everything) // 2]["createdTimeDt"]
    since = await every(api, path, integration, **{"from": middle})
    until = await every(api, path, integration, to=middle)
    assert since == [s for s in everything if s["createdTimeDt"] >= middle]
    assert until == [s for s in everything if s["createdTimeDt"] <= middle]
    bad = await api.get(path, integration=integration, params={"status": "open"})
    assert (bad.status, bad.error["property"]) == (400, "status")
    session = everything[0]
    assert session["id"] == session["uid"] and session["userId"] == path.split("/")[-2]


async def test_audit_log_filters(api: Api) -> None:
    integration = api.integration("identity")
    path = f"{IDENTITY}/logs"
    logs = await every(api, path, integration)
    kinds = Counter(log["eventType"] for log in logs)
    kind = kinds.most_common(1)[0][0]
    assert {log["id"] for log in await every(api, path, integration, type=kind)} == {
        log["id"] for log in logs if log["eventType"] == kind
    }
    since = logs[20]["eventPublished"]
    assert await every(api, path, integration, since=since) == logs[:21]
    failed = [log for log in logs if log["outcome"]["result"] == "FAILURE"]
    assert failed and all(log["severity"] == "WARN" for log in failed)


def test_the_module_exports_its_filters_for_the_tools_names() -> None:
    """Each filter a tool declares (wire names) has a sandbox filter of the same name."""
    assert set(identity.USERS.filters) == {
        "status", "mfaStatus", "userType", "search", "domain", "hasDevices", "lastLoginDays",
    }  # fmt: skip
    assert set(identity.GROUPS.filters) == {"groupType", "status", "search", "hasMembers", "parentGroupId"}
    assert set(identity.MEMBERS.filters) == {"memberType", "status", "search"}
    assert set(identity.SESSIONS.filters) == {"status", "from", "to"}
    assert set(identity.AUDIT_LOGS.filters) == {"since", "type"}
