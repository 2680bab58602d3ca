"""What the generic sandbox tests share: the discovered services, and picks among them by property.

These tests exercise machinery (keys, limits, faults, lists, persistence, webhooks, admin): they must not
name a service, so they take the services from discovery. A service's own emulation is tested in
packages/<service>/tests/test_sandbox_<service>.py.
"""

from __future__ import annotations

from unizo_mcp_sandbox.services import SandboxService
from unizo_mcp_sandbox.testclient import API, Reply, SandboxClient
from unizo_mcp_sandbox.testing import sandbox_services, service_role

SERVICES = sandbox_services()
SERVICE_IDS = [service.name for service in SERVICES]
# A service both organizations have: the default subject of tests about machinery rather than services.
SHARED = next(service for service in SERVICES if service.second_organization)
# Services Beta Corp (the `service_disabled` key's organization) has not enabled.
UNSHARED = [service for service in SERVICES if not service.second_organization]
PROBE = API + SHARED.probe
WEBHOOKS = API + "/webhooks"
KEYS = API + "/apiKeys"

Api = SandboxClient  # the name these tests use for their client

__all__ = [
    "API",
    "KEYS",
    "PROBE",
    "SERVICES",
    "SERVICE_IDS",
    "SHARED",
    "UNSHARED",
    "WEBHOOKS",
    "Api",
    "Reply",
    "hook_body",
    "probe",
    "service_role",
]


def probe(service: SandboxService) -> str:
    """The service's cheap list endpoint, as a full path."""
    return API + service.probe


def hook_body(index: int = 0, **changes: object) -> dict[str, object]:
    """A valid webhook registration (the platform's own write, used where any write will do)."""
    body: dict[str, object] = {
        "name": f"hook-{index}",
        "url": f"http://127.0.0.1:9/{index}",
        "events": ["*"],
        "secret": "s3cret-value",
    }
    return body | changes
