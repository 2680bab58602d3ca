"""The servers under test, what the external clients should see from each, and how to run them on HTTP.

A target is one console script: every installed service's own server and the all-in-one server, all found
through `unizo_mcp_core.registry`, so a new service package is tested with no change here. The expected
tool surface comes from two places on purpose: the installed service declarations, so the list must match
what the packages declare exactly, and hand-written rules that hold for every service (the two discovery
tools exist; a `list`/`get` tool is read-only, a `create` tool is not), so a declaration that drifts from
what an MCP host must understand (a write tool marked read-only) fails too.

The calls made come from the declarations as well (`ServiceSpec.id_source` and the tools' paths): a get
tool with an id that does not exist for the error call, and for the read call the generic walk of a
service: its first list tool that needs no parent id, the first record's id, that record's get tool.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

from servicekit import is_category, is_top_list
from unizo_mcp_core.registry import ALL_IN_ONE_PACKAGE, discover_services, package_name

if TYPE_CHECKING:
    from unizo_mcp_core.spec import Annotations, ServiceSpec, ToolSpec

ALL_IN_ONE = "server"  # the pytest id of the all-in-one server

# What MCP says a host must assume for a hint the server leaves out (spec: ToolAnnotations).
MCP_HINT_DEFAULTS = {
    "readOnlyHint": False,
    "destructiveHint": True,
    "idempotentHint": False,
    "openWorldHint": True,
}


def effective_hints(annotations: Mapping[str, Any] | None) -> dict[str, bool]:
    """The four behaviour hints as a host understands them: stated values, else the MCP defaults."""
    stated = annotations or {}
    return {name: bool(stated.get(name, default)) for name, default in MCP_HINT_DEFAULTS.items()}


READ = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": True}
CREATE = {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": False, "openWorldHint": True}

# Independent expectations, by the verb after the service prefix (`<service>_<verb>_...`): what an MCP
# host must understand of any tool so named, whatever its declaration says.
VERB_HINTS: dict[str, dict[str, bool]] = {"list": READ, "get": READ, "create": CREATE}
DISCOVERY_TOOLS = ("{service}_list_connectors", "{service}_list_integrations")  # every category has both


def expected_hints(tool: str, services: tuple[str, ...]) -> dict[str, bool] | None:
    """The hints a tool must have by its name, or None when its verb says nothing definite."""
    for service in services:
        if tool.startswith(f"{service}_"):
            verb = tool.removeprefix(f"{service}_").split("_", 1)[0]
            return VERB_HINTS.get(verb)
    return None


MISSING_ID = "ext-inspector-missing-0001"  # an id no sandbox collection contains


@cache
def specs() -> dict[str, ServiceSpec]:
    """The installed services by name (`unizo_mcp_core.registry.discover_services`)."""
    return discover_services()


def installed_services() -> tuple[str, ...]:
    """The services the all-in-one server discovers: every installed service package."""
    return tuple(specs())


def reader_of(spec: ServiceSpec, path: str) -> ToolSpec | None:
    """The get tool of one record under `path` (a GET at `path/{<param>}`)."""
    for tool in spec.tools:
        params = tool.path_params()
        if (
            tool.method == "GET"
            and not tool.paginated
            and params
            and tool.path == f"{path}/{{{params[-1].name}}}"
        ):
            return tool
    return None


def error_tool(spec: ServiceSpec) -> ToolSpec:
    """The get tool the error call uses: the one with the fewest path parameters whose parents (every
    path parameter but the last, which gets the missing id) the list tools can provide."""
    candidates = [
        t
        for t in spec.tools
        if t.method == "GET"
        and not t.paginated
        and t.path_params()
        and all(spec.id_source(p.name) is not None for p in t.path_params()[:-1])
    ]
    if not candidates:
        raise LookupError(f"service {spec.name} declares no get tool with an id parameter")
    return min(candidates, key=lambda t: len(t.path_params()))


def has_discovery(service: str) -> bool:
    """A category (its own integrations, hence `<svc>_list_connectors`), not an account-level service."""
    return is_category(specs()[service])


def top_list(spec: ServiceSpec) -> ToolSpec:
    """The first paged GET that needs no path id: what an account-level service lists with no argument."""
    for tool in spec.all_tools():
        if is_top_list(tool):
            return tool
    raise LookupError(f"service {spec.name} declares no list tool without a path id")


@dataclass(frozen=True)
class Target:
    name: str  # pytest id
    script: str  # console script
    services: tuple[str, ...] | None  # None: every installed service (the all-in-one server)
    ok_service: str  # the successful call is one of this service's lists (see `ok_tool`)
    error_service: str  # a get tool of this service is called with an id that does not exist

    def expected_services(self) -> tuple[str, ...]:
        return self.services if self.services is not None else installed_services()

    @property
    def ok_tool(self) -> str:
        """`<svc>_list_connectors` for a category; an account-level service's first top-level list."""
        if has_discovery(self.ok_service):
            return f"{self.ok_service}_list_connectors"
        return top_list(specs()[self.ok_service]).name

    @property
    def error_tool(self) -> ToolSpec:
        return error_tool(specs()[self.error_service])

    def executable(self) -> Path:
        """The console script installed next to this interpreter (the nox session's venv)."""
        bindir = Path(sys.executable).parent
        for candidate in (bindir / self.script, bindir / f"{self.script}.exe"):
            if candidate.exists():
                return candidate
        raise FileNotFoundError(
            f"{self.script} is not installed next to {sys.executable}: install the workspace "
            "(pip install -e shared/core -e shared/sandbox -e packages/...)"
        )


