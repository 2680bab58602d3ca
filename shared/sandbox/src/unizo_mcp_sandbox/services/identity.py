"""Identity: the users of a directory with their devices, groups and group members, sign-in sessions and
audit logs (all read-only, as Unizo's are).

Okta integrations look like an Okta org (`00u…` users, `00g…` groups, `user.session.start` events); Azure AD
ones like Microsoft Entra ID (GUIDs, service principals among group members, directory audit categories).

A user or group as listed carries short references (`{id, name}`) to what it relates to; `expand` on the
record's own endpoint replaces them with full records and adds the long collections (a user's active
sessions, a group's members).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import web

from unizo_mcp_sandbox.accounts import Organization
from unizo_mcp_sandbox.context import sandbox_of
from unizo_mcp_sandbox.data.common import API, Gen, Record, Tables, slug
from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.filters import Filter, equals, search, since, until, within_days
from unizo_mcp_sandbox.resources import Location, Resource, Route, locate_item
from unizo_mcp_sandbox.routes.common import record_response
from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.timeutil import iso, parse_iso

if TYPE_CHECKING:
    from unizo_mcp_sandbox.sandbox import Sandbox

Shown = Mapping[str, Any]  # a record as the filters see it
OKTA, AZURE = "okta", "azure_ad"
USERS_PER_INTEGRATION = 60
AUDIT_LOGS_PER_INTEGRATION = 150
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
DEVICES_KIND = "identity_devices"  # full device records per user; users carry references

USER_STATUSES = ("ACTIVE", "INACTIVE", "PENDING", "SUSPENDED", "TERMINATED")
USER_TYPES = ("User", "Admin", "Service", "System", "Guest")
MFA_STATUSES = ("Enabled", "Disabled", "Pending", "Required")
SESSION_STATUSES = ("active", "expired", "revoked", "suspended")
# the vendor's own status word for each unified status
VENDOR_STATUS = {
    OKTA: {"ACTIVE": "ACTIVE", "INACTIVE": "DEPROVISIONED", "PENDING": "STAGED", "SUSPENDED": "SUSPENDED",
           "TERMINATED": "DEPROVISIONED"},
    AZURE: {"ACTIVE": "accountEnabled", "INACTIVE": "accountDisabled", "PENDING": "pendingAcceptance",
            "SUSPENDED": "blockedSignIn", "TERMINATED": "softDeleted"},
}  # fmt: skip
DEPARTMENTS = (
    ("Engineering", "R&D", "CC-1100"),
    ("Security Operations", "Security", "CC-1200"),
    ("Finance", "G&A", "CC-3100"),
    ("Sales", "Go-to-market", "CC-4100"),
    ("IT Service Desk", "G&A", "CC-3300"),
)
TITLES = {
    "Engineering": ("Software Engineer", "Senior Software Engineer", "Engineering Manager", "SRE"),
    "Security Operations": ("SOC Analyst", "Threat Hunter", "Security Engineer", "CISO"),
    "Finance": ("Accountant", "Controller", "Payroll Specialist"),
    "Sales": ("Account Executive", "Sales Engineer", "Sales Director"),
    "IT Service Desk": ("IT Support Specialist", "Systems Administrator", "IT Manager"),
}
SERVICE_ACCOUNTS = ("svc-ci-runner", "svc-backup", "svc-hr-sync", "svc-siem-export", "svc-scim")
CITIES = (
    ("US", "CA", "San Francisco"),
    ("US", "VA", "Ashburn"),
    ("GB", "England", "London"),
    ("IN", "KA", "Bengaluru"),
    ("DE", "BE", "Berlin"),
)
# (name, type, status, description, parent group name, privileges)
GROUP_SPECS = (
    ("Everyone", "Security", "ACTIVE", "All users of the directory", None, ()),
    ("Engineering", "Security", "ACTIVE", "Product engineering", None, ()),
    ("Security Operations", "Security", "ACTIVE", "SOC analysts and responders", None, ("SecurityReader",)),
    ("Finance", "Security", "ACTIVE", "Finance and accounting", None, ()),
    ("Sales", "Security", "ACTIVE", "Sales and sales engineering", None, ()),
    ("IT Service Desk", "Security", "ACTIVE", "Tier 1 and tier 2 support", None, ("HelpdeskAdministrator",)),
    ("IT Admins", "Role_Based", "ACTIVE", "Directory administrators", "IT Service Desk",
     ("UserAdministrator", "GroupAdministrator")),
    ("AWS Production Access", "Security", "ACTIVE", "Federated access to production accounts", "Engineering",
     ("aws:prod:PowerUser",)),
    ("Payroll Approvers", "Role_Based", "ACTIVE", "Approve payroll runs", "Finance", ("payroll:approve",)),
    ("VPN Users", "Security", "ACTIVE", "Remote access VPN", None, ()),
    ("GitHub Users", "Security", "ACTIVE", "Assigned the GitHub Enterprise app", None, ()),
    ("Contractors", "Security", "ACTIVE", "External collaborators", None, ()),
    ("All Staff", "Mail_Enabled", "ACTIVE", "all-staff@ mailing list", None, ()),
    ("Legacy Wiki Users", "Universal", "ARCHIVED", "Retired wiki (read-only)", None, ()),
    ("Interns 2027", "Security", "PENDING", "Next summer's interns", None, ()),
)  # fmt: skip
EXTRA_GROUPS = ("VPN Users", "GitHub Users", "AWS Production Access", "Payroll Approvers")
APPLICATIONS = (
    "Okta Dashboard",
    "Microsoft 365",
    "Salesforce",
    "GitHub Enterprise",
    "AWS SSO",
    "Slack",
    "VPN",
)
BROWSERS = (("Chrome", "131.0"), ("Safari", "18.1"), ("Edge", "131.0"), ("Firefox", "133.0"))
DEVICE_MODELS = (
    ("Laptop", "macOS", "macOS", "15.1", "MBP"),
    ("Laptop", "Windows", "Windows 11 Enterprise", "23H2", "LT"),
    ("Desktop", "Windows", "Windows 11 Pro", "23H2", "WS"),
    ("Mobile", "iOS", "iOS", "18.1", "IPH"),
    ("Mobile", "Android", "Android", "15", "PIX"),
)
# (eventType, eventName, weight) per vendor
EVENTS = {
    OKTA: (
        ("user.session.start", "User login to Okta", 30),
        ("user.authentication.auth_via_mfa", "Authentication of user via MFA", 20),
        ("user.authentication.sso", "User single sign on to app", 18),
        ("user.session.end", "User logout from Okta", 8),
        ("user.account.lock", "Max sign in attempts exceeded", 4),
        ("group.user_membership.add", "Add user to group membership", 6),
        ("group.user_membership.remove", "Remove user from group membership", 3),
        ("user.mfa.factor.activate", "Activate factor or authenticator", 4),
        ("user.lifecycle.suspend", "Suspend Okta user", 2),
        ("system.api_token.create", "Create API token", 1),
        ("policy.evaluate_sign_on", "Evaluation of sign-on policy", 4),
    ),
    AZURE: (
        ("UserSignIn", "Sign-in activity", 34),
        ("MFA", "User completed MFA", 18),
        ("ApplicationSignIn", "Sign-in to application", 16),
        ("GroupManagement", "Add member to group", 8),
        ("GroupManagement.Remove", "Remove member from group", 3),
        ("UserManagement", "Update user", 8),
        ("UserManagement.Disable", "Disable account", 2),
        ("RoleManagement", "Add member to role", 3),
        ("Policy", "Update conditional access policy", 2),
        ("ApplicationManagement", "Add service principal credentials", 1),
        ("Authentication.Failure", "Sign-in failed: invalid password", 5),
    ),
}

USER_SORT_FIELDS = frozenset({
    "id", "username", "email", "firstName", "lastName", "fullName", "domain", "status", "type", "mfaStatus",
    "lastLogin", "createdAt", "updatedAt",
})  # fmt: skip
GROUP_SORT_FIELDS = frozenset({"id", "name", "displayName", "type", "status", "memberCount", "createdAt"})
MEMBER_SORT_FIELDS = frozenset({"id", "type", "status", "joinedAt", "expiresAt", "membershipType"})
SESSION_SORT_FIELDS = frozenset({
    "id", "status", "createdTimeDt", "expirationTimeDt", "lastActivityTime", "authenticationMethod",
    "application", "isMfa",
})  # fmt: skip
LOG_SORT_FIELDS = frozenset({"id", "eventPublished", "eventType", "eventName", "userEmail", "userType"})


# ---- generation -----------------------------------------------------------------------------------------


def _okta_id(gen: Gen, prefix: str, length: int = 17) -> str:
    return prefix + "".join(gen.pick(ALNUM) for _ in range(length))


def _id(gen: Gen, connector: str, prefix: str) -> str:
    return _okta_id(gen, prefix) if connector == OKTA else gen.uuid()


def _href(kind: str, record_id: str) -> str:
    return f"{API}/identity/{kind}/{record_id}"


def user_reference(user: Record) -> Record:
    """The full user reference (`UserReference` of Unizo's model)."""
    return {
        "id": user["id"],
        "uid": user["uidAlt"],
        "username": user["username"],
        "firstName": user["firstName"],
        "lastName": user["lastName"],
        "email": user["email"],
        "href": _href("users", user["id"]),
    }


def group_reference(group: Record) -> Record:
    """The full group reference (`GroupReference` of Unizo's model)."""
    return {
        "id": group["id"],
        "uid": group["uid"],
        "name": group["name"],
        "displayName": group["displayName"],
        "type": group["type"],
        "href": _href("groups", group["id"]),
    }


def short(record: Record) -> Record:
    """The short reference a listed record carries: `{id, name}`."""
    return {"id": record["id"], "name": record["name"]}


def _device(gen: Gen, connector: str, first: str, last: str, user_status: str) -> Record:
    kind, os_type, os_name, version, prefix = gen.pick(DEVICE_MODELS)
    return {
        "id": _id(gen, connector, "guo"),
        "name": f"{prefix}-{first[:1]}{last}".upper()[:15],
        "type": kind,
        "os": {"name": os_name, "version": version, "build": gen.digits(5), "type": os_type},
        "isManaged": gen.chance(0.85),
        "isCompliant": user_status == "ACTIVE" and gen.chance(0.8),
        "lastSeen": iso(gen.past(14)),
        "networkStatus": gen.weighted(("Connected", "Disconnected", "VPN", "Quarantined"), (50, 30, 18, 2)),
    }


def _mfa_methods(gen: Gen, status: str, phone: str) -> list[Record]:
    if status != "Enabled":
        return []
    methods = []
    for index, kind in enumerate(gen.sample(("Push", "TOTP", "WebAuthn", "SMS"), gen.number(1, 2))):
        method: Record = {
            "type": kind,
            "isDefault": index == 0,
            "isVerified": True,
            "lastUsed": iso(gen.past(20)),
        }
        if kind == "SMS":
            method["phoneNumber"] = phone
        if kind == "WebAuthn":
            method["deviceName"] = "YubiKey 5C NFC"
        methods.append(method)
    return methods


def _user(gen: Gen, connector: str, company: str, index: int, taken: set[str]) -> tuple[Record, list[Record]]:
    """A user (with device references) and its full device records; `taken`: the mailbox names so far."""
    domain = f"{slug(company)}.com"
    user_type = gen.weighted(USER_TYPES, (78, 8, 6, 2, 6))
    if user_type in ("Service", "System"):
        first, last = SERVICE_ACCOUNTS[index % len(SERVICE_ACCOUNTS)], "(service account)"
        local = f"{first}-{index}" if index >= len(SERVICE_ACCOUNTS) else first
        status = "ACTIVE"
        mfa = "Disabled"
    else:
        first, last = gen.person()
        local = f"{first.lower()}.{last.lower()}"
        if local in taken:
            local = f"{local}{index}"
        status = gen.weighted(USER_STATUSES, (75, 6, 6, 6, 7))
        mfa = gen.weighted(MFA_STATUSES, (65, 15, 10, 10))
    taken.add(local)
    email_domain = gen.pick(("partner-agency.io", "contractor.dev")) if user_type == "Guest" else domain
    email = f"{local}@{email_domain}"
    department, division, cost_center = gen.pick(DEPARTMENTS)
    country, state, city = gen.pick(CITIES)
    created = gen.past(1400, 20)
    updated = gen.after(created, 300)
    phone = f"+1-555-{gen.digits(3)}-{gen.digits(4)}"
    devices = (
        [_device(gen, connector, first, last, status) for _ in range(gen.weighted((0, 1, 2), (30, 50, 20)))]
        if user_type in ("User", "Admin")
        else []
    )
    if status == "PENDING":
        last_login = None
    else:  # never before the account existed
        last_login = iso(max(created, gen.past(45) if status == "ACTIVE" else gen.past(400, 40)))
    user_id = _id(gen, connector, "00u")
    full = f"{first} {last}" if user_type not in ("Service", "System") else first
    user = {
        "id": user_id,
        "uidAlt": f"E{gen.digits(5)}",
        "username": email,
        "email": email,
        "account": {
            "name": email,
            "type": {"Guest": "Guest", "Service": "Service", "System": "System"}.get(user_type, "Domain"),
            "uid": user_id,
            "labels": [],
        },
        "firstName": first,
        "lastName": last,
        "fullName": full,
        "domain": email_domain,
        "credentialUid": f"cred-{gen.hex(12)}",
        "mfaStatus": mfa,
        "mfaStatusId": MFA_STATUSES.index(mfa) + 1,
        "hasMfa": mfa == "Enabled",
        "mfaMethods": _mfa_methods(gen, mfa, phone),
        "ldapPerson": {
            "title": gen.pick(TITLES[department]) if user_type in ("User", "Admin") else None,
            "department": department,
            "company": company,
            "telephoneNumber": phone,
        },
        "groups": [],  # filled once the groups exist
        "privileges": ["Super Administrator"] if user_type == "Admin" and gen.chance(0.3) else [],
        "org": {"name": company, "unit": department, "division": division, "costCenter": cost_center},
        "userStatus": VENDOR_STATUS[connector][status],
        "userStatusId": USER_STATUSES.index(status) + 1,
        "status": status,
        "location": {"country": country, "state": state, "city": city},
        "devices": [short(device) for device in devices],
        "manager": None,  # filled below
        "idp": (
            {"type": "SAML", "name": "Okta", "realm": domain}
            if connector == OKTA
            else {"type": "OIDC", "name": "Microsoft Entra ID", "realm": domain}
        ),
        "labels": ["guest"] if user_type == "Guest" else [],
        "type": user_type,
        "typeId": USER_TYPES.index(user_type) + 1,
        "lastLogin": last_login,
        "createdAt": iso(created),
        "updatedAt": iso(updated),
    }
    return user, devices


def _group(gen: Gen, connector: str, spec: tuple[Any, ...], domain: str) -> Record:
    name, kind, status, description, _, privileges = spec
    created = gen.past(1500, 100)
    group_id = _id(gen, connector, "00g")
    return {
        "id": group_id,
        "uid": gen.uuid() if connector == AZURE else group_id,
        "name": name,
        "displayName": name if connector == OKTA else f"{name} ({domain})",
        "description": description,
        "type": kind,
        "status": status,
        "domain": domain,
        "org": {"name": None, "unit": None, "division": None, "costCenter": None},
        "memberCount": 0,  # counted once the members exist
        "parentGroups": [],
        "childGroups": [],
        "owners": [],
        "privileges": list(privileges),
        "createdAt": iso(created),
        "updatedAt": iso(gen.after(created, 300)),
    }


def _membership(gen: Gen, user: Record, dynamic: bool) -> Record:
    status = {"SUSPENDED": "suspended", "PENDING": "pending", "TERMINATED": "expired", "INACTIVE": "expired"}
    joined = gen.after(parse_iso(user["createdAt"]), 200)
    return _member(
        user["id"],
        "user",
        iso(joined),
        status=status.get(user["status"], "active"),
        expiresAt=iso(joined + 180 * 86_400) if user["type"] == "Guest" else None,
        user={k: v for k, v in user_reference(user).items() if k != "uid"},
        membershipType="Dynamic" if dynamic else "Direct",
    )


def _ip(gen: Gen) -> str:
    return f"{gen.number(20, 220)}.{gen.number(0, 255)}.{gen.number(0, 255)}.{gen.number(1, 254)}"


def _member(member_id: str, kind: str, joined: str, **details: Any) -> Record:
    """A group member as Unizo's model has it; `details` fills `user`, `group` or `servicePrincipal`."""
    return {
        "id": member_id,
        "type": kind,
        "status": "active",
        "joinedAt": joined,
        "expiresAt": None,
        "addedBy": None,
        "user": None,
        "group": None,
        "servicePrincipal": None,
        "membershipType": "Direct",
        "inheritedFrom": None,
        "privileges": [],
        **details,
    }


def _session(gen: Gen, connector: str, user: Record, status: str) -> Record:
    created = gen.past(2) if status == "active" else gen.past(120, 1)
    lifetime = gen.pick((8, 12, 24)) * 3600
    browser, browser_version = gen.pick(BROWSERS)
    os_name = gen.pick(("macOS", "Windows", "iOS", "Linux"))
    country, state, city = gen.pick(CITIES)
    trusted = country in ("US", "GB") and gen.chance(0.8)
    session_id = _okta_id(gen, "102", 22) if connector == OKTA else gen.uuid()
    ip = _ip(gen)
    method = gen.weighted(("SSO", "Password", "Certificate", "Biometric", "Token"), (55, 25, 8, 7, 5))
    is_mfa = user["hasMfa"] and gen.chance(0.9)
    return {
        "id": session_id,
        "uid": session_id,
        "uuid": gen.uuid(),
        "userId": user["id"],
        "isMfa": is_mfa,
        "mfaMethod": user["mfaMethods"][0]["type"] if is_mfa and user["mfaMethods"] else None,
        "authenticationMethod": method,
        "isRemote": not trusted,
        "isVpn": gen.chance(0.2),
        "createdTime": int(created),
        "createdTimeDt": iso(created),
        "expirationTime": int(created + lifetime),
        "expirationTimeDt": iso(created + lifetime),
        "lastActivityTime": iso(gen.after(created, lifetime / 86_400)),
        "expirationReason": {
            "expired": "Timeout",
            "revoked": "Admin revoked",
            "suspended": "Risk detected",
        }.get(status),
        "status": status,
        "issuer": "https://" + ("okta.com" if connector == OKTA else "login.microsoftonline.com"),
        "credentialUid": user["credentialUid"],
        "count": gen.number(1, 3),
        "device": {
            "uid": gen.hex(16),
            "hostname": None,
            "ip": ip,
            "userAgent": f"Mozilla/5.0 ({os_name}) {browser}/{browser_version}",
            "os": {"name": os_name, "type": os_name if os_name != "Linux" else "Linux"},
            "browser": {"name": browser, "version": browser_version},
        },
        "location": {
            "ip": ip,
            "city": city,
            "state": state,
            "country": country,
            "countryCode": country,
            "isTrustedLocation": trusted,
        },
        "protocol": "HTTPS",
        "application": gen.pick(APPLICATIONS),
        "sessionFlags": ["new_device"] if gen.chance(0.1) else [],
    }


def _sessions(gen: Gen, connector: str, user: Record) -> list[Record]:
    if user["status"] == "PENDING" or user["type"] in ("Service", "System"):
        return []
    statuses = []
    if user["status"] == "ACTIVE":
        statuses += ["active"] * gen.number(1, 3)
    statuses += [
        gen.weighted(("expired", "revoked", "suspended"), (80, 15, 5)) for _ in range(gen.number(0, 4))
    ]
    sessions = [_session(gen, connector, user, status) for status in statuses]
    return sorted(sessions, key=lambda session: session["createdTimeDt"], reverse=True)


def _audit_log(gen: Gen, connector: str, users: list[Record]) -> Record:
    event_type, event_name, _ = gen.weighted(EVENTS[connector], [weight for *_, weight in EVENTS[connector]])
    user = gen.pick(users)
    failed = "lock" in event_type or "Failure" in event_type
    published = gen.past(30)
    millis = gen.number(0, 999)
    log_id = gen.uuid() if connector == OKTA else f"Directory_{gen.uuid()}"
    return {
        "id": log_id,
        "userId": user["id"],
        "userEmail": user["email"],
        "userType": user["type"],
        "eventPublished": f"{iso(published)[:-1]}.{millis:03d}Z",
        "eventType": event_type,
        "eventName": event_name,
        "outcome": {
            "result": "FAILURE" if failed else "SUCCESS",
            "reason": "INVALID_CREDENTIALS" if failed else None,
        },
        "severity": "WARN" if failed else "INFO",
        "client": {
            "ipAddress": _ip(gen),
            "userAgent": gen.pick(("Chrome 131 on macOS", "Edge 131 on Windows", "Okta Verify on iOS")),
        },
        "target": {"type": "User", "id": user["id"], "displayName": user["fullName"]},
    }


def generate(gen: Gen, integration: Record, owner: Organization, tables: Tables) -> None:
    connector = integration["serviceProfile"]["name"]
    scope = (integration["id"],)
    domain = f"{slug(owner.name)}.com"
    users, devices, taken = [], {}, set[str]()
    for index in range(USERS_PER_INTEGRATION):
        user, owned = _user(gen, connector, owner.name, index, taken)
        users.append(user)
        devices[user["id"]] = owned
    people = [user for user in users if user["type"] in ("User", "Admin")]
    managers = gen.sample([user for user in people if user["status"] == "ACTIVE"], 6)
    for user in people:
        manager = gen.pick(managers)
        if manager["id"] != user["id"]:
            user["manager"] = {"id": manager["id"], "name": manager["fullName"]}
    groups = {spec[0]: _group(gen, connector, spec, domain) for spec in GROUP_SPECS}
    members: dict[str, list[Record]] = {name: [] for name in groups}
    for user in users:
        chosen = ["Everyone"]
        if user["type"] == "Guest":
            chosen.append("Contractors")
        elif user["type"] in ("User", "Admin"):
            chosen += [user["ldapPerson"]["department"], "All Staff"]
            chosen += gen.sample(EXTRA_GROUPS, gen.number(0, 2))
            if user["type"] == "Admin":
                chosen.append("IT Admins")
        for name in dict.fromkeys(chosen):
            members[name].append(_membership(gen, user, dynamic=name == "Everyone"))
            user["groups"].append(short(groups[name]))
    for spec in GROUP_SPECS:
        name, parent = spec[0], spec[4]
        if parent is not None:
            child, mother = groups[name], groups[parent]
            child["parentGroups"].append(short(mother))
            mother["childGroups"].append(short(child))
            nested = {k: v for k, v in group_reference(child).items() if k != "uid"}
            members[parent].append(_member(child["id"], "group", child["createdAt"], group=nested))
    if connector == AZURE:
        for name, app in (
            ("AWS Production Access", "terraform-deployer"),
            ("IT Admins", "scim-provisioning"),
        ):
            principal = {
                "id": gen.uuid(),
                "name": app,
                "appId": gen.uuid(),
                "description": f"Enterprise application {app}",
            }
            members[name].append(
                _member(
                    principal["id"], "servicePrincipal", iso(gen.past(300, 30)), servicePrincipal=principal
                )
            )
    admins = [user for user in people if user["type"] == "Admin"] or people
    for name, group in groups.items():
        group["memberCount"] = len(members[name])
        group["owners"] = [
            {"id": owner_["id"], "name": owner_["fullName"]} for owner_ in gen.sample(admins, 2)
        ]
        tables["identity_group_members"][(*scope, group["id"])] = members[name]
    tables["identity_users"][scope] = users
    tables["identity_groups"][scope] = list(groups.values())
    for user in users:
        tables[DEVICES_KIND][(*scope, user["id"])] = devices[user["id"]]
        tables["identity_sessions"][(*scope, user["id"])] = _sessions(gen, connector, user)
    logs = [_audit_log(gen, connector, users) for _ in range(AUDIT_LOGS_PER_INTEGRATION)]
    tables["identity_audit_logs"][scope] = sorted(logs, key=lambda log: log["eventPublished"], reverse=True)


# ---- filters --------------------------------------------------------------------------------------------


def _min_search(*fields: str) -> Filter:
    """`search`: at least three characters, as Unizo's tools say."""
    plain = search(*fields)

    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if len(value) < 3:
            raise ValueError("must be at least 3 characters")
        return value

    def sample(record: Shown) -> str | None:
        found = plain.sample(record)
        return found if found is not None and len(found) >= 3 else None

    return Filter(parse=parse, matches=plain.matches, sample=sample)


def _boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value == "true"


def _has(count: Callable[[Shown], int]) -> Filter:
    """A boolean filter (`true`/`false`): whether the record has any of something (`count` > 0)."""
    return Filter(
        parse=_boolean,
        matches=lambda record, wanted, _: (count(record) > 0) == wanted,
        sample=lambda record: "true" if count(record) > 0 else "false",
    )


def _text(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _any_id(field: str) -> Filter:
    """One of the references in the list `field` has the id (ids compare exactly)."""
    return Filter(
        parse=_text,
        matches=lambda record, wanted, _: any(item.get("id") == wanted for item in record.get(field) or ()),
        sample=lambda record: next((item["id"] for item in record.get(field) or ()), None),
    )


def _session_status() -> Filter:
    """`status`: one of the session statuses, or `all`."""

    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value != "all" and value not in SESSION_STATUSES:
            raise ValueError(f"must be one of {', '.join(SESSION_STATUSES)} or all")
        return value

    return Filter(
        parse=parse,
        matches=lambda record, wanted, _: wanted == "all" or record["status"] == wanted,
        sample=lambda record: str(record["status"]),
    )


# ---- endpoints ------------------------------------------------------------------------------------------

USER_FILTERS: dict[str, Filter | str] = {
    "status": "status",
    "mfaStatus": "mfaStatus",
    "userType": "type",
    "search": _min_search("email", "username", "firstName", "lastName", "fullName"),
    "domain": "domain",
    "hasDevices": _has(lambda record: len(record["devices"])),
    "lastLoginDays": within_days("lastLogin"),
}
GROUP_FILTERS: dict[str, Filter | str] = {
    "groupType": "type",
    "status": "status",
    "search": _min_search("name", "displayName", "description"),
    "hasMembers": _has(lambda record: int(record["memberCount"])),
    "parentGroupId": _any_id("parentGroups"),
}
MEMBER_FILTERS: dict[str, Filter | str] = {
    "memberType": equals("type"),
    "status": "status",
    "search": search(
        "user.email",
        "user.firstName",
        "user.lastName",
        "user.username",
        "group.name",
        "servicePrincipal.name",
    ),
}

USERS = Resource(
    kind="identity_users",
    path="/identity/users",
    label="user",
    sortable=USER_SORT_FIELDS,
    filters=USER_FILTERS,
)
# The item routes of users and groups take `expand`, so they are custom routes; these declare the parents
# of sessions and members (and find the records), with no routes of their own.
USER = Resource(
    kind="identity_users", path="/identity/users", label="user", sortable={"id"}, item_param="userId"
)
GROUPS = Resource(
    kind="identity_groups",
    path="/identity/groups",
    label="group",
    sortable=GROUP_SORT_FIELDS,
    filters=GROUP_FILTERS,
)
GROUP = Resource(
    kind="identity_groups", path="/identity/groups", label="group", sortable={"id"}, item_param="groupId"
)
MEMBERS = Resource(
    kind="identity_group_members",
    path="/identity/groups/{groupId}/members",
    label="member",
    sortable=MEMBER_SORT_FIELDS,
    item_param="memberId",
    parent=GROUP,
    filters=MEMBER_FILTERS,
)
SESSIONS = Resource(
    kind="identity_sessions",
    path="/identity/users/{userId}/sessions",
    label="session",
    sortable=SESSION_SORT_FIELDS,
    item_param="sessionId",
    parent=USER,
    filters={"status": _session_status(), "from": since("createdTimeDt"), "to": until("createdTimeDt")},
)
AUDIT_LOGS = Resource(
    kind="identity_audit_logs",
    path="/identity/logs",
    label="audit log",
    sortable=LOG_SORT_FIELDS,
    item_param="auditLogId",
    filters={"since": since("eventPublished"), "type": "eventType"},
)

USER_EXPANSIONS = ("groups", "devices", "manager", "sessions")
GROUP_EXPANSIONS = ("members", "owners", "parentGroups", "childGroups")


def _expansions(request: web.Request, choices: Sequence[str]) -> set[str]:
    """The comma-separated `expand` values (also as repeated parameters); `all` means every one."""
    wanted: set[str] = set()
    for raw in request.query.getall("expand", []):
        for value in (part.strip() for part in raw.split(",")):
            if value == "all":
                wanted.update(choices)
            elif value in choices:
                wanted.add(value)
            elif value:
                raise invalid("expand", f"expand must list some of {', '.join(choices)} or all")
    return wanted


def _expanded_user(sandbox: Sandbox, location: Location, user: Record, wanted: set[str]) -> Record:
    scope = location.scope
    served = dict(user)
    if "groups" in wanted:
        served["groups"] = [
            group_reference(group)
            for ref in user["groups"]
            if (group := sandbox.records.get("identity_groups", scope, ref["id"])) is not None
        ]
    if "devices" in wanted:
        served["devices"] = list(sandbox.records.items(DEVICES_KIND, (*scope, user["id"])))
    if "manager" in wanted and user["manager"] is not None:
        manager = sandbox.records.get("identity_users", scope, user["manager"]["id"])
        served["manager"] = None if manager is None else user_reference(manager)
    if "sessions" in wanted:
        sessions = sandbox.records.items("identity_sessions", (*scope, user["id"]))
        served["sessions"] = [session for session in sessions if session["status"] == "active"]
    return served


def _expanded_group(sandbox: Sandbox, location: Location, group: Record, wanted: set[str]) -> Record:
    scope = location.scope
    served = dict(group)
    for field in ("parentGroups", "childGroups"):
        if field in wanted:
            served[field] = [
                group_reference(found)
                for ref in group[field]
                if (found := sandbox.records.get("identity_groups", scope, ref["id"])) is not None
            ]
    if "owners" in wanted:
        served["owners"] = [
            user_reference(found)
            for ref in group["owners"]
            if (found := sandbox.records.get("identity_users", scope, ref["id"])) is not None
        ]
    if "members" in wanted:
        members = sandbox.records.items("identity_group_members", (*scope, group["id"]))
        served["members"] = [_member_reference(member) for member in members[:100]]
    return served


def _member_reference(member: Record) -> Record:
    if member["type"] == "user":
        user = member["user"]
        return {"id": member["id"], "type": "user", "name": user["username"], "href": user["href"]}
    if member["type"] == "group":
        group = member["group"]
        return {"id": member["id"], "type": "group", "name": group["name"], "href": group["href"]}
    return {"id": member["id"], "type": "servicePrincipal", "name": member["servicePrincipal"]["name"]}


def _item_with_expand(
    resource: Resource,
    choices: Sequence[str],
    expand: Callable[[Sandbox, Location, Record, set[str]], Record],
) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        location, record = locate_item(request, resource)
        wanted = _expansions(request, choices)
        served = expand(sandbox_of(request), location, record, wanted) if wanted else record
        return record_response(served)

    return handler


SERVICE = SandboxService(
    name="identity",
    category="IDENTITY",
    connectors=((OKTA, "Okta"), (AZURE, "Microsoft Entra ID")),
    path_prefixes=("identity",),
    generate=generate,
    probe="/identity/users",
    resources=(USERS, GROUPS, MEMBERS, SESSIONS, AUDIT_LOGS),
    routes=(
        Route("GET", USER.path + "/{userId}", _item_with_expand(USER, USER_EXPANSIONS, _expanded_user)),
        Route("GET", GROUP.path + "/{groupId}", _item_with_expand(GROUP, GROUP_EXPANSIONS, _expanded_group)),
    ),
)
