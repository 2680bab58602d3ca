"""Which Unizo services are installed, and what they are called: the one place that knows.

A service package registers its `ServiceSpec` in the entry-point group `unizo_mcp.services`
(`edr = "unizo_mcp_edr.tools:SERVICE"`); nothing in the core, the all-in-one server, the tests, the
demo or the benchmarks lists services by hand. Names of packages, console scripts, modules and key
variables are derived here from the service name.

A leaf module: the standard library and `errors` only (the specs are loaded lazily), so the CLI's
fast paths can use it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from . import __version__ as core_version
from .errors import ConfigError

if TYPE_CHECKING:
    from .spec import ServiceSpec

__all__ = [
    "ALL_IN_ONE_PACKAGE",
    "CORE_PACKAGE",
    "ENTRY_POINT_GROUP",
    "discover_services",
    "installed_service_names",
    "module_name",
    "package_name",
    "select_services",
    "server_name",
    "user_agent",
]

ENTRY_POINT_GROUP = "unizo_mcp.services"
ALL_IN_ONE_PACKAGE = "unizo-mcp-server"
CORE_PACKAGE = "unizo-mcp-core"


def package_name(service: str) -> str:
    """The distribution and console script of a service: "unizo-mcp-key-management"."""
    return f"unizo-mcp-{service.replace('_', '-')}"


def module_name(service: str) -> str:
    """The import package of a service: "unizo_mcp_key_management"."""
    return f"unizo_mcp_{service}"


def server_name(service: ServiceSpec | None) -> str:
    """The server's MCP name and its key in `mcpServers`: "unizo-edr", or "unizo" for the all-in-one."""
    return f"unizo-{service.name.replace('_', '-')}" if service is not None else "unizo"


def user_agent(
    services: Sequence[ServiceSpec], package: str | None = None, version: str | None = None
) -> str:
    """The User-Agent of API calls: "unizo-mcp-edr/0.1.0 unizo-mcp-core/0.1.0"."""
    if package is None and len(services) == 1:
        package, version = services[0].package, services[0].version
    head = f"{package or ALL_IN_ONE_PACKAGE}/{version or core_version}"
    return f"{head} {CORE_PACKAGE}/{core_version}"


def installed_service_names() -> list[str]:
    """The names of the installed services, without importing their modules."""
    from importlib.metadata import entry_points  # not on the fast paths of single-service servers

    return sorted({point.name for point in entry_points(group=ENTRY_POINT_GROUP)})


def discover_services() -> dict[str, ServiceSpec]:
    """Installed service packages by service name, in name order. A broken package is reported on
    stderr and skipped: it must not take the others down."""
    from importlib.metadata import entry_points

    from .spec import ServiceSpec

    found: dict[str, ServiceSpec] = {}
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            spec = point.load()
        except Exception as exc:
            sys.stderr.write(f"warning: cannot load Unizo service {point.name!r} ({point.value}): {exc}\n")
            continue
        if isinstance(spec, ServiceSpec):
            found.setdefault(spec.name, spec)
        else:
            sys.stderr.write(
                f"warning: entry point {point.name!r} ({point.value}) is not a ServiceSpec; ignored\n"
            )
    return found


def selected_names(installed: Sequence[str], wanted: frozenset[str] | None) -> list[str]:
    """The names of the services to run; ConfigError when none is installed or one is unknown."""
    if not installed:
        raise ConfigError(
            "No Unizo service package is installed",
            hint=(
                f"Install one (pip install unizo-mcp-<service>), or pip install '{ALL_IN_ONE_PACKAGE}[all]'."
            ),
        )
    if wanted is None:
        return sorted(installed)
    unknown = sorted(n for n in wanted if n not in installed)
    if unknown:
        raise ConfigError(
            f"Unknown service(s) in --services/UNIZO_SERVICES: {', '.join(unknown)}; "
            f"installed: {', '.join(sorted(installed))}"
        )
    return sorted(wanted)


def select_services(installed: Mapping[str, ServiceSpec], wanted: frozenset[str] | None) -> list[ServiceSpec]:
    """The services the all-in-one server runs: all installed, or those named by --services."""
    return [installed[n] for n in selected_names(list(installed), wanted)]