def _targets() -> dict[str, Target]:
    names = installed_services()
    targets = {n: Target(n, package_name(n), (n,), n, n) for n in names}
    if names:  # the all-in-one server: every installed service; tools of two different services are called
        categories = [n for n in names if has_discovery(n)] or list(names)
        targets[ALL_IN_ONE] = Target(ALL_IN_ONE, ALL_IN_ONE_PACKAGE, None, categories[-1], categories[0])
    return targets


TARGETS: dict[str, Target] = _targets()

# The read calls: every service through its own server (stdio) and through the all-in-one server (HTTP).
READS: list[tuple[str, str, str]] = [(n, "stdio", n) for n in installed_services()] + [
    (ALL_IN_ONE, "http", n) for n in installed_services() if ALL_IN_ONE in TARGETS
]


def declared_tools(services: tuple[str, ...]) -> dict[str, dict[str, bool]]:
    """Tool name -> MCP annotations, from the installed service declarations."""
    tools: dict[str, dict[str, bool]] = {}
    for service in services:
        if service not in specs():
            raise LookupError(f"service {service!r} is not installed (entry point group unizo_mcp.services)")
        for tool in specs()[service].all_tools():
            tools[tool.name] = mcp_hints(tool.annotations)
    return tools


def mcp_hints(annotations: Annotations) -> dict[str, bool]:
    """A declaration's hints under their MCP names; a hint the declaration leaves open is left out."""
    hints = {
        "readOnlyHint": annotations.read_only,
        "destructiveHint": annotations.destructive,
        "idempotentHint": annotations.idempotent,
    }
    if annotations.open_world is not None:
        hints["openWorldHint"] = annotations.open_world
    return hints


# --- the entries users paste into their MCP client ------------------------------------------------------


def shell_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without any UNIZO_* setting of the developer's shell, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIZO_")}
    env.update(extra or {})
    return env


