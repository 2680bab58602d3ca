"""API keys: the `uz_<env>_<keyid>_<secret>` format, the hashed key store and the seeded demo keys."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
import re
import secrets
import string
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from unizo_mcp_sandbox.accounts import ACTIONS, PLATFORM, Organization, acme, all_services, beta, organization
from unizo_mcp_sandbox.config import ENVIRONMENT_CODES
from unizo_mcp_sandbox.timeutil import iso, parse_iso

KEY_PATTERN = re.compile(r"uz_(prod|stg|dev)_([0-9a-f]{8})_([A-Za-z0-9_-]{32})")
SECRET_ALPHABET = string.ascii_letters + string.digits + "-_"
CODE_ENVIRONMENTS = {code: env for env, code in ENVIRONMENT_CODES.items()}

Permissions = dict[str, list[str]]


SEEDED_CREATED_AT = parse_iso("2026-01-05T09:00:00Z")
SEEDED_EXPIRES_AT = parse_iso("2036-01-01T00:00:00Z")
EXPIRED_AT = parse_iso("2025-06-30T00:00:00Z")


@attrs.frozen
class ParsedKey:
    environment: str
    key_id: str
    secret: str


def parse_key(text: str) -> ParsedKey | None:
    match = KEY_PATTERN.fullmatch(text)
    if match is None:
        return None
    code, key_id, secret = match.groups()
    return ParsedKey(CODE_ENVIRONMENTS[code], key_id, secret)


def format_key(environment: str, key_id: str, secret: str) -> str:
    return f"uz_{ENVIRONMENT_CODES[environment]}_{key_id}_{secret}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@attrs.define
class ApiKey:
    id: str
    name: str
    environment: str
    secret_sha256: str
    permissions: Permissions
    organization_id: str
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    ip_allowlist: list[str] = attrs.field(factory=list)
    role: str | None = None  # the seeded demo role, None for keys created through the API
    last_used_at: float | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def organization(self) -> Organization:
        return organization(self.organization_id)

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def allows(self, service: str, action: str) -> bool:
        return action in self.permissions.get(service, ())

    def secret_matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_sha256, hash_secret(secret))

    def ip_allowed(self, remote: str | None) -> bool:
        if not self.ip_allowlist:
            return True
        try:
            address = ipaddress.ip_address(remote or "")
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(entry, strict=False) for entry in self.ip_allowlist)

    def public_view(self) -> dict[str, Any]:
        """What the key admin API shows: never the secret nor its hash."""
        return {
            "id": self.id,
            "name": self.name,
            "prefix": f"uz_{ENVIRONMENT_CODES[self.environment]}_{self.id}",
            "environment": self.environment,
            "permissions": self.permissions,
            "organization": self.organization.reference(),
            "createdAt": iso(self.created_at),
            "expiresAt": iso(self.expires_at) if self.expires_at is not None else None,
            "revoked": self.revoked,
            "revokedAt": iso(self.revoked_at) if self.revoked_at is not None else None,
            "ipAllowlist": self.ip_allowlist,
            "lastUsedAt": iso(self.last_used_at) if self.last_used_at is not None else None,
        }

    def to_state(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> ApiKey:
        return cls(**data)


class KeyStore:
    def __init__(self, keys: Iterable[ApiKey] = ()) -> None:
        self._keys = {key.id: key for key in keys}

    def __iter__(self) -> Iterator[ApiKey]:
        return iter(self._keys.values())

    def get(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)

    def add(self, key: ApiKey) -> None:
        self._keys[key.id] = key

    def replace_all(self, keys: Iterable[ApiKey]) -> None:
        self._keys = {key.id: key for key in keys}

    def by_role(self, role: str) -> ApiKey | None:
        return next((key for key in self._keys.values() if key.role == role), None)

    def of_organization(self, organization_id: str) -> list[ApiKey]:
        return [key for key in self._keys.values() if key.organization_id == organization_id]

    def new_key_id(self) -> str:
        while True:
            key_id = secrets.token_hex(4)
            if key_id not in self._keys:
                return key_id


def new_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(32))


@attrs.frozen
class SeededKey:
    role: str
    key: str  # the full key string, known to the sandbox only because it derives it from the seed
    record: ApiKey


def full_access() -> Permissions:
    return {service: list(ACTIONS) for service in all_services()}


def read_only() -> Permissions:
    return {service: ["read"] for service in all_services()}


def service_role(service: str) -> str:
    """The seeded role with every action on `service` and nothing else."""
    return f"{service}_only"


def _other_environment(environment: str) -> str:
    return "staging" if environment != "staging" else "production"


@attrs.frozen
class _Spec:
    role: str
    name: str
    environment: str
    permissions: Permissions
    organization: Organization
    extra: dict[str, Any] = attrs.field(factory=dict)


# Position of the single-service role that was written by hand before those roles were derived from the
# services: its draw is kept so that the roles after it keep their key values for a given seed.
_RETIRED_DRAW = 2


def _fixed_specs(environment: str) -> list[_Spec]:
    full, other = full_access(), _other_environment(environment)
    return [
        _Spec("full", "demo-full", environment, full, acme()),
        _Spec("readonly", "demo-readonly", environment, read_only(), acme()),
        _Spec("expired", "demo-expired", environment, full, acme(), {"expires_at": EXPIRED_AT}),
        _Spec("revoked", "demo-revoked", environment, full, acme(), {"revoked_at": SEEDED_CREATED_AT + 3600}),
        _Spec("development", "demo-development", "development", full, acme()),
        _Spec("wrong_environment", "demo-wrong-environment", other, full, acme()),
        _Spec(
            "ip_restricted",
            "demo-ip-restricted",
            environment,
            full,
            acme(),
            {"ip_allowlist": ["10.9.9.9/32"]},
        ),
        _Spec("service_disabled", "beta-full", environment, full, beta()),
    ]


def _service_specs(environment: str) -> list[_Spec]:
    return [
        _Spec(
            service_role(name),
            f"demo-{name.replace('_', '-')}-only",
            environment,
            {name: list(ACTIONS)},
            acme(),
        )
        # account administration too: a key that may manage webhooks and watches and touch no category
        for name in (*acme().enabled_services, PLATFORM)
    ]


def _draw(rng: random.Random, used_ids: set[str]) -> tuple[str, str]:
    key_id = f"{rng.getrandbits(32):08x}"
    while key_id in used_ids:
        key_id = f"{rng.getrandbits(32):08x}"
    used_ids.add(key_id)
    return key_id, "".join(rng.choice(SECRET_ALPHABET) for _ in range(32))


def _seeded(spec: _Spec, key_id: str, secret: str) -> SeededKey:
    record = ApiKey(
        id=key_id,
        name=spec.name,
        environment=spec.environment,
        secret_sha256=hash_secret(secret),
        permissions={service: list(actions) for service, actions in spec.permissions.items()},
        organization_id=spec.organization.id,
        created_at=SEEDED_CREATED_AT,
        role=spec.role,
        **({"expires_at": SEEDED_EXPIRES_AT} | spec.extra),
    )
    return SeededKey(spec.role, format_key(spec.environment, key_id, secret), record)


def seeded_keys(seed: int, environment: str) -> list[SeededKey]:
    """The demo keys, identical for the same seed and sandbox environment.

    The fixed roles draw from one sequence; each `<service>_only` role from its own, so adding a service
    changes no other key.
    """
    rng = random.Random(f"unizo-sandbox-keys:{seed}:{environment}")
    used_ids: set[str] = set()
    seeded = []
    for index, spec in enumerate(_fixed_specs(environment)):
        if index == _RETIRED_DRAW:
            _draw(rng, used_ids)
        seeded.append(_seeded(spec, *_draw(rng, used_ids)))
    for spec in _service_specs(environment):
        own = random.Random(f"unizo-sandbox-keys:{seed}:{environment}:{spec.role}")
        seeded.append(_seeded(spec, *_draw(own, used_ids)))
    return seeded


def reconcile(saved: Iterable[ApiKey], seeded: Iterable[SeededKey]) -> list[ApiKey]:
    """The saved keys brought up to date with today's services.

    Keys created through the API are kept as saved. A seeded key is re-derived (a service added since it
    was saved shows up in its permissions) but keeps its saved revocation and last use; a role the saved
    state lacks is added, and a saved role key that is no longer derived is dropped.
    """
    saved = list(saved)
    current = {item.record.id: item.record for item in seeded}
    saved_roles = {key.id: key for key in saved if key.role is not None}
    created = [key for key in saved if key.role is None]
    for key_id, record in current.items():
        if key_id in saved_roles:
            record.revoked_at = saved_roles[key_id].revoked_at
            record.last_used_at = saved_roles[key_id].last_used_at
    return [*current.values(), *created]


def seeded_admin_token(seed: int) -> str:
    rng = random.Random(f"unizo-sandbox-admin:{seed}")
    return "sbx_" + "".join(rng.choice(SECRET_ALPHABET) for _ in range(32))
