"""Run the external MCP clients (MCP Inspector CLI, official conformance suite) through npx.

Everything version-specific lives at the top of this module. Both tools need Node >= 22; machines with an
older Node get one from npm as a package (`npx -p node@22 ...`), which works on Node 20 too.

Every run goes through `run_npx`: a hard timeout, captured stdout/stderr/exit code, a private HOME for
the tool (so nothing is written to the real one and everything it writes can be scanned), and redaction
of the secrets the caller names: argv, stdout and stderr are stored redacted, and the run records which
secrets appeared in the raw output so a test can fail on a leak.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# --- pinned versions (the one place to change them) -----------------------------------------------
NODE_SPEC = "node@22"  # a Node 22 runtime from npm; both tools declare engines >= 22
INSPECTOR_VERSION = "2.12.0"
CONFORMANCE_VERSION = "0.1.16"
INSPECTOR_PACKAGE = f"@modelcontextprotocol/inspector@{INSPECTOR_VERSION}"
CONFORMANCE_PACKAGE = f"@modelcontextprotocol/conformance@{CONFORMANCE_VERSION}"
INSPECTOR_BIN = "mcp-inspector"
CONFORMANCE_BIN = "conformance"

# --- Inspector CLI exit codes (stable, documented by the Inspector) ---------------------------------
INSPECTOR_OK = 0
INSPECTOR_USAGE = 1
INSPECTOR_AUTH_REQUIRED = 3
INSPECTOR_UNREACHABLE = 4
INSPECTOR_TOOL_ERROR = 5  # the tool answered isError:true, or the tool does not exist
INSPECTOR_STRICT_SCHEMA = 6  # --strict found an error-severity tool-schema portability problem

# Timeouts (seconds). A cold npm cache downloads Node 22 and the tool once (see `warm_up`).
WARM_UP_TIMEOUT = 600.0
INSPECTOR_TIMEOUT = 120.0
CONFORMANCE_TIMEOUT = 420.0

REDACTED = "<redacted>"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NPM_NOISE = re.compile(r"^npm (warn|notice|WARN|info)\b")
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)


class ToolUnavailable(RuntimeError):
    """npx is missing, or the pinned packages could not be fetched."""


# --- redaction ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redactor:
    """Replaces every occurrence of the given secret values by `<redacted>`."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str], *extra: str) -> Redactor:
        """Secrets are the values of variables whose name says key/token/secret/password, plus `extra`."""
        values = [v for k, v in env.items() if _SECRET_NAME.search(k) and len(v) >= 6]
        return cls(tuple(sorted({*values, *(e for e in extra if e)}, key=len, reverse=True)))

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def found_in(self, *texts: str) -> list[int]:
        """Indexes (never values) of the secrets that occur in any of `texts`."""
        return [i for i, s in enumerate(self.secrets) if any(s in t for t in texts)]


# --- one run -------------------------------------------------------------------------------------------


