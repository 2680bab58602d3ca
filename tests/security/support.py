"""Shared pieces of the security suite: the servers, explicit environments, sessions, secret scanning.

The servers and their tools come from the ServiceSpecs the packages declare, so a new tool is covered
without touching this suite.
"""

from __future__ import annotations

import base64
import importlib
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from unizo_mcp_core.spec import Param, ServiceSpec, ToolSpec
from unizo_testkit import text_of

HERE = Path(__file__).parent
TEE = HERE / "stdio_tee.py"
BIN = Path(sys.executable).parent

SERVICE_NAMES = ("edr", "scm", "ticketing", "observability")
# server name -> the services it serves; "server" is the all-in-one unizo-mcp-server (installed services,
# in name order, as it discovers them)
SERVERS: dict[str, tuple[str, ...]] = {name: (name,) for name in SERVICE_NAMES} | {
    "server": tuple(sorted(SERVICE_NAMES))
}
CALL_TIMEOUT = 60.0


def service_spec(name: str) -> ServiceSpec:
    spec = importlib.import_module(f"unizo_mcp_{name}.tools").SERVICE
    assert isinstance(spec, ServiceSpec)
    return spec


def specs_of(server: str) -> list[ServiceSpec]:
    return [service_spec(name) for name in SERVERS[server]]


def all_tools(server: str) -> list[tuple[ServiceSpec, ToolSpec]]:
    return [(spec, tool) for spec in specs_of(server) for tool in spec.all_tools()]


