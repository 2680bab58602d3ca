#!/usr/bin/env python3
"""The demo: the README's first command (`python3 -m pip install nox && python3 -m nox -s demo`).

It starts the Unizo sandbox (a local HTTPS emulator of the Unizo API), writes the `mcpServers`
config a desktop MCP client would hold for the four service servers, launches each server over
stdio from that config exactly as such a client does (command, args, env with `${VAR}`
interpolated), and prints a transcript of what happens. Every step is checked; the demo exits 0
only if every step behaved as expected, and 1 (with what was expected and what happened) otherwise.
The server steps run concurrently to keep the demo short; their transcripts are printed in order.

Files it leaves behind, all under `.demo/` (git-ignored):
    .demo/sandbox/          the sandbox's state (its CA certificate, keys and data)
    .demo/mcp.json          the mcpServers config (mode 600; keys appear only as ${...} placeholders)
    .demo/logs/<name>.log   each server's stderr, as a desktop client would keep it

Run it directly with `python demo/run_demo.py` in an environment where the workspace is installed.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import sys
import sysconfig
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from contextvars import ContextVar
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, NoReturn

try:  # imported up front: importing the MCP SDK later would stall the transcript for a second or more
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import get_default_environment, stdio_client
    from mcp.types import Implementation
    from unizo_mcp_core.docs import config_entry
    from unizo_mcp_sandbox.testing import start_sandbox
except ImportError as exc:
    sys.stderr.write(
        f"The demo needs the workspace installed ({exc}).\n"
        "Run it with: python3 -m pip install nox && python3 -m nox -s demo\n"
    )
    sys.exit(1)

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / ".demo"
STATE_DIR = DEMO_DIR / "sandbox"
CONFIG_FILE = DEMO_DIR / "mcp.json"
LOG_DIR = DEMO_DIR / "logs"
SERVICES = ("edr", "scm", "ticketing", "observability")
TIMEOUT = 60.0  # seconds for any one server operation (generous: a loaded machine is slow to start one)
PARALLEL = 6  # steps running at once (each spawns one or two processes of about 70 MB)
EXCERPT = 3  # items shown per list
WIDTH = 112  # characters per excerpt line

# --- output --------------------------------------------------------------------------------------


def _can_encode(text: str) -> bool:
    try:
        text.encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


UNICODE = _can_encode("✓✗→←━…")
OK, BAD, ARROW, BACK, RULE, DOTS = (
    ("✓", "✗", "→", "←", "━", "…") if UNICODE else ("OK", "XX", "->", "<-", "=", "...")
)


# The server steps run concurrently; each writes its part of the transcript into its own buffer,
# and the buffers are printed in step order, so the transcript reads as if they ran one by one.
_buffer: ContextVar[list[str] | None] = ContextVar("transcript_buffer", default=None)


def say(text: str = "") -> None:
    buffer = _buffer.get()
    if buffer is not None:
        buffer.append(text)
        return
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def heading(number: int, title: str) -> None:
    label = f"{number}. {title}"
    say()
    say(f"{RULE * 2} {label} " + RULE * max(4, 78 - len(label)))


def ok(text: str) -> None:
    say(f"  {OK} {text}")


def info(text: str) -> None:
    say(f"    {text}")


def block(text: str, indent: str = "    │ " if UNICODE else "    | ") -> None:
    for line in text.rstrip("\n").splitlines() or [""]:
        say(indent + line)


def one_line(value: Any, width: int = WIDTH) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= width else text[: width - len(DOTS)] + DOTS


def pick(item: Any, keys: Sequence[str]) -> Any:
    """The fields of `item` worth showing: `keys` (dotted paths) when present, else the first scalars."""
    if not isinstance(item, Mapping):
        return item
    shown: dict[str, Any] = {}
    for key in keys:
        value: Any = item
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value not in (None, "", [], {}):
            shown[key] = value
    if shown:
        return shown
    return {k: v for k, v in list(item.items())[:5] if not isinstance(v, Mapping | list)}


# --- failure ---------------------------------------------------------------------------------------


class DemoFailure(Exception):
    """A step did not behave as expected."""

    def __init__(self, step: str, expected: str, got: str, log: Path | None = None) -> None:
        super().__init__(step)
        self.step, self.expected, self.got, self.log = step, expected, got, log


def expect(condition: object, step: str, expected: str, got: Any, *, log: Path | None = None) -> None:
    if not condition:
        raise DemoFailure(step, expected, got if isinstance(got, str) else one_line(got, 600), log)


def fail(step: str, expected: str, got: str, *, log: Path | None = None) -> NoReturn:
    raise DemoFailure(step, expected, got, log)


# --- the mcpServers config, as a desktop client reads it ---------------------------------------------

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(value: str, env: Mapping[str, str], where: str) -> str:
    """Expand `${VAR}` and `${VAR:-default}` the way MCP clients do; an unset variable is an error."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        fail(f"interpolate {where}", f"${{{name}}} to be set in the environment", f"{name} is not set")

    return VARIABLE.sub(replace, value)


