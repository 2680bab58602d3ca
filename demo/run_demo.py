#!/usr/bin/env python3
"""The demo: the README's first command (`python3 -m pip install "nox[uv]" && python3 -m nox -s demo`).

It starts the Unizo sandbox (a local HTTPS emulator of the Unizo API), writes the `mcpServers`
config a desktop MCP client would hold for every installed service server, launches each server over
stdio from that config exactly as such a client does (command, args, env with `${VAR}`
interpolated), and prints a transcript of what happens. Every step is checked; the demo exits 0
only if every step behaved as expected, and 1 (with what was expected and what happened) otherwise.
The server steps run concurrently to keep the demo short; their transcripts are printed in order.

Nothing here knows a service: the services, their tools and the calls made come from the installed
declarations (`unizo_mcp_core.registry`). Each service gets one short scene: connectors, an
integration, the first list tool that needs no parent id, and the first record's details. The write
and read-only scenes use the service whose create tool needs the fewest invented inputs.

Files it leaves behind, all under `.demo/` (git-ignored):
    .demo/sandbox/          the sandbox's state (its CA certificate, keys and data)
    .demo/mcp.json          the mcpServers config (mode 600; keys appear only as ${...} placeholders)
    .demo/logs/<name>.log   each server's stderr, as a desktop client would keep it

Run it directly with `python demo/run_demo.py` in an environment where the workspace is installed.
"""

from __future__ import annotations

import asyncio
import functools
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
from pathlib import Path
from typing import Any, NoReturn

try:  # imported up front: importing the MCP SDK later would stall the transcript for a second or more
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import get_default_environment, stdio_client
    from mcp.types import Implementation
    from unizo_mcp_core.docs import config_entry
    from unizo_mcp_core.registry import discover_services, package_name, server_name
    from unizo_mcp_core.spec import Param, ServiceSpec, ToolSpec

    try:  # `handle` needs no pytest; `testing` (the pytest plugin) re-exports the same function
        from unizo_mcp_sandbox.handle import start_sandbox
    except ImportError:
        from unizo_mcp_sandbox.testing import start_sandbox
    from unizo_mcp_sandbox.exports import role_variable  # the variable `unizo-sandbox env` exports a key in
    from unizo_mcp_sandbox.keys import service_role
except ImportError as exc:
    sys.stderr.write(
        f"The demo needs the workspace installed ({exc}).\n"
        "Run it with: python3 -m pip install 'nox[uv]' && python3 -m nox -s demo\n"
    )
    sys.exit(1)

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / ".demo"
STATE_DIR = DEMO_DIR / "sandbox"
CONFIG_FILE = DEMO_DIR / "mcp.json"
LOG_DIR = DEMO_DIR / "logs"
TIMEOUT = 60.0  # seconds for any one server operation (generous: a loaded machine is slow to start one)
PARALLEL = 6  # steps running at once (each spawns one or two processes of about 70 MB)
EXCERPT = 3  # items shown per list
# The sandbox's per-key allowance: every scene uses the same 'full' key within a few seconds (about ten
# requests per service), so the product's 100 per minute would throttle a demo of a dozen services.
RATE_LIMIT = 1000
# Fields shown first when a record has them (any service); otherwise its first scalar fields.
SHOWN_FIELDS = ("id", "name", "title", "key", "login", "hostnames", "severity", "level", "state", "status")
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


def on(integration: str) -> dict[str, Any]:
    """The integration_id argument of a category's tools; none for an account-level service."""
    return {"integration_id": integration} if integration else {}


def one_line(value: Any, width: int = WIDTH) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= width else text[: width - len(DOTS)] + DOTS


def pick(item: Any, keys: Sequence[str] = SHOWN_FIELDS, most: int = 5) -> Any:
    """The fields of `item` worth showing: `keys` (dotted paths) when present, then its first scalars."""
    if not isinstance(item, Mapping):
        return item
    shown: dict[str, Any] = {}
    for key in keys:
        value: Any = item
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value not in (None, "", [], {}):
            shown[key] = value
    for key, value in item.items():
        if len(shown) >= most:
            break
        if key not in shown and value not in (None, "") and not isinstance(value, Mapping | list):
            shown[key] = value
    return dict(list(shown.items())[:most])


