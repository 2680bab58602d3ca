"""The MCP clients `unizo config` knows: where each keeps its configuration, its shape, and which placeholders
it expands (from the clients' documentation, as collected in the repo's reference notes; each changes fast).

- Claude Desktop: `claude_desktop_config.json` in `~/Library/Application Support/Claude` (macOS),
  `%APPDATA%\\Claude` (Windows), `$XDG_CONFIG_HOME/Claude` or `~/.config/Claude` (Linux builds); root
  `mcpServers`; expands no placeholder.
- Claude Code: `~/.claude.json` (project: `.mcp.json`); root `mcpServers`, entries `"type": "stdio"`;
  expands `${VAR}` and `${VAR:-default}`.
- Cursor: `~/.cursor/mcp.json` (project: `.cursor/mcp.json`); root `mcpServers`; expands `${env:VAR}`,
  `${userHome}`, `${workspaceFolder}`.
- VS Code: the user profile's `mcp.json` (`~/Library/Application Support/Code/User`, `%APPDATA%\\Code\\User`,
  `~/.config/Code/User`; project: `.vscode/mcp.json`); root `servers`, entries `"type": "stdio"`; expands
  `${env:VAR}`, `${input:id}` and its predefined variables.
- Windsurf: `~/.codeium/windsurf/mcp_config.json`; root `mcpServers`; expands `${env:VAR}`, `${file:/path}`.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unizo_mcp_core.errors import ConfigError

# Placeholder kinds: "bare" ${VAR} / ${VAR:-x}, "env" ${env:VAR}, "input" ${input:id}, "file" ${file:/p},
# "predefined" ${userHome}, ${workspaceFolder} ... (VS Code's and Cursor's own), "dollar" $VAR.
PREDEFINED = frozenset(
    {"userHome", "workspaceFolder", "workspaceFolderBasename", "pathSeparator", "/", "cwd", "execPath"}
)
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class McpClient:
    name: str
    title: str
    root: str  # the key holding the server entries
    syntax: str | None  # how it spells "the value of variable %s", None when it expands nothing
    typed: bool  # entries carry "type": "stdio"
    expands: frozenset[str]
    jsonc: bool = False  # its files may hold comments and trailing commas

    def placeholder(self, variable: str) -> str | None:
        return self.syntax % variable if self.syntax else None

    def user_config(self, home: Path, environ: Mapping[str, str], platform: str = sys.platform) -> Path:
        return _user_config(self.name, home, environ, platform)

    def project_config(self, folder: Path) -> Path | None:
        relative = _PROJECT_CONFIGS.get(self.name)
        return folder / relative if relative else None


def _app_data(home: Path, environ: Mapping[str, str], platform: str) -> Path:
    """The per-user application folder: Application Support, %APPDATA%, or $XDG_CONFIG_HOME (~/.config)."""
    if platform == "darwin":
        return home / "Library" / "Application Support"
    if platform.startswith("win"):
        return Path(environ["APPDATA"]) if environ.get("APPDATA") else home / "AppData" / "Roaming"
    return Path(environ["XDG_CONFIG_HOME"]) if environ.get("XDG_CONFIG_HOME") else home / ".config"


def _user_config(client: str, home: Path, environ: Mapping[str, str], platform: str) -> Path:
    if client == "claude-desktop":
        return _app_data(home, environ, platform) / "Claude" / "claude_desktop_config.json"
    if client == "claude-code":
        return home / ".claude.json"
    if client == "cursor":
        return home / ".cursor" / "mcp.json"
    if client == "vscode":
        return _app_data(home, environ, platform) / "Code" / "User" / "mcp.json"
    if client == "windsurf":
        return home / ".codeium" / "windsurf" / "mcp_config.json"
    raise ValueError(f"unknown client {client!r}")


_PROJECT_CONFIGS = {
    "claude-code": Path(".mcp.json"),
    "cursor": Path(".cursor") / "mcp.json",
    "vscode": Path(".vscode") / "mcp.json",
}

CLIENTS: dict[str, McpClient] = {
    client.name: client
    for client in (
        McpClient("claude-desktop", "Claude Desktop", "mcpServers", None, False, frozenset()),
        McpClient("claude-code", "Claude Code", "mcpServers", "${%s}", True, frozenset({"bare"})),
        McpClient(
            "cursor", "Cursor", "mcpServers", "${env:%s}", False, frozenset({"env", "predefined"}), jsonc=True
        ),
        McpClient(
            "vscode",
            "VS Code",
            "servers",
            "${env:%s}",
            True,
            frozenset({"env", "input", "predefined"}),
            jsonc=True,
        ),
        McpClient("windsurf", "Windsurf", "mcpServers", "${env:%s}", False, frozenset({"env", "file"})),
    )
}


def guess_client(path: Path, data: Mapping[str, Any] | None = None) -> McpClient | None:
    """Which client a configuration file belongs to, from its name and place (and root key)."""
    name, parent = path.name, path.parent.name
    if name == "claude_desktop_config.json":
        return CLIENTS["claude-desktop"]
    if name in (".claude.json", ".mcp.json"):
        return CLIENTS["claude-code"]
    if name == "mcp_config.json" and parent == "windsurf":
        return CLIENTS["windsurf"]
    if name == "mcp.json" and parent == ".cursor":
        return CLIENTS["cursor"]
    if name == "mcp.json" and (
        parent == ".vscode" or (parent == "User" and path.parent.parent.name == "Code")
    ):
        return CLIENTS["vscode"]
    if data is not None and "servers" in data and "mcpServers" not in data:
        return CLIENTS["vscode"]
    return None


def placeholders(text: str, client: McpClient | None) -> Iterator[tuple[str, str]]:
    """(placeholder as written, its kind) for each placeholder in `text`."""
    for match in _PLACEHOLDER.finditer(text):
        if match[2] is not None:
            yield match[0], "dollar"
            continue
        inner = match[1].strip()
        prefix, colon, _ = inner.partition(":")
        if colon and prefix in ("env", "input", "file"):
            yield match[0], prefix
        elif inner in PREDEFINED and (client is None or "predefined" in client.expands):
            yield match[0], "predefined"
        else:
            yield match[0], "bare"


def placeholder_variable(text: str) -> str | None:
    """The variable a value that is one placeholder names: ${VAR}, ${env:VAR}, ${VAR:-x}, $VAR."""
    match = _PLACEHOLDER.fullmatch(text.strip())
    if match is None:
        return None
    if match[2] is not None:
        return match[2]
    inner = match[1].strip()
    if inner.startswith("env:"):
        inner = inner[4:]
    variable = inner.split(":-", 1)[0].strip()
    return variable if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable) else None


def strip_jsonc(text: str) -> tuple[str, bool]:
    """JSON with comments and trailing commas (VS Code's files) -> (plain JSON, whether anything went)."""
    out: list[str] = []
    i, n, changed = 0, len(text), False
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
            continue
        if ch == '"':
            in_string = True
            out.append(ch)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            changed = True
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            changed = True
        elif ch == ",":
            j = i + 1
            while j < n and text[j] in " \t\r\n":
                j += 1
            if j < n and text[j] in "}]":
                changed = True
            else:
                out.append(ch)
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), changed


