"""The lab: the HTTP servers, the facts asked from the sandbox and the external tool runs, run in a pool.

The external tools are slow to start (Node, then the MCP server), so the conftest hands the lab every run
the collected tests need; they start at once in a small thread pool, and each test waits for its own.
Claude Code and fast-agent are one job each (install when needed, then their whole scenario, in order).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import claude_code
import fast_agent
from authproxy import BearerProxy
from installs import clients_dir
from mcp_clients import (
    ConformanceReport,
    Npx,
    Redactor,
    ToolRun,
    run_conformance,
    run_inspector,
    scan_for_secrets,
)
from targets import (
    MISSING_ID,
    TARGETS,
    HttpServer,
    Integration,
    ReadCall,
    Target,
    first_record_id,
    has_discovery,
    installed_services,
    new_http_token,
    parent_ids,
    read_call,
    sandbox_integrations,
    server_env,
    specs,
    top_list,
)
from walk import plan_calls, service_with_writes

if TYPE_CHECKING:
    from unizo_mcp_sandbox.handle import SandboxHandle

HERE = Path(__file__).parent
BASELINE = HERE / "conformance-baseline.yml"
JOBS = max(1, int(os.environ.get("EXTERNAL_JOBS", "3")))  # concurrent tool runs; 3 suits 2 cores


CALLS = ("tools-list", "ok-call", "error-call")  # the Inspector calls made per server and transport
# HTTP only: tools/list without the bearer token, and with a token that is not the server's.
AUTH_CALLS = ("no-token", "wrong-token")
# Well-formed (>= 16 characters, no space) but not the run's token; a made-up value, not a credential.
WRONG_TOKEN = "ext-not-the-servers-token-0001"  # noqa: S105
READ = "read:"  # a read call of one service, by the generic walk: "read:<service>"
CLAUDE_CODE = "claude-code"  # the job: install Claude Code, add every printed entry, list, get, controls
FAST_AGENT = "fast-agent"  # the job: install fast-agent, list, get, write and a refused call


@dataclass
class InspectorRun:
    target: Target
    transport: str  # "stdio" or "http"
    call: str  # one of CALLS or AUTH_CALLS, or READ + service
    run: ToolRun
    connectors: set[str]  # ok-call: the connectors the sandbox has for the service
    error_args: dict[str, str]  # error-call: the arguments sent
    error_param: str = ""  # error-call: the parameter given the missing id
    read: ReadCall | None = None  # read:<service>: the call made and the record asked for
    first_record: str = ""  # ok-call of an account-level service: the id the sandbox lists first


class Lab:
    def __init__(
        self,
        npx: Npx,
        env: dict[str, str],
        artifacts: Path,
        wanted: set[tuple[str, ...]],
        sandbox: SandboxHandle | None = None,
    ) -> None:
        self.npx = npx
        self.env = env
        self.artifacts = artifacts
        self.sandbox = sandbox
        # The bearer token of this run's HTTP servers (UNIZO_HTTP_TOKEN), chosen here so the clients know it.
        self.http_token = new_http_token()
        # every key the sandbox seeded (the clients get several), its admin token and the HTTP token
        secrets = [*sandbox.keys.values(), sandbox.admin_token] if sandbox is not None else []
        self.redactor = Redactor.from_env(env, *secrets, self.http_token)
        npx.redactor = self.redactor
        self.pool = ThreadPoolExecutor(max_workers=JOBS, thread_name_prefix="external")
        self._lock = threading.Lock()
        self._futures: dict[tuple[str, ...], Future[Any]] = {}
        self._servers: dict[str, HttpServer] = {}
        self._proxies: dict[str, BearerProxy] = {}
        self._server_locks = {name: threading.Lock() for name in TARGETS}
        self._integrations: dict[str, list[Integration]] = {}
        self._integrations_lock = threading.Lock()
        # Longest runs first: the installed clients (their first run installs them), the conformance
        # suites, then HTTP (waits for a server), then stdio.
        order = {FAST_AGENT: 0, CLAUDE_CODE: 1, "conformance": 2, "http": 3, "stdio": 4}
        for job in sorted(wanted, key=lambda j: (order[j[2] if j[0] == "inspector" else j[0]], j)):
            self._submit(job)

    # facts ---------------------------------------------------------------------------------------------
    def integration(self, service: str) -> str:
        """The id of the first integration of `service` (by id), for calls that need one."""
        integrations = self.integrations(service)
        if not integrations:
            raise RuntimeError(f"the sandbox key sees no {service} integration")
        return integrations[0].id

    def integrations(self, service: str) -> list[Integration]:
        with self._integrations_lock:
            if service not in self._integrations:
                self._integrations[service] = sandbox_integrations(
                    self.env["UNIZO_BASE_URL"],
                    self.env["UNIZO_CA_BUNDLE"],
                    self.env["UNIZO_API_KEY"],
                    service,
                )
            return self._integrations[service]

    # servers -------------------------------------------------------------------------------------------
    def http_server(self, name: str) -> HttpServer:
        with self._server_locks[name]:
            server = self._servers.get(name)
            if server is None:
                server = HttpServer(
                    TARGETS[name],
                    server_env(self.env),
                    self.artifacts / "servers" / f"{name}.log",
                    token=self.http_token,
                )
                self._servers[name] = server
                server.start()
            elif server.proc is None or server.proc.poll() is not None:
                raise RuntimeError(
                    f"{server.target.script} on HTTP is not running; log tail:\n{server.log_tail()}"
                )
            return server

    def bearer_proxy(self, name: str) -> BearerProxy:
        """A loopback proxy that adds the server's bearer token, for clients that cannot send headers."""
        server = self.http_server(name)
        with self._server_locks[name]:
            proxy = self._proxies.get(name)
            if proxy is None:
                proxy = BearerProxy(server.origin, server.token)
                self._proxies[name] = proxy
                proxy.start()
            return proxy

    # jobs ----------------------------------------------------------------------------------------------
    def _submit(self, job: tuple[str, ...]) -> Future[Any]:
        with self._lock:
            if job not in self._futures:
                if job[0] == "inspector":
                    self._futures[job] = self.pool.submit(self._inspector, job[1], job[2], job[3])
                elif job[0] == CLAUDE_CODE:
                    self._futures[job] = self.pool.submit(self._claude_code)
                elif job[0] == FAST_AGENT:
                    self._futures[job] = self.pool.submit(self._fast_agent)
                else:
                    self._futures[job] = self.pool.submit(self._conformance, job[1])
            return self._futures[job]

    def inspector(self, target: str, transport: str, call: str) -> InspectorRun:
        result: InspectorRun = self._submit(("inspector", target, transport, call)).result()
        return result

    def conformance(self, target: str) -> ConformanceReport:
        result: ConformanceReport = self._submit(("conformance", target)).result()
        return result

    def claude_code(self) -> claude_code.ClaudeReport:
        result: claude_code.ClaudeReport = self._submit((CLAUDE_CODE,)).result()
        return result

    def fast_agent(self) -> fast_agent.FastAgentReport:
        result: fast_agent.FastAgentReport = self._submit((FAST_AGENT,)).result()
        return result

    def _sandbox(self) -> SandboxHandle:
        if self.sandbox is None:
            raise RuntimeError("this job needs the sandbox handle (Lab(..., sandbox=sandbox_server))")
        return self.sandbox

    def service_keys(self) -> dict[str, str]:
        """Every installed service's own key: the sandbox's key with every action on it and nothing else."""
        from unizo_mcp_sandbox.testing import service_role

        keys = self._sandbox().keys
        return {service: keys[service_role(service)] for service in installed_services()}

    def _claude_code(self) -> claude_code.ClaudeReport:
        binary = claude_code.install(clients_dir(), self.npx.npm_cache)
        revoked = self._sandbox().keys["revoked"]
        root = self.artifacts / "claude-code"
        return claude_code.run_scenario(binary, root, self.env, self.service_keys(), revoked, self.redactor)

    def _fast_agent(self) -> fast_agent.FastAgentReport:
        command = fast_agent.install(clients_dir())
        plan = plan_calls(self.env, service_with_writes())
        readonly = self._sandbox().keys["readonly"]
        root = self.artifacts / "fast-agent"
        return fast_agent.run_scenario(
            command, root, plan, self.env, self.service_keys(), readonly, self.redactor
        )

    def _inspector(self, name: str, transport: str, call: str) -> InspectorRun:
        target = TARGETS[name]
        if transport == "stdio":
            endpoint = [str(target.executable())]
            common: dict[str, Any] = {"env": self.env}
        else:
            server = self.http_server(name)
            endpoint = [server.url]
            # The Inspector sends the bearer token itself; the auth calls send none or a wrong one.
            token = {"no-token": None, "wrong-token": WRONG_TOKEN}.get(call, server.token)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            common = {"transport": "http", "headers": headers}
        connectors: set[str] = set()
        error_args: dict[str, str] = {}
        error_param = ""
        read: ReadCall | None = None
        first_record = ""
        extra: dict[str, Any]
        if call == "tools-list":
            method, extra = "tools/list", {"strict": True}
        elif call in AUTH_CALLS:
            if transport != "http":
                raise ValueError(f"{call} is an HTTP call, not {transport}")
            method, extra = "tools/list", {}
        elif call == "ok-call" and not has_discovery(target.ok_service):
            first_record = first_record_id(self.env, "", top_list(specs()[target.ok_service]), {}) or ""
            method, extra = "tools/call", {"tool": target.ok_tool}
        elif call == "ok-call":
            connectors = {i.connector for i in self.integrations(target.ok_service) if i.connector}
            method, extra = "tools/call", {"tool": target.ok_tool}
        elif call == "error-call":
            # A real integration and real parent ids, so the 404 is about the missing id alone.
            tool = target.error_tool
            integration = self.integration(target.error_service) if tool.needs_integration else ""
            error_param = tool.path_params()[-1].name
            parents = parent_ids(self.env, integration, specs()[target.error_service], tool)
            scope = {"integration_id": integration} if integration else {}
            error_args = {**parents, error_param: MISSING_ID, **scope}
            method, extra = "tools/call", {"tool": tool.name, "arguments": error_args}
        elif call.startswith(READ):
            service = call.removeprefix(READ)
            integration = self.integration(service) if has_discovery(service) else ""
            read = read_call(self.env, integration, service)
            method, extra = "tools/call", {"tool": read.tool, "arguments": read.arguments}
        else:
            raise ValueError(f"unknown Inspector call {call!r}")
        label = f"{name}-{transport}-{call.replace(':', '-')}"
        run = run_inspector(self.npx, label, endpoint, method, **common, **extra)
        run.save(self.artifacts / "inspector" / f"{label}.json")
        return InspectorRun(
            target, transport, call, run, connectors, error_args, error_param, read, first_record
        )

    def _conformance(self, name: str) -> ConformanceReport:
        # The suite cannot send the bearer token: it talks to the server through the proxy that adds it.
        proxy = self.bearer_proxy(name)
        out = self.artifacts / "conformance" / name
        report = run_conformance(self.npx, f"conformance {name}", proxy.url(), BASELINE, out)
        report.run.save(out / "run.json")
        return report

    def close(self) -> list[str]:
        """Stop everything; return the artifact files that contain a secret (paths only)."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        for proxy in self._proxies.values():
            proxy.stop()
        for server in self._servers.values():
            server.stop()
        return scan_for_secrets(self.artifacts, self.redactor)
