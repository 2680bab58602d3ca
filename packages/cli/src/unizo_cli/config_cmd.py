"""`unizo config install` (one server entry merged into a client's configuration) and `unizo config check`
(an audit of the Unizo entries of every client configuration found)."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unizo_mcp_core.errors import ConfigError, ExitCode

from . import api, files
from .clients import (
    CLIENTS,
    McpClient,
    guess_client,
    placeholder_variable,
    placeholders,
    read_config,
    server_entries,
)
from .session import Context

KEY_VARIABLE = re.compile(r"UNIZO_(?:[A-Z0-9_]+_)?API_KEY")
KEY_FILE_VARIABLE = re.compile(r"UNIZO_(?:[A-Z0-9_]+_)?API_KEY_FILE")
_PACKAGE = re.compile(r"unizo[-_]mcp[-_]([a-z0-9_-]+)", re.IGNORECASE)


def home_of(environ: Mapping[str, str]) -> Path:
    """The user's home: HOME (USERPROFILE on Windows), as the clients themselves find it."""
    raw = environ.get("HOME") or environ.get("USERPROFILE")
    return Path(raw) if raw else Path.home()


def shown(path: Path, home: Path) -> str:
    try:
        return "~/" + str(path.relative_to(home))
    except ValueError:
        return str(path)


def _absolute(raw: str) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


# --- install ------------------------------------------------------------------------------------------------


def default_key_file(home: Path, server: str) -> Path:
    return home / ".config" / "unizo" / "keys" / f"{server}.key"


def install(ctx: Context, args: argparse.Namespace) -> int:
    from unizo_mcp_core.cli import command_path, print_config_env
    from unizo_mcp_core.docs import config_entry
    from unizo_mcp_core.registry import discover_services, package_name, server_name
    from unizo_mcp_core.settings import load_settings

    client = CLIENTS[args.client]
    installed = discover_services()
    spec = installed.get(args.service)
    if spec is None:
        names = ", ".join(sorted(installed)) or "none"
        raise ConfigError(
            f"--service {args.service}: no such service is installed here (installed: {names}); "
            f"pip install {package_name(args.service)} first"
        )
    command = command_path(spec.package)
    if command is None:
        raise ConfigError(f"The console script {spec.package} was not found next to this Python or on PATH")
    home = home_of(ctx.environ)
    path = _absolute(args.config) if args.config else client.user_config(home, ctx.environ)
    config = read_config(path, client)
    if config.jsonc and not args.force:
        raise ConfigError(
            f"{path} holds comments (JSONC): rewriting it would drop them; pass --force to rewrite it anyway "
            "(a backup is kept), or add the entry by hand (unizo-mcp-<service> --print-config prints it)"
        )
    entries = config.data.get(client.root, {})
    if not isinstance(entries, dict):
        raise ConfigError(
            f"{path}: {client.root} is a JSON {type(entries).__name__}, not an object of servers"
        )

    settings = load_settings(spec.name, dict(ctx.environ), ctx.overrides, require_key=False)
    env = print_config_env(settings, spec)
    env.pop("UNIZO_API_KEY_FILE", None)  # never the key of the shell unizo runs in (it may be an admin key)
    key_file = _absolute(args.key_file) if args.key_file else None
    name = server_name(spec)
    if key_file is None and client.syntax is None:
        key_file = default_key_file(home, name)
    if key_file is not None:
        env["UNIZO_API_KEY_FILE"] = str(key_file)
    entry: dict[str, Any] = dict(
        config_entry(spec, command=command, args=["--read-only"] if args.read_only else [], env=env)[
            "mcpServers"
        ][name]
    )
    if key_file is None:
        placeholder = client.placeholder(spec.key_variable)
        assert placeholder is not None
        entry["env"] = {**entry["env"], "UNIZO_API_KEY": placeholder}
    if client.typed:
        entry = {"type": "stdio", **entry}

    action = "replaced" if name in entries else "added"
    entries[name] = entry
    config.data[client.root] = entries
    backup = files.backup(path) if config.existed else None
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if key_file is not None and not key_file.parent.exists():  # ready for `api-keys create --output-file`
        key_file.parent.mkdir(parents=True, mode=0o700)
    files.write_private(path, (json.dumps(config.data, indent=2, ensure_ascii=False) + "\n").encode())

    if key_file is not None:
        key_text = f"UNIZO_API_KEY_FILE={key_file}"
        if client.syntax is None:
            key_text += f" ({client.title} expands no placeholders)"
    else:
        where = f"set {spec.key_variable} where {client.title} runs"
        key_text = f"UNIZO_API_KEY={entry['env']['UNIZO_API_KEY']} ({where})"
    console = ctx.console
    if console.json_mode:
        console.json(
            {
                "client": client.name,
                "config": str(path),
                "entry": name,
                "action": action,
                "backup": str(backup) if backup else None,
                "value": entry,
            }
        )
    else:
        console.fields(
            [
                ("client", client.title),
                ("config", f"{path} (mode 600)"),
                ("entry", f"{name} ({action}; other entries kept)"),
                ("command", command),
                ("key", key_text),
                ("backup", str(backup) if backup else "none (new file)"),
            ]
        )
    if key_file is not None:
        mode = files.mode_of(key_file)
        if mode is None:
            console.note(
                f"note: {key_file} does not exist yet; write a key for {spec.name} there, e.g.: unizo "
                f"api-keys create --name MCP-{spec.name}-$(date +%Y%m%d) --permissions {spec.name}:read "
                f"--output-file {key_file}"
            )
        elif mode & 0o077:
            console.note(f"warning: {key_file} can be read by others (mode {mode:04o}): chmod 600 {key_file}")
    console.note(f"note: restart {client.title} to load the entry.")
    return int(ExitCode.OK)


