"""The servers under test, what the external clients should see from each, and how to run them on HTTP.

A target is one console script. The expected tool surface comes from two places on purpose:
the installed service declarations (entry point group `unizo_mcp.services`), so the list must match what
the packages declare exactly, and a few hand-written sentinels per service, so a declaration that drifts
from what this suite expects (a write tool marked read-only, a renamed tool) fails too.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SERVICES = ("edr", "scm", "ticketing", "observability")

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

# Independent expectations: a few tools per service and the hints an MCP host must understand for them.
SENTINELS: dict[str, dict[str, dict[str, bool]]] = {
    "edr": {
        "edr_list_connectors": READ,
        "edr_list_integrations": READ,
        "edr_list_devices": READ,
        "edr_get_device_details": READ,
        "edr_get_device_alert_details": READ,
    },
    "scm": {
        "scm_list_connectors": READ,
        "scm_list_repositories": READ,
        "scm_get_pull_request": READ,
        "scm_create_pull_request": CREATE,
    },
    "ticketing": {
        "ticketing_list_connectors": READ,
        "ticketing_get_ticket": READ,
        "ticketing_create_ticket": CREATE,
        "ticketing_create_comment": CREATE,
    },
    "observability": {
        "observability_list_connectors": READ,
        "observability_list_logs": READ,
        "observability_get_log_details": READ,
    },
}

MISSING_ID = "ext-inspector-missing-0001"  # an id no sandbox collection contains


@dataclass(frozen=True)
class Target:
    name: str  # pytest id
    script: str  # console script
    services: tuple[str, ...] | None  # None: every installed service (the all-in-one server)
    ok_service: str  # `<svc>_list_connectors` is the successful call
    error_service: str
    error_tool: str  # a get tool, called with an id that does not exist
    error_param: str

    def expected_services(self) -> tuple[str, ...]:
        return self.services if self.services is not None else installed_services()

    @property
    def ok_tool(self) -> str:
        return f"{self.ok_service}_list_connectors"

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


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("edr", "unizo-mcp-edr", ("edr",), "edr", "edr", "edr_get_device_details", "device_id"),
        Target("scm", "unizo-mcp-scm", ("scm",), "scm", "scm", "scm_get_organization", "organization_id"),
        Target(
            "ticketing",
            "unizo-mcp-ticketing",
            ("ticketing",),
            "ticketing",
            "ticketing",
            "ticketing_get_organization",
            "organization_id",
        ),
        Target(
            "observability",
            "unizo-mcp-observability",
            ("observability",),
            "observability",
            "observability",
            "observability_get_log_details",
            "log_id",
        ),
        # The all-in-one server: every installed service; call tools of two different services.
        Target("server", "unizo-mcp-server", None, "ticketing", "edr", "edr_get_device_details", "device_id"),
    )
}


def installed_services() -> tuple[str, ...]:
    """The services the all-in-one server discovers: the `unizo_mcp.services` entry points."""
    return tuple(sorted({ep.name for ep in entry_points(group="unizo_mcp.services")}))


def declared_tools(services: tuple[str, ...]) -> dict[str, dict[str, bool]]:
    """Tool name -> MCP annotations, from the installed `unizo_mcp.services` declarations."""
    specs = {ep.name: ep for ep in entry_points(group="unizo_mcp.services")}
    tools: dict[str, dict[str, bool]] = {}
    for service in services:
        if service not in specs:
            raise LookupError(f"service {service!r} is not installed (entry point group unizo_mcp.services)")
        spec = specs[service].load()
        for tool in spec.all_tools():
            tools[tool.name] = tool.annotations.as_mcp()
    return tools


# --- facts from the sandbox, asked over its public HTTP API -----------------------------------------------


@dataclass(frozen=True)
class Integration:
    id: str
    name: str
    connector: str


def _https_json(base_url: str, ca_file: str, method: str, path: str, key: str, body: Any = None) -> Any:
    parts = urlsplit(base_url)
    context = ssl.create_default_context(cafile=ca_file)
    conn = http.client.HTTPSConnection(parts.hostname or "127.0.0.1", parts.port, context=context, timeout=30)
    try:
        payload = None if body is None else json.dumps(body)
        headers = {"apikey": key, "Accept": "application/json", "Content-Type": "application/json"}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"sandbox {method} {path} answered {response.status}: {data[:300]!r}")
        return json.loads(data)
    finally:
        conn.close()


def sandbox_integrations(base_url: str, ca_file: str, key: str, service: str) -> list[Integration]:
    """The integrations of one category the key sees (`POST /api/v1/integrations/search`)."""
    body = {
        "filter": {"and": [{"property": "/type", "operator": "=", "values": [service.upper()]}]},
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


@dataclass
class HttpServer:
    """One MCP server process on `--transport streamable-http`, on a free loopback port."""

    target: Target
    env: dict[str, str]
    log_path: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    _log: Any = field(default=None, repr=False)

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
            if self._answers():
                return
            if time.monotonic() > deadline:
                raise _Exited(f"no answer on {self.url} after {timeout:.0f}s; log tail:\n{self.log_tail()}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(
                "POST",
                "/mcp",
                body=json.dumps(_INITIALIZE),
                headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
            )
            response = conn.getresponse()
            return response.status == 200
        except OSError:
            return False
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