# A passed line of --verify-connection: "✓ TLS handshake: ..." (or "OK TLS handshake: ..." without Unicode).
CHECK_LINE = re.compile(r"^\s*(?:✓|OK)\s+([^:]+):")


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


def show_list(what: str, data: Any, pagination: Mapping[str, Any] | None, step: str) -> list[Any]:
    expect(isinstance(data, list), step, f"a list of {what}", data)
    total = pagination.get("total") if pagination else None
    of = f" of {total}" if total is not None else ""
    say(f"  {BACK} {len(data)}{of} {what}" + (f" (first {min(EXCERPT, len(data))})" if data else ""))
    for item in data[:EXCERPT]:
        info(one_line(pick(item)))
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


# --- what to call, from the declarations alone ----------------------------------------------------------


def noun(tool: ToolSpec, service: str) -> str:
    """What a tool handles, from its name: <service>_list_devices -> "devices"."""
    verb_and_noun = tool.name.removeprefix(f"{service}_").split("_", 1)
    return verb_and_noun[1].replace("_", " ") if len(verb_and_noun) == 2 else tool.name


def reader_of(spec: ServiceSpec, path: str) -> ToolSpec | None:
    """The get tool of one record under `path`: a GET at `path/{<param>}` whose records `path` lists."""
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


def browse_tools(spec: ServiceSpec) -> tuple[ToolSpec | None, ToolSpec | None]:
    """(the first list tool that needs no parent id, its records' get tool): one service's short scene.

    The first such list tool that has a get tool is preferred; either may be None.
    """
    roots = [t for t in spec.tools if t.method == "GET" and t.paginated and not t.path_params()]
    for tool in roots:
        details = reader_of(spec, tool.path)
        if details is not None and spec.id_source(details.path_params()[-1].name) == tool:
            return tool, details
    return (roots[0] if roots else None), None


def invent(tool: ToolSpec, param: Param) -> Any:
    """A value for a required argument from its declaration alone, or None when none can be made up."""
    if param.enum:
        return param.enum[0]
    if param.type == "string" and not param.base64 and param.pattern is None:
        what = param.name.replace("_", " ").capitalize()
        text = f"{what} written by the unizo-mcp demo through {tool.name}"
        return text[: param.max_length] if param.max_length else text
    if param.type in ("integer", "number"):
        low = 1 if param.minimum is None else param.minimum
        return int(low) if param.type == "integer" else low
    if param.type == "boolean":
        return False
    return None  # arrays, objects, files: not made up


def required_body(tool: ToolSpec) -> list[Param]:
    return [p for p in tool.params if p.required and p.location != "path"]


def create_tools(spec: ServiceSpec) -> list[tuple[ToolSpec, ToolSpec]]:
    """(create tool, the get tool that reads what it created), fewest invented inputs first.

    A create tool is a write POST whose records a get tool reads back (`<path>/{id}`), whose parent ids
    the list tools provide (`ServiceSpec.id_source`) and whose required arguments `invent` can fill.
    """
    found = []
    for index, tool in enumerate(spec.tools):
        if tool.method != "POST" or tool.permission.value == "read" or tool.handler != "http":
            continue
        reader = reader_of(spec, tool.path)
        if reader is None or any(spec.id_source(p.name) is None for p in tool.path_params()):
            continue
        body = required_body(tool)
        if any(invent(tool, p) is None for p in body):
            continue
        made_up = sum(1 for p in body if p.type == "string" and not p.enum)
        found.append(((len(tool.path_params()), made_up, len(body), index), tool, reader))
    return [(tool, reader) for _, tool, reader in sorted(found, key=lambda f: f[0])]