def printed_entry(target: Target, env: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    """(name, entry): the one `mcpServers` entry `<script> --print-config` prints when run in `env`."""
    argv = [str(target.executable()), "--print-config"]
    done = subprocess.run(argv, env=dict(env), capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{target.script} --print-config exited {done.returncode}: {done.stderr[-2000:]}")
    servers = json.loads(done.stdout)["mcpServers"]
    if not isinstance(servers, dict) or len(servers) != 1:
        raise RuntimeError(f"{target.script} --print-config printed {len(servers)} entries, not one")
    name, entry = next(iter(servers.items()))
    return str(name), dict(entry)


# --- facts from the sandbox, asked over its public HTTP API -----------------------------------------------


@dataclass(frozen=True)
class Integration:
    id: str
    name: str
    connector: str


def _https_json(
    base_url: str,
    ca_file: str,
    method: str,
    path: str,
    key: str,
    body: Any = None,
    integration_id: str | None = None,
) -> Any:
    parts = urlsplit(base_url)
    context = ssl.create_default_context(cafile=ca_file)
    conn = http.client.HTTPSConnection(parts.hostname or "127.0.0.1", parts.port, context=context, timeout=30)
    try:
        payload = None if body is None else json.dumps(body)
        headers = {"apikey": key, "Accept": "application/json", "Content-Type": "application/json"}
        if integration_id:
            headers["integrationId"] = integration_id
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"sandbox {method} {path} answered {response.status}: {data[:300]!r}")
        return json.loads(data)
    finally:
        conn.close()


def sandbox_integrations(base_url: str, ca_file: str, key: str, service: str) -> list[Integration]:
    """The integrations of one service's category the key sees (`POST /api/v1/integrations/search`)."""
    body = {
        "filter": {"and": [{"property": "/type", "operator": "=", "values": [specs()[service].category]}]},
        "pagination": {"offset": 0, "limit": 100},
    }
    data = _https_json(base_url, ca_file, "POST", "/api/v1/integrations/search", key, body)
    found = []
    for item in data.get("data") or []:
        profile = item.get("serviceProfile") or {}
        found.append(
            Integration(str(item["id"]), str(item.get("name", "")), str(profile.get("name", "")).lower())
        )
    return sorted(found, key=lambda i: i.id)


def sandbox_path(tool: ToolSpec, values: Mapping[str, str]) -> str:
    """The API path of `tool` with its path parameters filled (each value one encoded segment)."""
    path = tool.path
    for param in tool.path_params():
        path = path.replace("{" + param.name + "}", quote(values[param.name], safe=""))
    return "/api/v1" + path


def first_record_id(
    env: Mapping[str, str], integration: str, tool: ToolSpec, values: Mapping[str, str]
) -> str | None:
    """The id of the first record `tool` lists (asked over the sandbox's own API), or None when empty.

    `integration` is "" for an account-level tool (no integrationId header)."""
    query = urlencode({"offset": 0, "limit": 1})
    data = _https_json(
        env["UNIZO_BASE_URL"],
        env["UNIZO_CA_BUNDLE"],
        "GET",
        f"{sandbox_path(tool, values)}?{query}",
        env["UNIZO_API_KEY"],
        integration_id=integration,
    )
    records = data.get("data") if isinstance(data, dict) else None
    return str(records[0]["id"]) if records else None


def parent_ids(env: Mapping[str, str], integration: str, spec: ServiceSpec, tool: ToolSpec) -> dict[str, str]:
    """Real values for every path parameter of `tool` but the last, from the list tools that provide them."""
    values: dict[str, str] = {}
    for param in tool.path_params()[:-1]:
        source = spec.id_source(param.name)
        if source is None:
            raise LookupError(f"{tool.name}: no list tool provides {param.name}")
        found = first_record_id(env, integration, source, values)
        if found is None:
            raise LookupError(f"{source.name} lists nothing in the sandbox: no {param.name} for {tool.name}")
        values[param.name] = found
    return values


@dataclass(frozen=True)
class ReadCall:
    """One read built by the generic walk: the record `tool` is asked for, and its id."""

    tool: str
    arguments: dict[str, str]
    record_id: str


def read_call(env: Mapping[str, str], integration: str, service: str) -> ReadCall:
    """The generic walk of a service: first list tool without a parent id -> first record -> its get tool.

    `integration` is "" for an account-level service."""
    spec = specs()[service]
    for lister in (t for t in spec.tools if t.method == "GET" and t.paginated and not t.path_params()):
        reader = reader_of(spec, lister.path)
        if reader is None:
            continue
        record = first_record_id(env, integration, lister, {})
        if record is None:
            continue
        param = reader.path_params()[-1].name
        scope = {"integration_id": integration} if reader.needs_integration else {}
        return ReadCall(reader.name, {**scope, param: record}, record)
    # An account whose own lists are empty still has integrations: the get of one integration by id
    # (`/integrations/{id}`, an account-level tool), for the first integration any category's search finds.
    for reader in spec.tools:
        params = reader.path_params()
        if (
            reader.method == "GET"
            and len(params) == 1
            and reader.path == f"/integrations/{{{params[0].name}}}"
        ):
            a_category = next(filter(has_discovery, specs()))
            found = sandbox_integrations(
                env["UNIZO_BASE_URL"], env["UNIZO_CA_BUNDLE"], env["UNIZO_API_KEY"], a_category
            )
            if found:
                return ReadCall(reader.name, {params[0].name: found[0].id}, found[0].id)
    raise LookupError(
        f"service {service}: no list tool without a parent id whose first record a get tool reads"
    )


# --- a server on streamable HTTP ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without any UNIZO_* setting of the developer's shell, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIZO_")}
    loopback = "127.0.0.1,localhost,::1"
    no_proxy = ",".join(x for x in (env.get("NO_PROXY") or env.get("no_proxy"), loopback) if x)
    env.update(NO_PROXY=no_proxy, no_proxy=no_proxy, PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "unizo-external-readiness-probe", "version": "0"},
    },
}


