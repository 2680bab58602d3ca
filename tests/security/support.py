"""Shared pieces of the security suite: the servers, explicit environments, sessions, secret scanning.

The servers are the installed services (the registry's discovery), each under its own console script,
plus the all-in-one `unizo-mcp-server`; their tools are the declarations. A new service or tool is covered
without touching this suite.
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from servers.helpers import script as console_script
from servicekit import installed, is_top_list, tools_where
from unizo_mcp_core.registry import ALL_IN_ONE_PACKAGE, package_name
from unizo_mcp_core.spec import ServiceSpec, ToolSpec
from unizo_testkit import text_of

__all__ = ["text_of"]  # re-exported for the test modules

HERE = Path(__file__).parent
TEE = HERE / "stdio_tee.py"

SERVICES: tuple[ServiceSpec, ...] = tuple(installed().values())
ALL_IN_ONE = ALL_IN_ONE_PACKAGE
# console script -> the services it serves: one per installed service, and the all-in-one server
# (every installed service, in name order, as it discovers them)
SERVERS: dict[str, tuple[ServiceSpec, ...]] = {package_name(s.name): (s,) for s in SERVICES} | {
    ALL_IN_ONE: SERVICES
}
SINGLE_SERVERS: list[str] = [server for server in SERVERS if server != ALL_IN_ONE]


def specs_of(server: str) -> tuple[ServiceSpec, ...]:
    return SERVERS[server]


def all_tools(server: str) -> list[tuple[ServiceSpec, ToolSpec]]:
    return [(spec, tool) for spec in specs_of(server) for tool in spec.all_tools()]


def server_of(spec: ServiceSpec) -> str:
    """The console script that serves `spec` alone."""
    return package_name(spec.name)


def listable(spec: ServiceSpec) -> bool:
    """The service has a list tool callable with nothing but the integration (most scenarios need one)."""
    return bool(tools_where(spec, is_top_list))


def top_list(spec: ServiceSpec) -> ToolSpec:
    """The service's first list tool callable with nothing but the integration."""
    found = tools_where(spec, is_top_list)
    assert found, f"{spec.name} has no list tool without path parameters"
    return found[0]


def script(server: str) -> str:
    """The console script `server` (one of SERVERS; a service name is taken for its own script),
    installed next to this interpreter, as its stand-in from tests/forkserver.py."""
    return console_script(server if server in SERVERS else package_name(server))


def base_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal explicit environment for a subprocess: nothing of the developer's shell leaks in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra or {})
    return env


# --- secrets ---------------------------------------------------------------------------------


def key_secret(key: str) -> str:
    """The secret part of a `uz_<env>_<keyid>_<secret>` key (what must never be shown)."""
    parts = key.split("_", 3)
    return parts[3] if len(parts) == 4 else key


def secret_values(keys: Iterable[str], proxy_credentials: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """label -> value of everything that must never appear anywhere."""
    values: dict[str, str] = {}
    for index, key in enumerate(keys):
        values[f"key #{index}"] = key
        values[f"secret part of key #{index}"] = key_secret(key)
    for index, (user, password) in enumerate(proxy_credentials):
        values[f"proxy password #{index}"] = password
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        values[f"Proxy-Authorization value #{index}"] = basic
    return values


def find_leaks(texts: Mapping[str, str], secrets: Mapping[str, str]) -> list[str]:
    """'<secret label> in <where>' for every secret found in any text."""
    found = []
    for where, text in texts.items():
        for label, value in secrets.items():
            if value and value in text:
                at = text.index(value)
                context = text[max(0, at - 60) : at].replace("\n", "\\n")
                found.append(f"{label} in {where} (after ...{context!r})")
    return found


def assert_no_leaks(texts: Mapping[str, str], secrets: Mapping[str, str]) -> None:
    leaks = find_leaks(texts, secrets)
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)


# --- sessions --------------------------------------------------------------------------------


@asynccontextmanager
async def inprocess_client(
    server: str, environ: Mapping[str, str], *, mode: str = "auto"
) -> AsyncIterator[tuple[Any, Any]]:
    """(mcp Client, server) for `server` built in this process from `environ`."""
    from mcp import Client
    from unizo_mcp_core.registry import select_services
    from unizo_mcp_core.server import prepare_server
    from unizo_mcp_core.settings import load_settings

    service = None if server == ALL_IN_ONE else specs_of(server)[0].name
    settings = load_settings(service, dict(environ))
    if service is None:  # what unizo-mcp-server serves
        specs = select_services(installed(), settings.services)
        if settings.services is None:
            assert [s.name for s in specs] == [s.name for s in SERVICES]
    else:
        specs = list(specs_of(server))
    mcp_server = await prepare_server(settings, specs)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(mcp_server.aclose)
        client = await stack.enter_async_context(Client(mcp_server.mcp, mode=mode))
        yield client, mcp_server


@asynccontextmanager
async def stdio_client(
    server: str, env: Mapping[str, str], workdir: Path, args: Sequence[str] = ()
) -> AsyncIterator[Any]:
    """An mcp Client on `server` run as a subprocess over stdio; its stdout and stderr are copied to
    `workdir/stdout.log` and `workdir/stderr.log` (and whatever stdio_tee.py itself prints to
    `workdir/tee.log`: the SDK's default, sys.stderr, may be a capture that a test has closed since)."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client as stdio_transport

    params = StdioServerParameters(
        command=sys.executable,
        args=[
            str(TEE),
            str(workdir / "stdout.log"),
            str(workdir / "stderr.log"),
            "--",
            script(server),
            *args,
        ],
        env=dict(env),
        cwd=str(workdir),
    )
    with (workdir / "tee.log").open("w") as errlog:
        async with Client(stdio_transport(params, errlog=errlog)) as client:
            yield client


def integrations_of(sandbox: Any, specs: Iterable[ServiceSpec]) -> dict[str, str]:
    """The first integration of each category among `specs` (an account-level service has none)."""
    return {spec.name: sandbox.integrations(spec.name)[0]["id"] for spec in specs if spec.discovery}