# --- check --------------------------------------------------------------------------------------------------


@dataclass
class Finding:
    path: Path
    entry: str
    check: str
    message: str
    fix: str
    chmod: Path | None = None  # --fix makes this file mode 600
    fixed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "entry": self.entry,
            "check": self.check,
            "message": self.message,
            "fix": self.fix,
            "fixable": self.chmod is not None,
            "fixed": self.fixed,
        }


@dataclass
class Audit:
    path: Path
    client: McpClient | None
    mode: int | None = None
    entries: list[str] = field(default_factory=list)
    error: str | None = None
    findings: list[Finding] = field(default_factory=list)
    # (identity of the key, service, entry) per Unizo entry, for the shared-key check
    keys: list[tuple[str, str, str, str]] = field(default_factory=list)


def entry_service(entry: Mapping[str, Any]) -> str | None:
    """The service an entry runs (`unizo-mcp-<service>` or `-m unizo_mcp_<service>`), None for the
    all-in-one server or when it cannot tell."""
    words = [str(entry.get("command") or ""), *(str(a) for a in entry.get("args") or [])]
    for word in words:
        match = _PACKAGE.search(Path(word).name.removesuffix(".exe").removesuffix(".cmd"))
        if match:
            name = match[1].replace("-", "_").lower()
            return None if name == "server" else name
    return None


def is_unizo(name: str, entry: Any) -> bool:
    if not isinstance(entry, Mapping):
        return False
    words = [name, str(entry.get("command") or ""), *(str(a) for a in entry.get("args") or [])]
    env = _env(entry)
    return any(_PACKAGE.search(word) for word in words) or any(str(k).startswith("UNIZO_") for k in env)