def write_service(specs: Mapping[str, ServiceSpec]) -> ServiceSpec | None:
    """The service of the write and read-only scenes: the one whose best create tool invents the least;
    without any create tool, the first service that has a write tool at all."""
    ranked = []
    for spec in specs.values():
        creates = create_tools(spec)
        if creates:
            tool = creates[0][0]
            body = required_body(tool)
            made_up = sum(1 for p in body if p.type == "string" and not p.enum)
            ranked.append(((len(tool.path_params()), made_up, len(body), spec.name), spec))
    if ranked:
        return min(ranked, key=lambda r: r[0])[1]
    return next((s for s in specs.values() if any(t.permission.value != "read" for t in s.tools)), None)


# --- the steps ---------------------------------------------------------------------------------------


class Demo:
    def __init__(self) -> None:
        self.sandbox: Any = None
        self.keys: dict[str, str] = {}
        self.config: dict[str, Any] = {}
        self.env: dict[str, str] = {}
        self.specs: dict[str, ServiceSpec] = {}
        self.writer: ServiceSpec | None = None
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

    # the sandbox ------------------------------------------------------------------------------------
    async def start_sandbox(self) -> None:
        self.next("Start the sandbox (a local HTTPS emulator of the Unizo API)")
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        for old_log in LOG_DIR.glob("*.log"):
            old_log.unlink()
        # port=None: the previous run's port in this state dir when free, so the config stays valid.
        options: dict[str, Any] = {"state_dir": STATE_DIR, "port": None, "rate_limit": RATE_LIMIT}
        self.sandbox = await asyncio.to_thread(lambda: start_sandbox(**options))
        await asyncio.to_thread(self.sandbox.reset)  # every run starts from the seeded data and keys
        self.keys = dict(self.sandbox.keys)
        ok(f"listening on {self.sandbox.base_url}")
        info(f"CA certificate: {self._rel(self.sandbox.ca_file)}")
        info(f"state:          {self._rel(STATE_DIR)}")
        for role in ("full", "readonly"):
            expect(role in self.keys, "sandbox keys", f"a seeded {role!r} key", sorted(self.keys))
        info("seeded keys: " + ", ".join(sorted(self.keys)))

    # the config -------------------------------------------------------------------------------------
    def write_config(self) -> None:
        self.next("Write the mcpServers config a desktop client would hold")
        self.specs = discover_services()
        expect(bool(self.specs), "discover services", "at least one Unizo service installed", "none")
        self.writer = write_service(self.specs)
        servers: dict[str, Any] = {}
        for service, spec in self.specs.items():
            entry = config_entry(
                spec,
                command=script(package_name(service)),
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
        ok(f"wrote {self._rel(CONFIG_FILE)} (mode {mode:o}): {len(servers)} servers")
        expect(mode == 0o600, "config file mode", "600", f"{mode:o}")
        width = max(len(name) for name in servers) + 2
        for name, entry in servers.items():
            key_var = entry.get("env", {}).get("UNIZO_API_KEY", "")
            expect(
                key_var.startswith("${") and key_var.endswith("}"),
                f"{name} key",
                "UNIZO_API_KEY to be a ${...} placeholder",
                key_var[:12] + DOTS,
            )
            info(f"{name:{width}} {Path(entry['command']).name}  UNIZO_API_KEY={key_var}")
        env_names = {k for entry in servers.values() for k in entry["env"] if k != "UNIZO_API_KEY"}
        info(f"{'':{width}} and in every entry: {', '.join(sorted(env_names))}")
        info(f"{'':{width}} commands in {self._rel(Path(sysconfig.get_path('scripts')))}")
        ok("keys only as placeholders; the demo's environment sets every key variable to the 'full' key")
        expect(
            all(k not in text for k in self.keys.values()),
            "config file",
            "no literal key",
            "a key in the file",
        )

    # one scene per service ------------------------------------------------------------------------
    def scene_title(self, spec: ServiceSpec) -> str:
        title = f"{server_name(spec)}: {spec.title}"
        creates = create_tools(spec) if spec is self.writer else []
        if creates:
            title += f"; a {noun(creates[0][0], spec.name)} created, then read back"
        return title

    async def service_scene(self, spec: ServiceSpec, full_checklist: bool) -> None:
        name = server_name(spec)
        entry = self.config["mcpServers"][name]
        log = LOG_DIR / f"{name}.log"
        # The checklist and the server start at the same time; the transcript shows the checklist first.
        verify = asyncio.create_task(run_cli(name, entry, self.env, "--verify-connection"))
        try:
            async with launch(name, entry, self.env, log) as server:
                await self.show_verify(name, entry, verify, full_checklist)
                await self.check_tools(spec, server, log)
                integration = await self.pick_integration(server, spec)
                await self.browse(server, spec, integration)
                if spec is self.writer:
                    await self.create_and_read_back(server, spec, integration)
        except DemoFailure as failure:
            if failure.step == f"start {name}":
                # a failed checklist explains a failed start
                await self.show_verify(name, entry, verify, True)
            raise
        finally:
            if not verify.done():
                verify.cancel()
            await asyncio.gather(verify, return_exceptions=True)

    async def show_verify(
        self, name: str, entry: Mapping[str, Any], verify: asyncio.Task[tuple[int, str]], full: bool
    ) -> None:
        command = f"$ {Path(entry['command']).name} --verify-connection"
        code, out = await verify
        if full or code != 0:
            say(f"  {command}")
            block(out)
        expect(
            code == 0, f"{name} --verify-connection", "exit code 0 (every check passed)", f"exit code {code}"
        )
        if full:
            ok("verify-connection: every check passed")
            return
        checks = [m.group(1) for m in map(CHECK_LINE.match, out.splitlines()) if m]
        say(f"  {command}")
        ok(f"exit code 0, {len(checks)} checks passed: {', '.join(checks)}" if checks else "exit code 0")

    async def check_tools(self, spec: ServiceSpec, server: Server, log: Path) -> None:
        names = [t.name for t in await server.list_tools()]
        declared = [t.name for t in spec.all_tools()]
        expect(
            sorted(names) == sorted(declared),
            f"{server.name} tools/list",
            f"the {len(declared)} declared tools: {', '.join(declared)}",
            f"{len(names)} tools: {', '.join(names)}",
            log=log,
        )
        ok(f"started over stdio; tools/list: {len(names)} tools (all declared, the full key hides none)")
        for line in _wrap(names):
            info(line)

    async def pick_integration(self, server: Server, spec: ServiceSpec) -> str:
        """The integration the scene reads ("" for an account-level service, whose tools take none)."""
        service = spec.name
        if not spec.discovery:
            say(f"  {BACK} account-level tools: no integration_id")
            return ""
        data, _ = await server.call(f"{service}_list_connectors", {})
        expect(isinstance(data, list) and data, f"{service}_list_connectors", "at least one connector", data)
        connectors = [c.get("name", c) if isinstance(c, Mapping) else c for c in data]
        say(f"  {BACK} connectors: {', '.join(map(str, connectors))}")
        # The vendor the package's docs name first when it is there.
        preferred = [c for c in spec.connectors if c in connectors]
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

    async def browse(self, server: Server, spec: ServiceSpec, integration: str) -> None:
        """The first list tool that needs no parent id, then the first record's details."""
        lister, details = browse_tools(spec)
        if lister is None:
            ok("no list tool without a parent id: nothing more to browse")
            return
        data, page = await server.call(lister.name, {**on(integration), "limit": EXCERPT})
        records = show_list(noun(lister, spec.name), data, page, lister.name)
        expect(isinstance(records, list), lister.name, "a list of records", records)
        if not records:  # an account with none yet (webhooks, say): the answer itself is the scene
            ok(f"{lister.name} answered: none yet in this account")
            return
        first = records[0]
        expect(isinstance(first, Mapping) and first.get("id"), lister.name, "records with an id", first)
        if details is None:
            ok(f"{lister.name} answered; the service has no get tool for its records")
            return
        param = details.path_params()[-1].name
        detail, _ = await server.call(details.name, {**on(integration), param: first["id"]})
        say(f"  {BACK} {one_line(pick(detail, most=6))}")
        expect(
            isinstance(detail, Mapping) and str(detail.get("id")) == str(first["id"]),
            details.name,
            f"the record {first['id']}",
            detail,
        )
        ok(f"the first of the {noun(lister, spec.name)} read in full with {details.name}")

    async def parent_ids(
        self, server: Server, spec: ServiceSpec, tool: ToolSpec, integration: str
    ) -> dict[str, Any]:
        """The tool's path arguments, each the first record of the list tool that provides it."""
        args: dict[str, Any] = on(integration)
        for param in tool.path_params():
            source = spec.id_source(param.name)
            if source is None:
                fail(f"{tool.name} {param.name}", "a list tool providing it (ServiceSpec.id_source)", "none")
            parents = {p.name: args[p.name] for p in source.path_params()}
            data, _ = await server.call(source.name, {**args, **parents, "limit": 1}, show=False)
            expect(isinstance(data, list) and data, source.name, f"a record for {param.name}", data)
            args[param.name] = str(data[0]["id"])
            say(f"  {ARROW} {source.name}: {param.name} = {one_line(pick(data[0], most=2), 80)}")
        return args

    async def create_and_read_back(self, server: Server, spec: ServiceSpec, integration: str) -> None:
        creates = create_tools(spec)
        if not creates:
            return
        say()
        say(f"  {RULE} A write: a record created with the full key, then read back")
        for tool, reader in creates:
            ids = await self.parent_ids(server, spec, tool, integration)
            written = {p.name: invent(tool, p) for p in required_body(tool)}
            say(f"  {ARROW} {tool.name} {one_line({**ids, **written})}")
            async with asyncio.timeout(TIMEOUT):
                result = await server.client.call_tool(tool.name, {**ids, **written})
            if result.is_error:  # the API refused the invented values: say so, try the next create tool
                say(f"  {BACK} refused: {one_line(text_of(result))}")
                continue
            created, _ = payload(result)
            expect(
                isinstance(created, Mapping) and created.get("id"), tool.name, "a record with an id", created
            )
            say(f"  {BACK} created {one_line(pick(created))}")
            param = reader.path_params()[-1].name
            read, _ = await server.call(reader.name, {**ids, param: created["id"]})
            say(f"  {BACK} {one_line(pick(read))}")
            expect(isinstance(read, Mapping), reader.name, "the record", read)
            sent = {p.wire_name: written[p.name] for p in required_body(tool) if p.location == "body"}
            compared = {k: v for k, v in sent.items() if k in read}
            differ = {k: (v, read[k]) for k, v in compared.items() if read[k] != v}
            expect(compared and not differ, reader.name, f"the fields just written: {sent}", f"{differ}")
            fields = ", ".join(compared)
            ok(f"{noun(tool, spec.name)} {created['id']} read back with the {fields} just written")
            return
        fail(f"{spec.name} create tools", "one create tool to accept the invented values", "all refused")

    # the read-only key ------------------------------------------------------------------------------
    async def read_only_key(self) -> None:
        spec = self.writer
        assert spec is not None
        name = server_name(spec)
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
            creates = create_tools(spec)
            tool = creates[0][0] if creates else next(t for t in spec.tools if t.permission.value != "read")
            say("  Reads work with this key:")
            integration = await self.pick_integration(server, spec)
            if all(spec.id_source(p.name) is not None for p in tool.path_params()):
                ids = await self.parent_ids(server, spec, tool, integration)
            else:  # the refusal comes before any request: placeholders will do for ids no list provides
                ids = {**on(integration), **{p.name: "demo" for p in tool.path_params()}}

            say()
            say(f"  {RULE} A call refused for missing permission")
            info(f"{tool.name} is hidden, but a client can still call it by name:")
            arguments = {**ids}
            for param in required_body(tool):
                value = invent(tool, param)
                if value is not None:
                    arguments[param.name] = value
            text = await server.refused(tool.name, arguments)
            say(f"  {BACK} isError: {text}")
            needed = f"{spec.name}:{tool.permission.value}"
            expect(
                needed in text,
                "refusal message",
                f"a message naming the missing permission ({needed})",
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

    # a key for another service ----------------------------------------------------------------------
    def foreign_key(self) -> tuple[str, ServiceSpec] | None:
        """(a sandbox key role that may use one service only, a server of another service), if any."""
        for role in sorted(self.keys):
            own = role.removesuffix("_only")
            if role.endswith("_only") and own in self.specs:
                other = next((s for s in self.specs.values() if s.name != own), None)
                if other is not None:
                    return role, other
        return None

    async def key_without_service(self, role: str, spec: ServiceSpec) -> None:
        name = server_name(spec)
        entry = self.config["mcpServers"][name]
        env = {**self.env, spec.key_variable: self.keys[role]}
        own = role.removesuffix("_only")
        info(f"{spec.key_variable} = the sandbox's {role!r} key (only {own}, nothing on {spec.name})")
        log = LOG_DIR / f"{name}-{role}.log"

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
            expect(
                spec.name in out.lower(),
                f"{name} --test-auth",
                f"a message naming the {spec.name} service",
                out,
            )
            ok(f"exit code {code}: the key may not use {spec.name}")
            refused = await starting
        finally:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        expect(refused is not None, f"start {name}", "the server to refuse to start", "it started", log=log)
        said = [line for line in _tail(log).splitlines() if "permission" in line and spec.name in line]
        expect(
            bool(said),
            f"{name} log",
            f"the reason (no permission on {spec.name}) on stderr",
            _tail(log),
            log=log,
        )
        ok("launched over stdio as a client would, the server refused to start; its log says:")
        block(said[-1])

    # the config to paste ----------------------------------------------------------------------------
    def print_config(self) -> None:
        self.next("Use the sandbox from your desktop MCP client")
        port = self.sandbox.base_url.rsplit(":", 1)[1]
        say("  1. Keep the sandbox running in a terminal (same state dir: same CA certificate and keys):")
        say()
        serve = [script("unizo-sandbox"), "serve", "--state-dir", str(STATE_DIR), "--port", port]
        say("    " + shlex.join(serve))
        say()
        say("  2. Export each service's own key where your MCP client starts (sandbox keys, not real ones;")
        say("     `unizo-sandbox env` prints them into your shell, so no key is shown here):")
        say()
        env_command = [script("unizo-sandbox"), "env", "--state-dir", str(STATE_DIR)]
        say(f'    eval "$({shlex.join(env_command)})"')
        for spec in self.specs.values():
            say(f'    export {spec.key_variable}="${role_variable(service_role(spec.name))}"')
        say()
        say("  3. Paste this into the client's MCP config, a file only you may read (chmod 600 it);")
        say(f"     it is also in {self._rel(CONFIG_FILE)}:")
        say()
        for line in json.dumps(self.config, indent=2).splitlines():
            say("    " + line)
        say()
        info("The ${...} placeholders are expanded from the client's environment; in a client that does not")
        info("expand them, put the key itself there instead. To try the read-only experience, export")
        info(f"${role_variable('readonly')} instead.")

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
        scenes: list[tuple[str, Callable[[], Any]]] = []
        for index, spec in enumerate(self.specs.values()):
            scenes.append((self.scene_title(spec), functools.partial(self.service_scene, spec, index == 0)))
        if self.writer is not None:
            title = f"{server_name(self.writer)} with the read-only key: fewer tools, a refused call"
            scenes.append((title, self.read_only_key))
        foreign = self.foreign_key()
        if foreign is not None:
            role, spec = foreign
            title = f"{server_name(spec)} with a key that has no permission on {spec.name}"
            scenes.append((title, lambda: self.key_without_service(role, spec)))
        await self.sections(scenes)
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
