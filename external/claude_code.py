"""Claude Code's offline MCP health check, fed with the entries the servers print.

`claude mcp add-json` stores each server's `--print-config` entry as printed (user scope, in a private
HOME and CLAUDE_CONFIG_DIR), `claude mcp list` starts every configured server and reports it connected or
failed, `claude mcp get <name>` does the same for one server and shows its stored entry. None of this
needs a login or the network.

How the sandbox reaches the servers is how users do it: the entries are printed in a clean environment, so
they hold nothing but the key placeholder (`"UNIZO_API_KEY": "${UNIZO_<SERVICE>_API_KEY}"`; the all-in-one
entry has no key variable at all), and the `claude` process gets UNIZO_BASE_URL, UNIZO_CA_BUNDLE,
UNIZO_ENVIRONMENT and one service-only key per service in its environment. Claude Code expands the
placeholders from that environment and passes the whole environment on to stdio servers.

Two controls show that a "connected" is about the key and the sandbox: the same configuration with every
key replaced by the sandbox's revoked key (the server asks the sandbox, is refused and exits), and with the
key variables unset (Claude Code warns about each missing variable; the server refuses the placeholder).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from installs import fresh_dir, install_lock, installed, mark_installed, tail
from mcp_clients import Redactor, ToolRun, ToolUnavailable, run_command
from targets import TARGETS, printed_entry, shell_env, specs

# --- pinned version (the one place to change it) -----------------------------------------------------------
CLAUDE_CODE_VERSION = "2.1.332"
CLAUDE_CODE_PACKAGE = f"@anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}"

INSTALL_TIMEOUT = 900.0
RUN_TIMEOUT = 300.0  # `mcp list` starts every server, three at a time; each has MCP_TIMEOUT to connect
MCP_TIMEOUT_MS = 120_000  # per server start-up; the default (30 s) is tight for 5 servers on 2 busy cores
SCOPE = "user"

CONNECTED = "Connected"
MISSING_VARIABLES = "Missing environment variables"


def install(cache: Path, npm_cache: str | None) -> Path:
    """The `claude` binary of the pinned version, installed with npm into `cache` once."""
    npm = shutil.which("npm")
    if npm is None:
        raise ToolUnavailable("npm is not on PATH: install Node.js with npm to run Claude Code")
    prefix = cache / f"claude-code-{CLAUDE_CODE_VERSION}"
    binary = prefix / "node_modules" / ".bin" / "claude"
    with install_lock(cache):
        if not (installed(prefix, CLAUDE_CODE_PACKAGE) and binary.exists()):
            fresh_dir(prefix)
            env = {k: v for k, v in os.environ.items() if not k.startswith(("UNIZO_", "MCP_"))}
            env.update(
                npm_config_prefer_offline="true",
                npm_config_update_notifier="false",
                npm_config_fund="false",
                npm_config_audit="false",
            )
            if npm_cache:
                env["npm_config_cache"] = npm_cache
            argv = [npm, "install", "--prefix", str(prefix), "--no-save", "--no-package-lock"]
            argv += ["--loglevel=error", CLAUDE_CODE_PACKAGE]
            try:
                done = subprocess.run(
                    argv, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
                )
            except subprocess.TimeoutExpired:
                raise ToolUnavailable(
                    f"npm install {CLAUDE_CODE_PACKAGE} took over {INSTALL_TIMEOUT:.0f}s"
                ) from None
            if done.returncode != 0 or not binary.exists():
                raise ToolUnavailable(
                    f"npm could not install {CLAUDE_CODE_PACKAGE} (exit {done.returncode}):\n"
                    + tail(done.stderr)
                )
            _check_version(binary)
            mark_installed(prefix, CLAUDE_CODE_PACKAGE)
    return binary


def _check_version(binary: Path) -> None:
    try:
        done = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except OSError as exc:
        raise ToolUnavailable(f"{binary} does not run: {exc}") from None
    if done.returncode != 0 or CLAUDE_CODE_VERSION not in done.stdout:
        raise ToolUnavailable(
            f"{binary} --version exited {done.returncode} ({tail(done.stdout + done.stderr, 500)!r}): the "
            "package's postinstall, which puts the native binary in place, may not have run"
        )


@dataclass
class ClaudeCode:
    """One private Claude Code installation state: HOME, config dir and a project directory as cwd."""

    binary: Path
    root: Path  # artifacts/claude-code: home/ and project/ below
    redactor: Redactor

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def config_dir(self) -> Path:
        return self.home / ".claude"

    @property
    def project(self) -> Path:
        return self.root / "project"

    def prepare(self) -> None:
        fresh_dir(self.root)
        for path in (self.home, self.config_dir, self.project):
            path.mkdir(parents=True, exist_ok=True)

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        """A user's shell: no UNIZO_*, MCP_* or Claude settings of the developer's, a private HOME."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("UNIZO_", "MCP_", "CLAUDE", "ANTHROPIC_", "XDG_"))
        }
        loopback = "127.0.0.1,localhost,::1"
        no_proxy = ",".join(x for x in (env.get("NO_PROXY") or env.get("no_proxy"), loopback) if x)
        env.update(
            HOME=str(self.home),
            USERPROFILE=str(self.home),
            CLAUDE_CONFIG_DIR=str(self.config_dir),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_STATE_HOME=str(self.home / ".local" / "state"),
            MCP_TIMEOUT=str(MCP_TIMEOUT_MS),
            DISABLE_AUTOUPDATER="1",
            DISABLE_TELEMETRY="1",
            DISABLE_ERROR_REPORTING="1",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            NO_COLOR="1",
            NO_PROXY=no_proxy,
            no_proxy=no_proxy,
        )
        env.update(extra)
        return env

    def run(self, label: str, args: list[str], extra_env: dict[str, str]) -> ToolRun:
        run = run_command(
            label,
            [str(self.binary), *args],
            self.env(extra_env),
            timeout=RUN_TIMEOUT,
            redactor=self.redactor,
            cwd=self.project,
        )
        run.save(self.root / "runs" / f"{label}.json")
        return run

    def stored_servers(self) -> dict[str, Any]:
        """The user-scope `mcpServers` of Claude Code's own config file."""
        path = self.config_dir / ".claude.json"
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        servers = data.get("mcpServers") or {}
        return dict(servers) if isinstance(servers, dict) else {}