@dataclass
class ToolRun:
    """The outcome of one external tool run; argv/stdout/stderr are already redacted."""

    label: str
    argv: list[str]
    returncode: int | None  # None: killed after the timeout
    stdout: str
    stderr: str
    duration: float
    leaked: list[int] = field(default_factory=list)  # indexes of secrets seen unredacted in the raw output

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    @property
    def stderr_without_npm_noise(self) -> str:
        return "\n".join(line for line in self.stderr.splitlines() if not _NPM_NOISE.match(line)).strip()

    def json(self) -> Any:
        """stdout parsed as JSON (the Inspector's `--format json` prints exactly one object)."""
        text = self.stdout.strip()
        if not text:
            raise AssertionError(f"{self.label}: no JSON on stdout\n{self.describe()}")
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"{self.label}: stdout is not JSON ({exc})\n{self.describe()}") from None

    def stderr_json(self) -> Any | None:
        """The last stderr line that parses as a JSON object (the Inspector's error envelope), if any."""
        for line in reversed(self.stderr.splitlines()):
            line = line.strip()
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except json.JSONDecodeError:
                    continue
        return None

    def describe(self, limit: int = 4000) -> str:
        """A failure message: the redacted command, the exit code and the tails of both streams."""
        rc = "timed out" if self.timed_out else f"exit code {self.returncode}"
        return (
            f"$ {' '.join(self.argv)}\n-> {rc} after {self.duration:.1f}s\n"
            f"--- stdout (tail) ---\n{self.stdout[-limit:]}\n"
            f"--- stderr without npm warnings (tail) ---\n{self.stderr_without_npm_noise[-limit:]}"
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "label": self.label,
            "argv": self.argv,
            "returncode": self.returncode,
            "duration": round(self.duration, 3),
            "stdout": self.stdout,
            "stderr": self.stderr,
        }
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def run_command(
    label: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float,
    redactor: Redactor,
    cwd: Path | None = None,
) -> ToolRun:
    """Run one external program to completion: captured output, a hard timeout, secrets redacted."""
    started = time.monotonic()
    # Own process group, so a timeout kills the tool and every MCP server it spawned.
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        returncode: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        stdout, stderr = proc.communicate()
        returncode = None
    duration = time.monotonic() - started
    stdout, stderr = _ANSI.sub("", stdout), _ANSI.sub("", stderr)
    return ToolRun(
        label=label,
        argv=[redactor(a) for a in argv],
        returncode=returncode,
        stdout=redactor(stdout),
        stderr=redactor(stderr),
        duration=duration,
        leaked=redactor.found_in(stdout, stderr),
    )