@dataclass
class ConfigFile:
    path: Path
    data: dict[str, Any]
    jsonc: bool  # comments or trailing commas were there (a rewrite loses the comments)
    existed: bool


def read_config(path: Path, client: McpClient | None) -> ConfigFile:
    """The file's JSON object; ConfigError when it cannot be read or is not a JSON object."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ConfigFile(path, {}, False, False)
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text, so not a JSON configuration") from None
    if not text.strip():
        return ConfigFile(path, {}, False, True)
    jsonc = False
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        stripped, changed = strip_jsonc(text)
        data = None
        if changed and (client is None or client.jsonc):
            try:
                data, jsonc = json.loads(stripped), True
            except json.JSONDecodeError:
                data = None
        if data is None:
            raise ConfigError(
                f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                "fix it, or move it aside, before unizo changes it"
            ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} holds a JSON {type(data).__name__}, not an object: not an MCP configuration"
        )
    return ConfigFile(path, data, jsonc, True)


def server_entries(data: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(where, name, entry) for every server entry: `mcpServers`, `servers`, and Claude Code's per-project
    `projects[<path>].mcpServers`."""
    for root in ("mcpServers", "servers"):
        entries = data.get(root)
        if isinstance(entries, Mapping):
            for name, entry in entries.items():
                yield root, str(name), entry
    projects = data.get("projects")
    if isinstance(projects, Mapping):
        for folder, project in projects.items():
            entries = project.get("mcpServers") if isinstance(project, Mapping) else None
            if isinstance(entries, Mapping):
                for name, entry in entries.items():
                    yield f"projects[{folder}].mcpServers", str(name), entry
