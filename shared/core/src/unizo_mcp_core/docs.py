"""Documentation generated from the declarations: README tables and the `mcpServers` entry.

Imports only the standard library, attrs and the fast core modules, so `--print-config` and
README generation never load the MCP SDK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ExitCode
from .registry import ALL_IN_ONE_PACKAGE, server_name
from .settings import SETTINGS
from .spec import ServiceSpec

__all__ = [
    "ALL_IN_ONE_PACKAGE",
    "EXIT_CODE_MEANINGS",
    "config_entry",
    "exit_codes_table",
    "server_name",
    "settings_table",
    "tools_table",
]


EXIT_CODE_MEANINGS: Mapping[ExitCode, str] = {
    ExitCode.OK: "success (server stopped normally, key valid, every check passed)",
    ExitCode.INTERNAL: "unexpected internal error (details in the log on stderr)",
    ExitCode.CONFIG: (
        "configuration error (missing key, http:// URL, invalid value, unknown service, refused bind)"
    ),
    ExitCode.AUTH: "the API key is invalid, expired, revoked or of another environment (HTTP 401)",
    ExitCode.FORBIDDEN: (
        "the key lacks permission on this service, or the service, IP or quota is refused (HTTP 403)"
    ),
    ExitCode.NETWORK: "the API cannot be reached: DNS, TCP, proxy, TLS or timeout",
    ExitCode.API: "the API answered with another error (4xx/5xx, unreadable response)",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def tools_table(service: ServiceSpec) -> str:
    """Markdown table of every tool of `service`: name, permission, behaviour, description."""
    rows = []
    for tool in service.all_tools():
        notes = tool.annotations
        kind = "read-only" if notes.read_only else ("destructive" if notes.destructive else "writes")
        rows.append((f"`{tool.name}`", f"`{service.name}:{tool.permission.value}`", kind, tool.description))
    return _table(("tool", "permission", "behaviour", "description"), rows)


def settings_table() -> str:
    """Markdown table of every setting: variable, flag, default, meaning (from `settings.SETTINGS`)."""
    rows = []
    for setting in SETTINGS:
        variable = ", ".join(f"`{v.strip()}`" for v in setting.env.split(","))
        flag = f"`{setting.flag}`" if setting.flag else ""
        default = f"`{setting.default}`" if setting.default is not None else ""
        rows.append((variable, flag, default, setting.meaning))
    return _table(("variable", "flag", "default", "meaning"), rows)


def exit_codes_table() -> str:
    """Markdown table of the exit codes shared by every server."""
    rows = [(str(int(code)), f"`{code.name}`", EXIT_CODE_MEANINGS[code]) for code in ExitCode]
    return _table(("code", "name", "meaning"), rows)


def exit_codes_text() -> str:
    """Plain-text exit code list for `--help`."""
    return "\n".join(f"  {int(code)}  {EXIT_CODE_MEANINGS[code]}" for code in ExitCode)


def config_entry(
    service: ServiceSpec | None,
    *,
    command: str | None = None,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The `mcpServers` JSON entry that runs this server, never with a literal key.

    A service's server maps `UNIZO_API_KEY` from `${UNIZO_<SERVICE>_API_KEY}`, a placeholder of another
    variable, so in a client that passes its environment but expands nothing the literal cannot stand in
    for a real key of the same name (the server reads UNIZO_<SERVICE>_API_KEY first, and refuses an
    unexpanded placeholder with a clear message). The all-in-one server's entry sets no key variable for
    the same reason: it reads UNIZO_API_KEY and UNIZO_<SERVICE>_API_KEY from the client's environment.
    With `UNIZO_API_KEY_FILE` in `env`, the file is the key. `env` adds further (non-secret) variables;
    a key passed in it is dropped.
    """
    variables: dict[str, str] = {}
    extra = dict(env or {})
    if service is not None and not extra.get("UNIZO_API_KEY_FILE"):
        variables["UNIZO_API_KEY"] = "${" + service.key_variable + "}"
    for name in sorted(extra):
        if name == "UNIZO_API_KEY" or (name.endswith("_API_KEY") and name.startswith("UNIZO_")):
            continue  # never a literal key: the placeholder stands for it
        variables[name] = extra[name]
    return {
        "mcpServers": {
            server_name(service): {
                "command": command or (service.package if service is not None else ALL_IN_ONE_PACKAGE),
                "args": list(args),
                "env": variables,
            }
        }
    }