# --- reading `claude mcp list` / `claude mcp get` ---------------------------------------------------------


def list_status(run: ToolRun, name: str) -> str | None:
    """What `claude mcp list` says of server `name` ("✔ Connected", "✘ Failed to connect — ...")."""
    for line in run.stdout.splitlines():
        if line.startswith(f"{name}: ") and " - " in line:
            return line.rsplit(" - ", 1)[1].strip()
    return None


def get_status(run: ToolRun) -> str | None:
    """The `Status:` line of `claude mcp get`."""
    for line in run.stdout.splitlines():
        if line.strip().startswith("Status:"):
            return line.split(":", 1)[1].strip()
    return None


def is_connected(status: str | None) -> bool:
    return status is not None and CONNECTED in status and "Failed" not in status


# --- the scenario ----------------------------------------------------------------------------------------


@dataclass
class ClaudeReport:
    names: dict[str, str]  # target id -> its entry's name ("unizo-<service>", "unizo")
    printed: dict[str, dict[str, Any]]  # entry name -> the entry as `--print-config` printed it
    added: dict[str, ToolRun]  # entry name -> `claude mcp add-json`
    stored: dict[str, Any]  # Claude Code's user-scope mcpServers after the adds
    listed: ToolRun  # `claude mcp list` with the sandbox's settings and keys
    got: dict[str, ToolRun]  # entry name -> `claude mcp get`
    revoked: ToolRun  # `claude mcp list` with every key replaced by a revoked one
    missing: ToolRun  # `claude mcp list` with no key variable set
    key_variables: dict[str, str] = field(default_factory=dict)  # service -> UNIZO_<SERVICE>_API_KEY
    logs: Path | None = None  # where Claude Code keeps each server's stderr


def run_scenario(
    binary: Path,
    root: Path,
    sandbox_env: dict[str, str],
    keys: dict[str, str],
    revoked_key: str,
    redactor: Redactor,
) -> ClaudeReport:
    """`keys`: service -> its service-only key. `sandbox_env`: UNIZO_BASE_URL, UNIZO_CA_BUNDLE, ..."""
    claude = ClaudeCode(binary, root, redactor)
    claude.prepare()
    names: dict[str, str] = {}
    printed: dict[str, dict[str, Any]] = {}
    for target_id, target in TARGETS.items():
        name, entry = printed_entry(target, shell_env())  # no UNIZO_* setting: the placeholder alone
        names[target_id] = name
        printed[name] = entry
    added = {
        name: claude.run(f"add-json-{name}", ["mcp", "add-json", "-s", SCOPE, name, json.dumps(entry)], {})
        for name, entry in printed.items()
    }
    variables = {service: spec.key_variable for service, spec in specs().items()}
    settings = {k: v for k, v in sandbox_env.items() if k != "UNIZO_API_KEY"}
    with_keys = {**settings, **{variables[s]: key for s, key in keys.items()}}
    listed = claude.run("list", ["mcp", "list"], with_keys)
    got = {name: claude.run(f"get-{name}", ["mcp", "get", name], with_keys) for name in printed}
    revoked = claude.run(
        "list-revoked-keys", ["mcp", "list"], {**settings, **dict.fromkeys(variables.values(), revoked_key)}
    )
    missing = claude.run("list-no-key-variables", ["mcp", "list"], settings)
    return ClaudeReport(
        names=names,
        printed=printed,
        added=added,
        stored=claude.stored_servers(),
        listed=listed,
        got=got,
        revoked=revoked,
        missing=missing,
        key_variables=variables,
        logs=claude.home / ".cache",
    )