def _env(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    env = entry.get("env")
    return env if isinstance(env, Mapping) else {}


def _fingerprint(key: str) -> str:
    from unizo_mcp_core.keys import fingerprint

    return fingerprint(key)


def _strings(entry: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """(where, text) of every string an entry passes: command, args, env values."""
    if isinstance(entry.get("command"), str):
        yield "command", entry["command"]
    for index, arg in enumerate(entry.get("args") or []):
        if isinstance(arg, str):
            yield f"args[{index}]", arg
    env = entry.get("env")
    if isinstance(env, Mapping):
        for variable, value in env.items():
            if isinstance(value, str):
                yield f"env.{variable}", value


def _flag_value(args: list[Any], flag: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == flag and index + 1 < len(args):
            return str(args[index + 1])
        if isinstance(arg, str) and arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


def audit_entry(audit: Audit, where: str, name: str, entry: Mapping[str, Any], home: Path) -> None:
    client = audit.client
    label = name if where in ("mcpServers", "servers") else f"{where}.{name}"
    service = entry_service(entry) or ""
    env = _env(entry)
    args = list(entry.get("args") or [])

    def add(check: str, message: str, fix: str, chmod: Path | None = None) -> None:
        audit.findings.append(Finding(audit.path, label, check, message, fix, chmod))

    key_environment: str | None = None
    for variable, value in env.items():
        if not isinstance(value, str):
            continue
        if KEY_FILE_VARIABLE.fullmatch(variable):
            if any(True for _ in placeholders(value, client)):
                audit.keys.append(
                    (f"variable {placeholder_variable(value) or value}", service, label, variable)
                )
                continue
            key_path = Path(value).expanduser()
            mode = files.mode_of(key_path)
            if mode is None:
                add(
                    "key-file",
                    f"{variable} names {key_path}, which does not exist",
                    f"write the key into {key_path}",
                )
                continue
            if mode & 0o077:
                add(
                    "key-file-mode",
                    f"the key file {key_path} can be read by others (mode {mode:04o})",
                    f"chmod 600 {key_path} (or --fix)",
                    key_path,
                )
            try:
                key = files.snapshot(key_path).data or b""
                text = key.decode("utf-8-sig").strip()
            except (OSError, UnicodeDecodeError, ConfigError) as exc:
                add(
                    "key-file",
                    f"the key file {key_path} cannot be read ({exc})",
                    "make it a readable file of one key",
                )
                continue
            if text:
                audit.keys.append((f"key {_fingerprint(text)}", service, label, variable))
                key_environment = api.key_environment(text) or key_environment
        elif KEY_VARIABLE.fullmatch(variable):
            if any(True for _ in placeholders(value, client)):  # the client (or nothing) fills it in
                named = placeholder_variable(value)
                audit.keys.append((f"variable {named}" if named else value.strip(), service, label, variable))
            elif value.strip():
                fingerprint = _fingerprint(value.strip())
                audit.keys.append((f"key {fingerprint}", service, label, variable))
                key_environment = api.key_environment(value) or key_environment
                if client is not None and client.syntax is None:
                    fix = "put the key in a file of mode 600 and set UNIZO_API_KEY_FILE to its path instead"
                else:
                    placeholder = client.placeholder(variable) if client else "a placeholder"
                    fix = (
                        f"use {placeholder} (set {variable} where the client runs), or UNIZO_API_KEY_FILE "
                        "naming a file of mode 600"
                    )
                add("literal-key", f"{variable} holds a literal key {fingerprint}", fix)
    for where_text, text in _strings(entry):
        if where_text.startswith("env.") and KEY_VARIABLE.fullmatch(where_text[4:]):
            continue
        for found in api.KEY_FORMAT.finditer(text):
            add(
                "literal-key",
                f"{where_text} holds a literal key {_fingerprint(found[0])}",
                "remove it; use a key file",
            )
    base_url = env.get("UNIZO_BASE_URL") or _flag_value(args, "--base-url")
    if isinstance(base_url, str) and base_url.strip().lower().startswith("http://"):
        add(
            "http-url",
            f"UNIZO_BASE_URL is {base_url.strip()}: plain http; the server refuses it (the key would travel "
            "unencrypted)",
            "use the https:// URL of the API",
        )
    entry_environment = str(
        env.get("UNIZO_ENVIRONMENT") or _flag_value(args, "--environment") or "production"
    )
    if key_environment and key_environment != entry_environment.strip().lower():
        add(
            "environment",
            f"a {key_environment} key in an entry for {entry_environment} (UNIZO_ENVIRONMENT)",
            f"use a {entry_environment} key here (keys are environment-specific)",
        )
    if client is not None:
        for where_text, text in _strings(entry):
            for written, kind in placeholders(text, client):
                if kind in client.expands:
                    continue
                if client.syntax is None:
                    remedy = f"{client.title} expands none: set UNIZO_API_KEY_FILE to a key file instead"
                else:
                    named = placeholder_variable(written)
                    better = client.placeholder(named) if named else None
                    remedy = f"write {better}" if better else f"use {client.title}'s {client.syntax % 'VAR'}"
                add(
                    "placeholder",
                    f"{client.title} does not expand {written} in {where_text}: the server gets it as text",
                    remedy,
                )


def audit_file(path: Path, client: McpClient | None, home: Path) -> Audit:
    audit = Audit(path, client)
    try:
        config = read_config(path, client)
    except ConfigError as exc:
        audit.error = exc.message
        return audit
    if audit.client is None:
        audit.client = guess_client(path, config.data)
    audit.mode = files.mode_of(path)
    for where, name, entry in server_entries(config.data):
        if not is_unizo(name, entry):
            continue
        audit.entries.append(name)
        audit_entry(audit, where, name, entry, home)
    if audit.entries and audit.mode is not None and audit.mode & 0o077:
        audit.findings.insert(
            0,
            Finding(
                path,
                "(file)",
                "file-mode",
                f"mode {audit.mode:04o}: other users can read this file and the keys or key paths in it",
                f"chmod 600 {path} (or --fix)",
                path,
            ),
        )
    return audit


def shared_keys(audits: list[Audit]) -> list[Finding]:
    """One finding per key that entries of several services use."""
    users: dict[str, list[tuple[Audit, str, str, str]]] = {}
    for audit in audits:
        for holder, service, label, variable in audit.keys:
            users.setdefault(holder, []).append((audit, service, label, variable))
    findings = []
    for holder, using in users.items():
        services = sorted({service for _, service, _, _ in using if service})
        if len(services) < 2:
            continue
        audit = using[0][0]
        names = ", ".join(sorted({label for _, _, label, _ in using}))
        example = services[0]
        findings.append(
            Finding(
                audit.path,
                names,
                "shared-key",
                f"one {holder} serves {', '.join(services)}: a leak exposes every one of them",
                f"give each service its own key with only its permissions, e.g. unizo api-keys create --name "
                f"MCP-{example} --permissions {example}:read --output-file <file>",
            )
        )
    return findings


def candidates(environ: Mapping[str, str]) -> list[tuple[Path, McpClient]]:
    home = home_of(environ)
    found: list[tuple[Path, McpClient]] = []
    for client in CLIENTS.values():
        for path in (client.user_config(home, environ), client.project_config(Path.cwd())):
            if path is not None and path.is_file() and all(path != known for known, _ in found):
                found.append((path, client))
    return found


def check(ctx: Context, args: argparse.Namespace) -> int:
    home = home_of(ctx.environ)
    if args.config:
        path = _absolute(args.config)
        if not path.exists():
            raise ConfigError(f"--config {path} does not exist")
        targets: list[tuple[Path, McpClient | None]] = [(path, CLIENTS[args.client] if args.client else None)]
    else:
        targets = [(path, client) for path, client in candidates(ctx.environ)]
    audits = [audit_file(path, client, home) for path, client in targets]
    findings = [f for audit in audits for f in audit.findings] + shared_keys(audits)
    if args.fix:
        for finding in findings:
            if finding.chmod is not None:
                try:
                    files.secure_mode(finding.chmod)
                    finding.fixed = True
                except OSError as exc:
                    finding.fix += f" (--fix failed: {exc.strerror or exc})"
    open_findings = [f for f in findings if not f.fixed]
    errors = [a for a in audits if a.error]
    console = ctx.console
    if console.json_mode:
        console.json(
            {
                "files": [
                    {
                        "path": str(a.path),
                        "client": a.client.name if a.client else None,
                        "mode": f"{a.mode:04o}" if a.mode is not None else None,
                        "unizoEntries": a.entries,
                        "error": a.error,
                    }
                    for a in audits
                ],
                "findings": [f.as_json() for f in findings],
                "ok": not open_findings and not errors,
            }
        )
    else:
        if not audits:
            looked = ", ".join(shown(c.user_config(home, ctx.environ), home) for c in CLIENTS.values())
            console.out(
                f"No MCP client configuration found (looked at {looked} and this folder's project files)."
            )
        for audit in audits:
            client = audit.client.title if audit.client else "unknown client"
            if audit.error:
                state = f"ERROR: {audit.error}"
            elif audit.entries:
                count = len(audit.entries)
                state = f"{count} Unizo entr{'y' if count == 1 else 'ies'} ({', '.join(audit.entries)})"
            else:
                state = "no Unizo entries"
            console.out(f"{shown(audit.path, home)} [{client}]: {state}")
            for finding in (f for f in findings if f.path == audit.path):
                console.out(f"  - {finding.entry}: {finding.message}")
                console.out(f"      {'fixed: now mode 600' if finding.fixed else 'fix: ' + finding.fix}")
        console.out()
        fixed = len(findings) - len(open_findings)
        summary = f"{len(open_findings)} problem(s)" + (f", {fixed} fixed" if fixed else "")
        if errors:
            summary += f", {len(errors)} file(s) unreadable or not JSON"
        console.out(summary if open_findings or errors or fixed else "No problems found.")
        fixable = [f for f in open_findings if f.chmod is not None]
        if fixable and not args.fix:
            console.note("note: unizo config check --fix makes the flagged files mode 600.")
    return int(ExitCode.CONFIG) if open_findings or errors else int(ExitCode.OK)