def resolve_entry(
    name: str, entry: Mapping[str, Any], env: Mapping[str, str]
) -> tuple[str, list[str], dict[str, str]]:
    command = interpolate(entry["command"], env, f"{name}.command")
    args = [interpolate(a, env, f"{name}.args") for a in entry.get("args", [])]
    server_env = {k: interpolate(v, env, f"{name}.env.{k}") for k, v in entry.get("env", {}).items()}
    return command, args, server_env


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by the owner only (mode 600), also when the file already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


def script(name: str) -> str:
    """The absolute path of a console script of this environment (a desktop client needs no PATH)."""
    folder = Path(sysconfig.get_path("scripts"))
    for candidate in (folder / name, folder / f"{name}.exe", Path(sys.executable).parent / name):
        if candidate.is_file():
            return str(candidate)
    fail(
        f"find {name}",
        f"the console script {name} installed next to {sys.executable}",
        "not found; install the workspace first (python3 -m nox -s demo does)",
    )


# --- talking to a server -------------------------------------------------------------------------------


def describe(exc: BaseException) -> str:
    """The innermost error of an exception group, as `Type: message`."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"


def text_of(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content if getattr(c, "type", "") == "text")


def payload(result: Any) -> tuple[Any, Mapping[str, Any] | None]:
    """(data, pagination) of a successful tool result."""
    body = result.structured_content
    if body is None:
        try:
            body = json.loads(text_of(result))
        except ValueError:
            return text_of(result), None
    if isinstance(body, Mapping) and "data" in body:
        pagination = body.get("pagination")
        return body["data"], pagination if isinstance(pagination, Mapping) else None
    return body, None


class Server:
    """One server launched from its mcpServers entry, with the calls the transcript shows."""

    def __init__(self, name: str, client: Any, log: Path) -> None:
        self.name, self.client, self.log = name, client, log
        self.tools: list[Any] = []

    async def list_tools(self) -> list[Any]:
        async with asyncio.timeout(TIMEOUT):
            result = await self.client.list_tools()
        self.tools = list(result.tools)
        return self.tools

    async def call(self, tool: str, args: Mapping[str, Any], *, show: bool = True) -> tuple[Any, Any]:
        if show:
            say(f"  {ARROW} {tool} {one_line(args)}")
        async with asyncio.timeout(TIMEOUT):
            result = await self.client.call_tool(tool, dict(args))
        if result.is_error:
            fail(f"call {tool}", "a successful result", f"an error: {text_of(result)}", log=self.log)
        return payload(result)

    async def refused(self, tool: str, args: Mapping[str, Any]) -> str:
        say(f"  {ARROW} {tool} {one_line(args)}")
        async with asyncio.timeout(TIMEOUT):
            result = await self.client.call_tool(tool, dict(args))
        text = text_of(result)
        expect(bool(result.is_error), f"call {tool}", "an error result (isError: true)", f"success: {text}")
        return text


def show_list(
    what: str, data: Any, pagination: Mapping[str, Any] | None, keys: Sequence[str], step: str
) -> list[Any]:
    expect(isinstance(data, list), step, f"a list of {what}", data)
    total = pagination.get("total") if pagination else None
    of = f" of {total}" if total is not None else ""
    say(f"  {BACK} {len(data)}{of} {what}" + (f" (first {min(EXCERPT, len(data))})" if data else ""))
    for item in data[:EXCERPT]:
        info(one_line(pick(item, keys)))
    return list(data)


@asynccontextmanager
async def launch(
    name: str, entry: Mapping[str, Any], env: Mapping[str, str], log: Path
) -> AsyncIterator[Server]:
    """Start the server of `entry` over stdio as a desktop MCP client does; its stderr goes to `log`."""
    command, args, server_env = resolve_entry(name, entry, env)
    params = StdioServerParameters(command=command, args=args, env=server_env)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as errlog:
        errlog.write(f"--- {time.strftime('%H:%M:%S')} {command} {' '.join(args)}\n")
        errlog.flush()
        client = Client(
            stdio_client(params, errlog=errlog),
            mode="legacy",  # the initialize handshake, as today's desktop clients do
            client_info=Implementation(name="unizo-mcp-demo", version="1.0"),
            read_timeout_seconds=TIMEOUT,
        )
        async with AsyncExitStack() as stack:
            try:
                async with asyncio.timeout(TIMEOUT):
                    session = await stack.enter_async_context(client)
            except Exception as exc:  # the server did not start: say why (its log has the details)
                got = f"{describe(exc)} (the server exited or did not answer; its log says why)"
                fail(f"start {name}", "the server to start and answer the MCP handshake", got, log=log)
            yield Server(name, session, log)


async def run_cli(name: str, entry: Mapping[str, Any], env: Mapping[str, str], flag: str) -> tuple[int, str]:
    """Run the entry's command with a diagnostic flag, with the environment a client would give it."""
    command, args, server_env = resolve_entry(name, entry, env)
    proc = await asyncio.create_subprocess_exec(
        command,
        *args,
        flag,
        env={**get_default_environment(), **server_env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(TIMEOUT):
            out, _ = await proc.communicate()
    except TimeoutError:
        fail(f"{name} {flag}", f"{flag} to finish within {TIMEOUT:.0f} s", "it did not")
    finally:
        if proc.returncode is None:  # timed out or cancelled: leave nothing behind
            proc.kill()
            await proc.wait()
    return proc.returncode or 0, out.decode("utf-8", "replace")


# --- the steps ---------------------------------------------------------------------------------------


class Demo:
    def __init__(self) -> None:
        self.sandbox: Any = None
        self.keys: dict[str, str] = {}
        self.config: dict[str, Any] = {}
        self.env: dict[str, str] = {}
        self.specs: dict[str, Any] = {}
        self.step = 0
        self.started = time.perf_counter()

    def next(self, title: str) -> None:
        self.step += 1
        heading(self.step, title)

    async def sections(self, steps: Sequence[tuple[str, Callable[[], Any]]]) -> None:
        """Run `steps` concurrently (at most PARALLEL at once); print their transcripts in order."""
        gate = asyncio.Semaphore(PARALLEL)  # FIFO: steps start in order

        async def run(
            number: int, title: str, body: Callable[[], Any]
        ) -> tuple[list[str], BaseException | None]:
            buffer: list[str] = []
            _buffer.set(buffer)  # this task's own context
            async with gate:
                heading(number, title)
                try:
                    await body()
                except Exception as exc:
                    return buffer, exc
            return buffer, None

        first = self.step + 1
        tasks = [asyncio.create_task(run(first + i, t, b)) for i, (t, b) in enumerate(steps)]
        try:
            for task in tasks:
                self.step += 1
                buffer, error = await task
                for line in buffer:
                    say(line)
                if error is not None:
                    raise error
        finally:
            for task in tasks:
                if not task.done():
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # 1 --------------------------------------------------------------------------------------------
    async def start_sandbox(self) -> None:
        self.next("Start the sandbox (a local HTTPS emulator of the Unizo API)")
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        for old_log in LOG_DIR.glob("*.log"):
            old_log.unlink()
        # port=None: the port of the previous run in this state dir when free, so the config stays valid.
        self.sandbox = await asyncio.to_thread(start_sandbox, state_dir=STATE_DIR, port=None)
        await asyncio.to_thread(self.sandbox.reset)  # every run starts from the seeded data and keys
        self.keys = dict(self.sandbox.keys)
        ok(f"listening on {self.sandbox.base_url}")
        info(f"CA certificate: {self._rel(self.sandbox.ca_file)}")
        info(f"state:          {self._rel(STATE_DIR)}")
        for role in ("full", "readonly", "edr_only"):
            expect(role in self.keys, "sandbox keys", f"a seeded {role!r} key", sorted(self.keys))
        info("seeded keys: " + ", ".join(sorted(self.keys)))

    # 2 --------------------------------------------------------------------------------------------
    def write_config(self) -> None:
        self.next("Write the mcpServers config a desktop client would hold")
        found = {ep.name: ep for ep in entry_points(group="unizo_mcp.services")}
        missing = [s for s in SERVICES if s not in found]
        expect(
            not missing,
            "discover services",
            f"the packages of {', '.join(SERVICES)} installed",
            f"missing {missing}",
        )
        self.specs = {s: found[s].load() for s in SERVICES}
        servers: dict[str, Any] = {}
        for service, spec in self.specs.items():
            entry = config_entry(
                spec,
                command=script(f"unizo-mcp-{service}"),
                env={k: v for k, v in self.sandbox.env().items() if k != "UNIZO_API_KEY"},
            )
            servers.update(entry["mcpServers"])
        self.config = {"mcpServers": servers}
        text = json.dumps(self.config, indent=2) + "\n"
        write_private(CONFIG_FILE, text)
        # The environment the client runs in: one key variable per service, as a user would export them.
        self.env = dict(os.environ)
        for spec in self.specs.values():
            self.env[spec.key_variable] = self.keys["full"]
        mode = CONFIG_FILE.stat().st_mode & 0o777
        ok(f"wrote {self._rel(CONFIG_FILE)} (mode {mode:o}): {len(servers)} servers, {', '.join(servers)}")
        expect(mode == 0o600, "config file mode", "600", f"{mode:o}")
        for name, entry in servers.items():
            key_var = entry.get("env", {}).get("UNIZO_API_KEY", "")
            expect(
                key_var.startswith("${") and key_var.endswith("}"),
                f"{name} key",
                "UNIZO_API_KEY to be a ${...} placeholder",
                key_var[:12] + DOTS,
            )
        for name, entry in servers.items():
            env_names = ", ".join(k for k in entry["env"] if k != "UNIZO_API_KEY")
            info(f"{name:20} {entry['command']}  UNIZO_API_KEY={entry['env']['UNIZO_API_KEY']}")
        info(f"{'':20} and in every entry: {env_names}")
        placeholders = ", ".join(sorted({self.specs[s].key_variable for s in SERVICES}))
        ok(f"keys only as placeholders; the demo's environment sets {placeholders} (the 'full' key)")
        expect(
            all(k not in text for k in self.keys.values()),
            "config file",
            "no literal key",
            "a key in the file",
        )

    # 3 --------------------------------------------------------------------------------------------
    async def service_step(self, service: str, body: Callable[[Server, str], Any]) -> None:
        name = f"unizo-{service}"
        entry = self.config["mcpServers"][name]
        log = LOG_DIR / f"{name}.log"
        # The checklist and the server start at the same time; the transcript shows the checklist first.
        verify = asyncio.create_task(run_cli(name, entry, self.env, "--verify-connection"))
        try:
            async with launch(name, entry, self.env, log) as server:
                await self.show_verify(name, entry, verify)
                await self.use_server(service, server, log, body)
        except DemoFailure as failure:
            if failure.step == f"start {name}":
                await self.show_verify(name, entry, verify)  # a failed checklist explains a failed start
            raise
        finally:
            if not verify.done():
                verify.cancel()
            await asyncio.gather(verify, return_exceptions=True)

    async def show_verify(
        self, name: str, entry: Mapping[str, Any], verify: asyncio.Task[tuple[int, str]]
    ) -> None:
        say(f"  $ {Path(entry['command']).name} --verify-connection")
        code, out = await verify
        block(out)
        expect(
            code == 0, f"{name} --verify-connection", "exit code 0 (every check passed)", f"exit code {code}"
        )
        ok("verify-connection: every check passed")

    async def use_server(
        self, service: str, server: Server, log: Path, body: Callable[[Server, str], Any]
    ) -> None:
        name = server.name
        tools = await server.list_tools()
        names = [t.name for t in tools]
        declared = [t.name for t in self.specs[service].all_tools()]
        expect(
            sorted(names) == sorted(declared),
            f"{name} tools/list",
            f"the {len(declared)} declared tools: {', '.join(declared)}",
            f"{len(names)} tools: {', '.join(names)}",
            log=log,
        )
        ok(f"started over stdio; tools/list: {len(names)} tools (all declared, the full key hides none)")
        for line in _wrap(names):
            info(line)
        integration = await self.pick_integration(server, service)
        await body(server, integration)

    async def pick_integration(self, server: Server, service: str) -> str:
        data, _ = await server.call(f"{service}_list_connectors", {})
        expect(isinstance(data, list) and data, f"{service}_list_connectors", "at least one connector", data)
        connectors = [c.get("name", c) if isinstance(c, Mapping) else c for c in data]
        say(f"  {BACK} connectors: {', '.join(map(str, connectors))}")
        # The vendor the package's docs name first when it is there (Jira for ticketing, ...).
        preferred = [c for c in self.specs[service].connectors if c in connectors]
        connector = str(preferred[0] if preferred else connectors[0])
        data, _ = await server.call(f"{service}_list_integrations", {"connector": connector})
        expect(
            isinstance(data, list) and data, f"{service}_list_integrations", "at least one integration", data
        )
        integration = data[0]
        say(f"  {BACK} {one_line(pick(integration, ('id', 'name', 'type', 'state')))}")
        expect(
            isinstance(integration, Mapping) and integration.get("id"), "integration", "an id", integration
        )
        return str(integration["id"])

    async def edr(self, server: Server, integration: str) -> None:
        step = "edr_list_devices"
        data, page = await server.call(step, {"integration_id": integration, "limit": 5})
        devices = show_list(
            "devices",
            data,
            page,
            ("id", "hostnames", "platform.name", "os.version", "state", "lastSeen"),
            step,
        )
        expect(bool(devices), step, "at least one device", devices)
        for device in devices:
            args = {"integration_id": integration, "device_id": device["id"], "limit": EXCERPT}
            data, page = await server.call("edr_list_device_alerts", args)
            alerts = show_list(
                "alerts",
                data,
                page,
                ("id", "title", "severity", "status.internal", "createdDateTime"),
                "edr_list_device_alerts",
            )
            if alerts:
                total = page.get("total", len(alerts)) if page else len(alerts)
                ok(f"device {device.get('hostnames', [device['id']])[0]} has {total} alert(s)")
                return
        fail("edr_list_device_alerts", "alerts on at least one of the first devices", "none had any")

    async def scm(self, server: Server, integration: str) -> None:
        data, page = await server.call(
            "scm_list_organizations", {"integration_id": integration, "limit": EXCERPT}
        )
        orgs = show_list("organizations", data, page, ("id", "name", "login"), "scm_list_organizations")
        expect(bool(orgs), "scm_list_organizations", "at least one organization", orgs)
        org = orgs[0]["id"]
        data, page = await server.call(
            "scm_list_repositories", {"integration_id": integration, "organization_id": org, "limit": 5}
        )
        repos = show_list(
            "repositories",
            data,
            page,
            ("id", "name", "fullName", "defaultBranch", "visibility"),
            "scm_list_repositories",
        )
        expect(bool(repos), "scm_list_repositories", "at least one repository", repos)
        for repo in repos:
            args = {
                "integration_id": integration,
                "organization_id": org,
                "repository_id": repo["id"],
                "limit": EXCERPT,
            }
            data, page = await server.call("scm_list_pull_requests", args)
            prs = show_list(
                "pull requests",
                data,
                page,
                ("id", "number", "title", "state", "source", "target"),
                "scm_list_pull_requests",
            )
            if prs:
                ok(f"repository {repo.get('name', repo['id'])} has pull requests")
                return
        fail(
            "scm_list_pull_requests",
            "pull requests in at least one of the first repositories",
            "none had any",
        )

    async def ticketing(self, server: Server, integration: str) -> None:
        data, page = await server.call(
            "ticketing_list_organizations", {"integration_id": integration, "limit": EXCERPT}
        )
        orgs = show_list("organizations", data, page, ("id", "name"), "ticketing_list_organizations")
        expect(bool(orgs), "ticketing_list_organizations", "at least one organization", orgs)
        org = orgs[0]["id"]
        data, page = await server.call(
            "ticketing_list_collections",
            {"integration_id": integration, "organization_id": org, "limit": EXCERPT},
        )
        collections = show_list(
            "collections", data, page, ("id", "name", "key"), "ticketing_list_collections"
        )
        expect(bool(collections), "ticketing_list_collections", "at least one collection", collections)
        collection = collections[0]["id"]
        ticket = {
            "name": "Rotate the API key found in a public repository",
            "description": "Created by the unizo-mcp demo through ticketing_create_ticket.",
            "type": "security",
            "priority": "high",
        }
        ids = {"integration_id": integration, "organization_id": org, "collection_id": collection}
        created, _ = await server.call("ticketing_create_ticket", {**ids, **ticket})
        expect(
            isinstance(created, Mapping) and created.get("id"),
            "ticketing_create_ticket",
            "the new ticket with an id",
            created,
        )
        say(f"  {BACK} created {one_line(pick(created, ('id', 'name', 'type', 'priority', 'status')))}")
        read, _ = await server.call("ticketing_get_ticket", {**ids, "ticket_id": created["id"]})
        say(f"  {BACK} {one_line(pick(read, ('id', 'name', 'type', 'priority', 'status')))}")
        expect(isinstance(read, Mapping), "ticketing_get_ticket", "the ticket", read)
        differ = {k: (v, read.get(k)) for k, v in {**ticket, "id": created["id"]}.items() if read.get(k) != v}
        expect(not differ, "ticketing_get_ticket", "the fields just written", f"differences {differ}")
        ok(f"ticket {created['id']} read back with the name, description, type and priority just written")

    async def observability(self, server: Server, integration: str) -> None:
        step = "observability_list_logs"
        data, page = await server.call(
            step, {"integration_id": integration, "sort": "-timestamp", "limit": 100}
        )
        expect(isinstance(data, list) and data, step, "log entries", data)
        stamps = [str(e.get("timestamp", "")) for e in data]
        expect(
            stamps == sorted(stamps, reverse=True), step, "entries newest first (sort=-timestamp)", stamps[:5]
        )
        errors = [e for e in data if str(e.get("level", "")).upper() in ("ERROR", "CRITICAL")]
        total = page.get("total") if page else None
        say(
            f"  {BACK} {len(data)}{f' of {total}' if total is not None else ''} entries, newest first; "
            f"filtered to ERROR/CRITICAL: {len(errors)} (first {min(EXCERPT, len(errors))})"
        )
        for entry in errors[:EXCERPT]:
            info(one_line(pick(entry, ("timestamp", "level", "source", "message"))))
        expect(bool(errors), step, "at least one ERROR or CRITICAL entry among the newest 100", "none")
        newest = errors[0]
        detail, _ = await server.call(
            "observability_get_log_details", {"integration_id": integration, "log_id": newest["id"]}
        )
        say(f"  {BACK} {one_line(pick(detail, ('id', 'level', 'source', 'metadata')))}")
        expect(
            isinstance(detail, Mapping)
            and detail.get("id") == newest["id"]
            and detail.get("level") == newest["level"],
            "observability_get_log_details",
            f"log {newest['id']} at level {newest['level']}",
            detail,
        )
        ok("the newest error logs, and the newest one in full")

    # 7 --------------------------------------------------------------------------------------------
    async def read_only_key(self) -> None:
        service = "ticketing"
        name = f"unizo-{service}"
        spec = self.specs[service]
        entry = self.config["mcpServers"][name]
        env = {**self.env, spec.key_variable: self.keys["readonly"]}
        info(f"{spec.key_variable} = the sandbox's 'readonly' key (read on every service, no write)")
        all_tools = {t.name: t for t in spec.all_tools()}
        writes = sorted(n for n, t in all_tools.items() if t.permission.value != "read")
        log = LOG_DIR / f"{name}-readonly.log"
        async with launch(name, entry, env, log) as server:
            names = [t.name for t in await server.list_tools()]
            hidden = sorted(set(all_tools) - set(names))
            ok(f"tools/list: {len(names)} tools instead of {len(all_tools)}; hidden, as they need write:")
            for line in _wrap(hidden):
                info(line)
            expect(
                hidden == writes,
                f"{name} tools/list",
                f"exactly the write tools hidden: {writes}",
                f"hidden {hidden}",
                log=log,
            )
            expect(
                all(t.annotations is None or t.annotations.read_only_hint for t in server.tools),
                "annotations",
                "every remaining tool marked readOnlyHint",
                [t.name for t in server.tools if not (t.annotations and t.annotations.read_only_hint)],
            )
            ok("every remaining tool is annotated readOnlyHint: true")
            say("  Reads work with this key:")
            integration = await self.pick_integration(server, service)
            data, page = await server.call(
                "ticketing_list_organizations", {"integration_id": integration, "limit": 1}
            )
            orgs = show_list("organizations", data, page, ("id", "name"), "ticketing_list_organizations")
            expect(bool(orgs), "ticketing_list_organizations", "an organization", orgs)
            args = {"integration_id": integration, "organization_id": orgs[0]["id"], "limit": 1}
            data, page = await server.call("ticketing_list_collections", args)
            collections = show_list(
                "collections", data, page, ("id", "name", "key"), "ticketing_list_collections"
            )
            expect(bool(collections), "ticketing_list_collections", "a collection", collections)

            say()
            say(f"  {RULE} A call refused for missing permission")
            info("ticketing_create_ticket is hidden, but a client can still call it by name:")
            text = await server.refused(
                "ticketing_create_ticket",
                {
                    "integration_id": integration,
                    "organization_id": orgs[0]["id"],
                    "collection_id": collections[0]["id"],
                    "name": "Should not be created",
                    "description": "The read-only key has no ticketing:write.",
                    "type": "task",
                },
            )
            say(f"  {BACK} isError: {text}")
            expect(
                "ticketing:write" in text,
                "refusal message",
                "a message naming the missing permission (ticketing:write)",
                text,
            )
            readonly_id = self.keys["readonly"].split("_")[2]
            writes_sent = [
                f"{r.method} {r.path}"
                for r in await asyncio.to_thread(self.sandbox.requests)
                if r.key_id == readonly_id
                and r.method != "GET"
                and not r.path.endswith("/integrations/search")
            ]
            expect(not writes_sent, "refused call", "no write request sent to the API", writes_sent)
            ok("refused by the server itself (the sandbox saw no write), naming the missing permission")

    # 8 --------------------------------------------------------------------------------------------
    async def key_without_service(self) -> None:
        service = "scm"
        name = f"unizo-{service}"
        spec = self.specs[service]
        entry = self.config["mcpServers"][name]
        env = {**self.env, spec.key_variable: self.keys["edr_only"]}
        info(f"{spec.key_variable} = the sandbox's 'edr_only' key (EDR only, nothing on SCM)")
        log = LOG_DIR / f"{name}-edr-only.log"

        async def start() -> DemoFailure | None:
            try:
                async with launch(name, entry, env, log):
                    return None
            except DemoFailure as failure:
                return failure

        starting = asyncio.create_task(start())  # at the same time as --test-auth
        try:
            say(f"  $ {Path(entry['command']).name} --test-auth")
            code, out = await run_cli(name, entry, env, "--test-auth")
            block(out)
            expect(code != 0, f"{name} --test-auth", "a non-zero exit code", f"exit code {code}")
            expect("scm" in out.lower(), f"{name} --test-auth", "a message naming the scm service", out)
            ok(f"exit code {code}: the key may not use SCM")
            refused = await starting
        finally:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        expect(refused is not None, f"start {name}", "the server to refuse to start", "it started", log=log)
        said = [line for line in _tail(log).splitlines() if "permission" in line and "scm" in line]
        expect(bool(said), f"{name} log", "the reason (no permission on scm) on stderr", _tail(log), log=log)
        ok("launched over stdio as a client would, the server refused to start; its log says:")
        block(said[-1])

    # 9 --------------------------------------------------------------------------------------------
    def print_config(self) -> None:
        self.next("Use the sandbox from your desktop MCP client")
        port = self.sandbox.base_url.rsplit(":", 1)[1]
        say("  1. Keep the sandbox running in a terminal (same state dir: same CA certificate and keys):")
        say()
        serve = [script("unizo-sandbox"), "serve", "--state-dir", str(STATE_DIR), "--port", port]
        say("    " + shlex.join(serve))
        say()
        say("  2. Export the keys where your MCP client starts (these are sandbox keys, not real ones):")
        say()
        for service in SERVICES:
            say(f"    export {self.specs[service].key_variable}={shlex.quote(self.keys['full'])}")
        say()
        say("  3. Paste this into the client's MCP config, a file only you may read (chmod 600 it);")
        say(f"     it is also in {self._rel(CONFIG_FILE)}:")
        say()
        for line in json.dumps(self.config, indent=2).splitlines():
            say("    " + line)
        say()
        info("The ${...} placeholders are expanded from the client's environment; in a client that does not")
        info("expand them, put the key itself there instead. To try the read-only experience, export the")
        info(f"'readonly' key instead: {self.keys['readonly']}")

    @staticmethod
    def _rel(path: Any) -> str:
        path = Path(path)
        with suppress(ValueError):
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        return str(path)

    async def run(self) -> None:
        # SIGTERM cancels the demo like Ctrl-C does: every server and subprocess is stopped on the way out.
        main_task = asyncio.current_task()
        if main_task is not None:
            with suppress(NotImplementedError, RuntimeError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
        await self.start_sandbox()
        self.write_config()
        await self.sections(
            [
                ("unizo-edr: devices and their alerts", lambda: self.service_step("edr", self.edr)),
                ("unizo-scm: repositories and pull requests", lambda: self.service_step("scm", self.scm)),
                (
                    "unizo-ticketing: a ticket created, then read back",
                    lambda: self.service_step("ticketing", self.ticketing),
                ),
                (
                    "unizo-observability: error logs",
                    lambda: self.service_step("observability", self.observability),
                ),
                ("unizo-ticketing with the read-only key: fewer tools, a refused call", self.read_only_key),
                ("unizo-scm with a key that has no permission on SCM", self.key_without_service),
            ]
        )
        self.print_config()

    def stop(self) -> None:
        if self.sandbox is not None:
            sandbox, self.sandbox = self.sandbox, None
            sandbox.stop()


def _wrap(names: Sequence[str], width: int = WIDTH) -> list[str]:
    lines, line = [], ""
    for name in names:
        piece = name if not line else ", " + name
        if len(line) + len(piece) > width and line:
            lines.append(line + ",")
            line = name
        else:
            line += piece
    return [*lines, line] if line else lines


def _tail(path: Path, lines: int = 12) -> str:
    """The last lines the server wrote in its latest run (the log has one `---` header per launch)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    latest = text[text.rfind("\n--- ") + 1 :] if "\n--- " in text else text
    return "\n".join(latest.splitlines()[-lines:])


def main() -> int:
    say("Unizo MCP servers: the demo")
    say(f"Python {sys.version.split()[0]} at {sys.executable}")
    demo = Demo()

    try:
        asyncio.run(demo.run())
    except DemoFailure as failure:
        say()
        say(f"  {BAD} {failure.step}")
        say(f"      expected: {failure.expected}")
        say(f"      got:      {failure.got}")
        if failure.log is not None and _tail(failure.log):
            say(f"      server log ({demo._rel(failure.log)}), last lines:")
            block(_tail(failure.log), "        ")
        say()
        say(f"{BAD} The demo FAILED at step {demo.step} after {time.perf_counter() - demo.started:.1f} s.")
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        say(f"\n{BAD} Interrupted; stopping the sandbox (the servers are stopped).")
        return 130
    except Exception as exc:
        import traceback

        traceback.print_exc()
        say(f"\n{BAD} The demo FAILED at step {demo.step}: unexpected {type(exc).__name__}: {exc}")
        return 1
    finally:
        demo.stop()
    say()
    say(f"{OK} Every step behaved as expected ({time.perf_counter() - demo.started:.1f} s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