def script(server: str) -> str:
    """The console script of `server`, installed next to this interpreter."""
    name = f"unizo-mcp-{server}"
    path = shutil.which(name, path=str(BIN))
    assert path, f"console script {name} is not installed in {BIN}"
    return path


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
    from unizo_mcp_core.registry import discover_services, select_services
    from unizo_mcp_core.server import prepare_server
    from unizo_mcp_core.settings import load_settings

    service = SERVERS[server][0] if server != "server" else None
    settings = load_settings(service, dict(environ))
    if service is None:  # what unizo-mcp-server serves
        specs = select_services(discover_services(), settings.services)
        assert [s.name for s in specs] == list(SERVERS["server"]), "another set of services is installed"
    else:
        specs = specs_of(server)
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
    `workdir/stdout.log` and `workdir/stderr.log`."""
    from mcp import Client, StdioServerParameters

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
    async with Client(params) as client:
        yield client


# --- driving every tool --------------------------------------------------------------------------

Caller = Callable[[str, dict[str, Any]], Awaitable[Any]]
_SOURCE = re.compile(r"(?i)\bfrom (\w+)")
# body parameters that carry ids: (path parameter whose list tool provides them, which item)
BODY_IDS = {
    "ticket_id": ("ticket_id", 0),
    "linked_ticket_id": ("ticket_id", 1),
    "source": ("branch_id", 0),
    "target": ("branch_id", 1),
}
ATTACHMENT = base64.b64encode(b"security suite attachment\n").decode()


def body_value(param: Param) -> Any:
    """A valid value for a body parameter, from its declaration."""
    if param.enum:
        return param.enum[0]
    if param.base64:
        return ATTACHMENT
    if param.type == "boolean":
        return False
    if param.type in ("integer", "number"):
        return int(param.minimum or 1)
    if param.type == "object":
        return {"origin": "security-suite"}
    if param.type == "array":
        if param.items == "object":
            return [{"name": "bulk ticket", "description": "from the security suite", "type": "task"}]
        return ["security-suite"]
    if param.pattern and "#" in param.pattern:
        return "#A1B2C3"
    if param.name.endswith("date"):
        return "2030-01-31"
    if param.name == "mime_type":
        return "text/plain"
    if param.name == "file_name":
        return "report.txt"
    return f"security suite {param.name}"


class Exerciser:
    """Calls every exposed tool of some services with real ids (successes) and with bad ones (failures).

    Ids come from the list tools: the one a path parameter's description names ("From edr_list_devices."),
    else the one the paths imply (`/edr/devices` lists what `/edr/devices/{device_id}` gets). Write tools
    run before reads, so a ticket has a comment, an attachment and a label to read back.
    """

    def __init__(self, call: Caller, services: Sequence[ServiceSpec], exposed: Iterable[str]) -> None:
        self._call = call
        self.services = list(services)
        self.exposed = set(exposed)
        self.results: list[tuple[str, dict[str, Any], Any]] = []
        self.integrations: dict[str, str] = {}
        self._ids: dict[tuple[str, str], str] = {}
        self._lists: dict[tuple[str, str], list[Any]] = {}

    async def call(self, name: str, args: Mapping[str, Any] | None = None) -> Any:
        arguments = dict(args or {})
        result = await self._call(name, arguments)
        self.results.append((name, arguments, result))
        return result

    async def data(self, name: str, args: Mapping[str, Any] | None = None) -> Any:
        result = await self.call(name, args)
        assert not result.is_error, f"{name}({args}) failed: {text_of(result)}"
        return result.structured_content["data"]

    async def discover(self, service: ServiceSpec) -> str:
        """The first integration of the first connector, through the discovery tools."""
        if service.name not in self.integrations:
            connectors = await self.data(f"{service.name}_list_connectors")
            assert connectors, f"no {service.name} connector in the sandbox"
            first = connectors[0]
            connector = first["name"] if isinstance(first, Mapping) else first
            found = await self.data(f"{service.name}_list_integrations", {"connector": connector})
            assert found, f"no integration of connector {connector}"
            self.integrations[service.name] = found[0]["id"]
            none = await self.data(f"{service.name}_list_integrations", {"connector": "no-such-vendor"})
            assert none == []
        return self.integrations[service.name]

    def _tool(self, service: ServiceSpec, name: str) -> ToolSpec:
        return next(t for t in service.all_tools() if t.name == name)

    async def _items(self, service: ServiceSpec, source: str) -> list[Any]:
        tool = self._tool(service, source)
        args = {p.name: await self.ident(service, p) for p in tool.path_params()}
        key = (source, repr(sorted(args.items())))
        if key not in self._lists:
            args["integration_id"] = self.integrations[service.name]
            items = await self.data(source, args)
            assert isinstance(items, list) and items, f"{source}({args}) returned no items"
            self._lists[key] = items
        return self._lists[key]

    def source_tool(self, service: ServiceSpec, param: Param) -> str:
        """The list tool that yields ids for a path parameter: the one its description names, else the
        list tool whose path is the path of a tool ending in `/{param}` without that last segment."""
        match = _SOURCE.search(param.description)
        if match and any(t.name == match.group(1) for t in service.all_tools()):
            return match.group(1)
        suffix = "/{" + param.name + "}"
        for tool in service.tools:
            if tool.path.endswith(suffix):
                parent = tool.path[: -len(suffix)]
                for candidate in service.tools:
                    if candidate.method == "GET" and candidate.path == parent and candidate.paginated:
                        return candidate.name
        raise AssertionError(f"{service.name}: no list tool yields {param.name}")

    async def ident(self, service: ServiceSpec, param: Param, index: int = 0) -> str:
        """A real id for `param`, from the list tool that lists such ids."""
        key = (service.name, f"{param.name}#{index}")
        if key not in self._ids:
            source = self.source_tool(service, param)
            items = await self._items(service, source)
            assert len(items) > index, f"{source} returned fewer than {index + 1} items"
            item = items[index]
            value = item.get("id") or item.get("name") if isinstance(item, Mapping) else item
            self._ids[key] = str(value)
        return self._ids[key]

    async def valid_args(self, service: ServiceSpec, tool: ToolSpec) -> dict[str, Any]:
        args: dict[str, Any] = {p.name: await self.ident(service, p) for p in tool.path_params()}
        if tool.needs_integration:
            args["integration_id"] = self.integrations[service.name]
        body = [p for p in tool.params if p.location in ("body", "file")]
        wanted = [p for p in body if p.required]
        if not wanted and body:  # an update: change one plain text field
            wanted = [next(p for p in body if p.type == "string" and not p.enum)]
        for param in wanted:
            if param.location == "body" and param.name in BODY_IDS:
                # ids in a body (link two tickets, branches of a pull request): real ones from their list tool
                path_name, index = BODY_IDS[param.name]
                source = next(p for t in service.tools for p in t.path_params() if p.name == path_name)
                args[param.name] = await self.ident(service, source, index)
            else:
                args[param.name] = body_value(param)
        return args

    async def exercise(self, service: ServiceSpec) -> None:
        """Every exposed tool of `service`: once with valid arguments, then with failing ones."""
        await self.discover(service)
        tools = [t for t in service.tools if t.name in self.exposed]
        writes = [t for t in tools if t.method != "GET"]
        reads = [t for t in tools if t.method == "GET"]
        for tool in [*writes, *reads]:
            args = await self.valid_args(service, tool)
            result = await self.call(tool.name, args)
            assert not result.is_error, f"{tool.name}({args}) failed: {text_of(result)}"
            # failures: an unknown id (404 from the API), a refused value (local), a schema error
            if tool.path_params():
                last = tool.path_params()[-1].name
                missing = await self.call(tool.name, {**args, last: "does-not-exist-404"})
                assert missing.is_error, f"{tool.name} with an unknown {last} did not fail"
                refused = await self.call(tool.name, {**args, last: "../escape"})
                assert refused.is_error
            if tool.paginated:
                bad_sort = await self.call(tool.name, {**args, "sort": "no_such_field"})
                assert bad_sort.is_error, f"{tool.name} with an unknown sort field did not fail"
            schema = await self.call(tool.name, {**args, "no_such_argument": 1})
            assert schema.is_error
