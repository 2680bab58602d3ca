"""fast-agent, with its `passthrough` model, calling the servers' tools from the entries they print.

fast-agent (PyPI `fast-agent-mcp`) is an MCP host whose `passthrough` model needs no language model: a
message `***CALL_TOOL <tool> <json arguments>` makes the agent call that tool, and `--results` writes the
conversation, tool results included, to a JSON file. Its current releases need Python >= 3.12, so it lives
in its own venv (never the test venv), created once in the clients cache.

fast-agent gives stdio servers a minimal environment (the MCP SDK's allowlist plus the entry's `env`), so
everything a server needs must be in its entry. The entries are printed the way the README tells users of
such clients to: `--print-config` run with the sandbox's UNIZO_BASE_URL and UNIZO_CA_BUNDLE set (they are
printed into `env`), the service servers keep the key placeholder `${UNIZO_<SERVICE>_API_KEY}`, which
fast-agent expands from its own environment (the one way the key can reach them), and the all-in-one entry
is printed with UNIZO_API_KEY_FILE pointing at a file that holds the sandbox's read-only key.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from installs import find_python, fresh_dir, install_lock, installed, mark_installed, tail
from mcp_clients import Redactor, ToolRun, ToolUnavailable, run_command
from targets import ALL_IN_ONE, TARGETS, printed_entry, shell_env, specs
from walk import Plan

# --- pinned version (the one place to change it) -----------------------------------------------------------
FAST_AGENT_VERSION = "0.10.48"
FAST_AGENT_REQUIREMENT = f"fast-agent-mcp=={FAST_AGENT_VERSION}"
MIN_PYTHON = (3, 12)
PYTHON_VARIABLE = "EXTERNAL_FAST_AGENT_PYTHON"  # an explicit interpreter for fast-agent's venv

INSTALL_TIMEOUT = 1200.0
RUN_TIMEOUT = 240.0
CALL_TOOL = "***CALL_TOOL"  # the passthrough model's tool-call prefix


def install(cache: Path) -> Path:
    """The `fast-agent` command of the pinned version, in its own venv under `cache`, created once."""
    python, version = find_python(MIN_PYTHON, PYTHON_VARIABLE)
    venv = cache / f"fast-agent-{FAST_AGENT_VERSION}-py{version[0]}.{version[1]}"
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    command = bindir / "fast-agent"
    with install_lock(cache):
        if not (installed(venv, FAST_AGENT_REQUIREMENT) and command.exists()):
            fresh_dir(venv)
            pip = [str(bindir / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
            steps = [[python, "-m", "venv", str(venv)], [*pip, FAST_AGENT_REQUIREMENT]]
            for argv in steps:
                try:
                    done = subprocess.run(
                        argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
                    )
                except subprocess.TimeoutExpired:
                    raise ToolUnavailable(f"{' '.join(argv)} took over {INSTALL_TIMEOUT:.0f}s") from None
                if done.returncode != 0:
                    raise ToolUnavailable(
                        f"cannot install {FAST_AGENT_REQUIREMENT} with {python}: {' '.join(argv)} exited "
                        f"{done.returncode}:\n{tail(done.stderr)}"
                    )
            done = subprocess.run(
                [str(command), "--version"], capture_output=True, text=True, timeout=120, check=False
            )
            if done.returncode != 0 or FAST_AGENT_VERSION not in done.stdout:
                raise ToolUnavailable(f"{command} --version: {tail(done.stdout + done.stderr, 500)!r}")
            mark_installed(venv, FAST_AGENT_REQUIREMENT)
    return command


# --- one call --------------------------------------------------------------------------------------------


@dataclass
class AgentCall:
    """One `fast-agent go` run: one message, one tool call, its result as fast-agent recorded it."""

    server: str  # the entry name given to --servers
    tool: str
    arguments: dict[str, Any]
    run: ToolRun
    result: dict[str, Any] | None  # the tool result from the --results history, None if there is none

    @property
    def is_error(self) -> bool:
        return bool(self.result and self.result.get("isError"))

    @property
    def data(self) -> Any:
        structured = (self.result or {}).get("structuredContent")
        return structured.get("data") if isinstance(structured, dict) else None

    @property
    def text(self) -> str:
        content = (self.result or {}).get("content") or []
        return "\n".join(c.get("text", "") for c in content if isinstance(c, dict))

    @property
    def answered_by(self) -> str | None:
        """The MCP server that produced the result (fast-agent records its serverInfo name), if any."""
        info = ((self.result or {}).get("_meta") or {}).get("io.modelcontextprotocol/serverInfo") or {}
        return info.get("name")

    def describe(self) -> str:
        return f"{self.tool} {json.dumps(self.arguments)} on {self.server}\n{self.run.describe()}"


def tool_result(history: Any) -> dict[str, Any] | None:
    """The first tool result in a `--results` history file."""
    for message in (history or {}).get("messages") or []:
        results = message.get("tool_results") if isinstance(message, dict) else None
        if isinstance(results, dict) and results:
            first = next(iter(results.values()))
            return first if isinstance(first, dict) else None
    return None


@dataclass
class FastAgent:
    command: Path
    root: Path  # artifacts/fast-agent: fast-agent.yaml, home/, results/, runs/
    env: dict[str, str]
    redactor: Redactor

    @property
    def config(self) -> Path:
        return self.root / "fast-agent.yaml"

    def write_config(self, servers: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """`fast-agent.yaml`: the passthrough model and the printed entries under `mcp.servers` (JSON is
        YAML, so the entries are written exactly as printed)."""
        config = {"default_model": "passthrough", "mcp": {"servers": servers}}
        self.config.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        return config

    def call(self, label: str, server: str, tool: str, arguments: dict[str, Any]) -> AgentCall:
        results = self.root / "results" / f"{label}.json"
        results.parent.mkdir(parents=True, exist_ok=True)
        message = f"{CALL_TOOL} {tool} {json.dumps(arguments)}"
        argv = [str(self.command), "--no-update-check", "go", "-c", str(self.config), "--servers", server]
        argv += ["--isolated", "--quiet", "--results", str(results), "--message", message]
        run = run_command(label, argv, self.env, timeout=RUN_TIMEOUT, redactor=self.redactor, cwd=self.root)
        run.save(self.root / "runs" / f"{label}.json")
        try:
            history = json.loads(results.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            history = None
        return AgentCall(server, tool, arguments, run, tool_result(history))


# --- the scenario ----------------------------------------------------------------------------------------


@dataclass
class FastAgentReport:
    plan: Plan
    config: dict[str, Any]
    service_server: str  # the service's entry name
    all_in_one: str  # the all-in-one entry name
    calls: dict[str, AgentCall]  # "list", "get", "write", "refused"


def run_scenario(
    command: Path,
    root: Path,
    plan: Plan,
    sandbox_env: dict[str, str],
    keys: dict[str, str],
    readonly_key: str,
    redactor: Redactor,
) -> FastAgentReport:
    """`keys`: service -> its service-only key, exported as UNIZO_<SERVICE>_API_KEY for the placeholders."""
    fresh_dir(root)
    settings = {k: v for k, v in sandbox_env.items() if k != "UNIZO_API_KEY"}
    secret_dir = Path(tempfile.mkdtemp(prefix="unizo-fast-agent-key-"))  # outside the artifacts
    try:
        key_file = secret_dir / "readonly.key"
        key_file.write_text(readonly_key + "\n", encoding="utf-8")
        key_file.chmod(0o600)
        servers: dict[str, dict[str, Any]] = {}
        names: dict[str, str] = {}
        for target_id, target in TARGETS.items():
            extra = dict(settings)
            if target_id == ALL_IN_ONE:
                extra["UNIZO_API_KEY_FILE"] = str(key_file)
            name, entry = printed_entry(target, shell_env(extra))
            servers[name] = entry
            names[target_id] = name
        home = root / "home"
        home.mkdir(parents=True, exist_ok=True)
        # The user's shell: the key variables the placeholders name, no other UNIZO_* setting.
        env = shell_env({specs()[s].key_variable: key for s, key in keys.items()})
        env.update(HOME=str(home), USERPROFILE=str(home), NO_COLOR="1", COLUMNS="200")
        agent = FastAgent(command, root, env, redactor)
        config = agent.write_config(servers)

        own = names[plan.service]
        calls = {"list": agent.call("list", own, plan.lister.name, plan.list_args)}
        listed = calls["list"].data
        record = (
            listed[0].get("id")
            if isinstance(listed, list) and listed and isinstance(listed[0], dict)
            else None
        )
        if record is not None:
            calls["get"] = agent.call("get", own, plan.reader.name, plan.get_args(str(record)))
        calls["write"] = agent.call("write", own, plan.writer.name, plan.write_args)
        calls["refused"] = agent.call("refused", names[ALL_IN_ONE], plan.writer.name, plan.write_args)
        return FastAgentReport(plan, config, own, names[ALL_IN_ONE], calls)
    finally:
        shutil.rmtree(secret_dir, ignore_errors=True)