@dataclass
class Npx:
    """How to call npx here: the binary, the npm cache to reuse and a private HOME for the tools."""

    npx: str
    npm_cache: str
    home: Path
    redactor: Redactor = field(default_factory=Redactor)

    @classmethod
    def discover(cls, home: Path) -> Npx:
        npx = shutil.which("npx")
        if npx is None:
            raise ToolUnavailable(
                "npx is not on PATH: install Node.js (>= 18; the tools fetch Node 22 themselves)"
            )
        cache = next((v for k, v in os.environ.items() if k.upper() == "NPM_CONFIG_CACHE" and v), None)
        if not cache:
            npm = shutil.which("npm")
            out = subprocess.run(
                [npm or "npm", "config", "get", "cache"], capture_output=True, text=True, timeout=60
            )
            cache = out.stdout.strip() or str(Path.home() / ".npm")
        home.mkdir(parents=True, exist_ok=True)
        return cls(npx=npx, npm_cache=cache, home=home)

    def env(self) -> dict[str, str]:
        """The environment of every npx run: quiet npm, the shared npm cache, a private HOME."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UNIZO_", "MCP_"))}
        loopback = "127.0.0.1,localhost,::1"
        no_proxy = ",".join(x for x in (env.get("NO_PROXY") or env.get("no_proxy"), loopback) if x)
        env.update(
            HOME=str(self.home),
            USERPROFILE=str(self.home),
            npm_config_cache=self.npm_cache,
            npm_config_prefer_offline="true",
            npm_config_update_notifier="false",
            npm_config_fund="false",
            npm_config_audit="false",
            npm_config_loglevel="error",
            NO_COLOR="1",
            FORCE_COLOR="0",
            NO_PROXY=no_proxy,
            no_proxy=no_proxy,
            # the Inspector's own state files, kept inside the private HOME
            MCP_STORAGE_DIR=str(self.home / "inspector-state"),
            MCP_CATALOG_PATH=str(self.home / "inspector-catalog.json"),
            MCP_CLIENT_CONFIG_PATH=str(self.home / "inspector-client.json"),
            MCP_INSPECTOR_OAUTH_STATE_PATH=str(self.home / "inspector-oauth.json"),
        )
        return env

    def command(self, packages: Sequence[str], binary: str, args: Sequence[str]) -> list[str]:
        argv = [self.npx, "-y"]
        for package in (NODE_SPEC, *packages):
            argv += ["-p", package]
        return [*argv, binary, *args]

    def run(
        self,
        label: str,
        packages: Sequence[str],
        binary: str,
        args: Sequence[str],
        *,
        timeout: float,
        redactor: Redactor | None = None,
        cwd: Path | None = None,
    ) -> ToolRun:
        argv = self.command(packages, binary, args)
        return run_command(
            label, argv, self.env(), timeout=timeout, redactor=redactor or self.redactor, cwd=cwd
        )

    def warm_up(self, *, inspector: bool = True, conformance: bool = True) -> None:
        """Fetch Node 22 and the pinned tools into the npm cache (a no-op when warm); raise if impossible."""
        wanted = [(INSPECTOR_PACKAGE, INSPECTOR_BIN)] if inspector else []
        wanted += [(CONFORMANCE_PACKAGE, CONFORMANCE_BIN)] if conformance else []
        for package, binary in wanted:
            run = self.run(f"warm-up {package}", [package], binary, ["--help"], timeout=WARM_UP_TIMEOUT)
            if run.returncode != 0:
                raise ToolUnavailable(f"cannot run {package} through npx:\n{run.describe()}")


# --- MCP Inspector CLI -----------------------------------------------------------------------------------


def inspector_args(
    target: Sequence[str],
    method: str,
    *,
    env: Mapping[str, str] | None = None,
    transport: str | None = None,
    headers: Mapping[str, str] | None = None,
    tool: str | None = None,
    arguments: Mapping[str, Any] | None = None,
    strict: bool = False,
    connect_timeout_ms: int = 30_000,
) -> list[str]:
    """Arguments for `mcp-inspector --cli`: `target` is a stdio command or `[url]`; `headers` are sent with
    every HTTP request (`--header "Name: value"`, the way the servers' bearer token reaches them)."""
    args = ["--cli", "--format", "json", "--stored-auth-only", "--connect-timeout", str(connect_timeout_ms)]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    if transport:
        args += ["--transport", transport]
    for name, value in (headers or {}).items():
        args += ["--header", f"{name}: {value}"]
    args += ["--method", method]
    if tool:
        args += ["--tool-name", tool]
    if arguments:
        args += ["--tool-args-json", json.dumps(dict(arguments))]
    if strict:
        args.append("--strict")
    # The target goes last, after "--", so its own flags are never taken for the Inspector's.
    return [*args, "--", *target]


def run_inspector(npx: Npx, label: str, target: Sequence[str], method: str, **kw: Any) -> ToolRun:
    redactor = kw.pop("redactor", None)
    return npx.run(
        label,
        [INSPECTOR_PACKAGE],
        INSPECTOR_BIN,
        inspector_args(target, method, **kw),
        timeout=INSPECTOR_TIMEOUT,
        redactor=redactor,
    )


def inspector_result(run: ToolRun) -> Any:
    """The `result` member of the Inspector's `--format json` output."""
    payload = run.json()
    if not isinstance(payload, dict) or "result" not in payload:
        raise AssertionError(f"{run.label}: expected {{'result': ...}} on stdout\n{run.describe()}")
    return payload["result"]


def tool_text(result: Mapping[str, Any]) -> str:
    """All text content of a tools/call result, joined."""
    parts = [c.get("text", "") for c in result.get("content") or [] if isinstance(c, dict)]
    return "\n".join(p for p in parts if isinstance(p, str))


# --- conformance suite ---------------------------------------------------------------------------------

_SCENARIO_DIR = re.compile(r"^server-(?P<scenario>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


@dataclass
class ConformanceReport:
    run: ToolRun
    output_dir: Path
    scenarios: dict[str, list[dict[str, Any]]]  # scenario -> its checks (from checks.json)

    def failing(self, scenario: str) -> list[dict[str, Any]]:
        """The checks of `scenario` that make it count as failed (FAILURE or WARNING, as the suite counts)."""
        return [c for c in self.scenarios.get(scenario, []) if c.get("status") in ("FAILURE", "WARNING")]

    def passed(self, scenario: str) -> bool:
        checks = self.scenarios.get(scenario, [])
        return bool(checks) and not self.failing(scenario)

    def section(self, title: str) -> list[str]:
        """Scenario names listed under one of the suite's baseline headings ("Unexpected failures", ...)."""
        names: list[str] = []
        inside = False
        for line in self.run.stdout.splitlines():
            if line.strip().startswith(title):
                inside = True
                continue
            if inside:
                match = re.match(r"^\s+[~✓✗]\s+(\S+)\s*$", line)
                if not match:
                    break
                names.append(match.group(1))
        return names


def run_conformance(npx: Npx, label: str, url: str, baseline: Path, output_dir: Path) -> ConformanceReport:
    output_dir.mkdir(parents=True, exist_ok=True)
    args = ["server", "--url", url, "--expected-failures", str(baseline), "--output-dir", str(output_dir)]
    # cwd = output_dir: the suite writes nothing else, but if it ever does, it lands there, not in the repo.
    run = npx.run(
        label, [CONFORMANCE_PACKAGE], CONFORMANCE_BIN, args, timeout=CONFORMANCE_TIMEOUT, cwd=output_dir
    )
    scenarios: dict[str, list[dict[str, Any]]] = {}
    for checks_file in sorted(output_dir.glob("server-*/checks.json")):
        match = _SCENARIO_DIR.match(checks_file.parent.name)
        name = match.group("scenario") if match else checks_file.parent.name
        try:
            checks = json.loads(checks_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            checks = [{"id": name, "status": "FAILURE", "errorMessage": f"unreadable {checks_file}"}]
        scenarios[name] = checks if isinstance(checks, list) else []
    return ConformanceReport(run=run, output_dir=output_dir, scenarios=scenarios)


# --- the baseline file -----------------------------------------------------------------------------------

_BASELINE_ENTRY = re.compile(r"^  - (?P<name>[a-z0-9][a-z0-9-]*)\s*(?:#\s*(?P<reason>.*\S))?\s*$")


@dataclass(frozen=True)
class BaselineEntry:
    scenario: str
    reason: str
    line: int


def parse_baseline(text: str) -> tuple[list[BaselineEntry], list[str]]:
    """Parse the deliberately tiny subset of YAML the baseline uses; returns (entries, problems).

    Format: a `server:` key, then one `  - scenario-name  # one-line reason` per line. Full-line comments and
    blank lines are allowed anywhere; anything else is a problem (so the file stays reviewable).
    """
    entries: list[BaselineEntry] = []
    problems: list[str] = []
    seen_server = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line.rstrip() == "server:":
            if seen_server:
                problems.append(f"line {number}: a second 'server:' key")
            seen_server = True
            continue
        match = _BASELINE_ENTRY.match(line)
        if not match or not seen_server:
            problems.append(f"line {number}: not '  - scenario  # reason' under 'server:': {line!r}")
            continue
        if not match.group("reason"):
            problems.append(f"line {number}: {match.group('name')} has no '# reason' comment")
        entries.append(BaselineEntry(match.group("name"), match.group("reason") or "", number))
    if not seen_server:
        problems.append("no 'server:' key")
    names = [e.scenario for e in entries]
    problems += [f"{n} is listed twice" for n in sorted({n for n in names if names.count(n) > 1})]
    return entries, problems


def scan_for_secrets(root: Path, redactor: Redactor) -> list[str]:
    """Files under `root` that contain any secret (paths only, never the secret)."""
    hits = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        text = data.decode("utf-8", errors="replace")
        if redactor.found_in(text):
            hits.append(str(path))
    return hits