def new_http_token() -> str:
    """A random bearer token for one run's HTTP servers (UNIZO_HTTP_TOKEN: >= 16 characters, no space)."""
    return secrets.token_urlsafe(32)


@dataclass
class HttpServer:
    """One MCP server process on `--transport streamable-http`, on a free loopback port.

    The server requires `Authorization: Bearer <token>` on every request; the token is chosen here
    (UNIZO_HTTP_TOKEN), so the clients know it without reading the server's token file.
    """

    target: Target
    env: dict[str, str]
    log_path: Path
    token: str = field(repr=False)
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    _log: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.env = {**self.env, "UNIZO_HTTP_TOKEN": self.token}

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def authorization(self) -> str:
        """The header value every request to this server needs."""
        return f"Bearer {self.token}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    def start(self, ready_timeout: float = 60.0, attempts: int = 3) -> None:
        """Start, wait until `/mcp` answers an initialize; retry on another port if the bind lost a race."""
        last = ""
        for _ in range(attempts):
            self.port = free_port()
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
            argv = [
                str(self.target.executable()),
                "--transport",
                "streamable-http",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, env=self.env
            )
            try:
                self._wait_ready(ready_timeout)
                return
            except _Exited as exc:
                last = str(exc)
                self.stop()
                if "address already in use" not in last.lower():
                    break
        raise RuntimeError(f"{self.target.script} did not start on streamable HTTP:\n{last}")

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise _Exited(f"exited with code {self.proc.returncode}; log tail:\n{self.log_tail()}")
            status = self._status()
            if status == 200:
                return
            if status == 401 and self.proc.poll() is None:  # never ready: the token did not reach it
                raise _Exited(f"answered 401 to the bearer token; log tail:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise _Exited(f"no answer on {self.url} after {timeout:.0f}s; log tail:\n{self.log_tail()}")
            time.sleep(0.2)

    def _status(self) -> int | None:
        """The status of an initialize with the bearer token; None when nothing answers yet."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(
                "POST",
                "/mcp",
                body=json.dumps(_INITIALIZE),
                headers={
                    "Content-Type": "application/json",
                    "Accept": "application/json, text/event-stream",
                    "Authorization": self.authorization,
                },
            )
            return conn.getresponse().status
        except OSError:
            return None
        finally:
            conn.close()

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-size:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None
        if self._log is not None:
            with contextlib.suppress(OSError):
                self._log.close()
            self._log = None


class _Exited(RuntimeError):
    pass
