"""The `unizo` command line: the parser, and one place that turns every failure into its exit code.

Building the parser imports argparse and the core's fast modules (settings, errors, docs); a command loads the
client (aiohttp) only when it runs. Exit codes are the servers' (`unizo_mcp_core.errors.ExitCode`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from unizo_mcp_core.cliparser import CommandParser
from unizo_mcp_core.errors import INTERRUPTED, ConfigError, ExitCode, OutputClosed, UnizoError
from unizo_mcp_core.redaction import output_closed

from . import __version__
from .output import Console, error_json
from .session import Context

PROG = "unizo"
# The core's settings that apply to `unizo` too, as global options (before the command).
GLOBAL_SETTINGS = (
    "UNIZO_API_KEY_FILE",
    "UNIZO_BASE_URL",
    "UNIZO_ENVIRONMENT",
    "UNIZO_CA_BUNDLE",
    "UNIZO_TIMEOUT",
    "UNIZO_RETRY_ATTEMPTS",
    "UNIZO_LOG_LEVEL",
    "UNIZO_LOG_AUTH",
)
DESCRIPTION = """\
The operator's command line for Unizo: API keys, key rotation under running servers, usage, alerts, MCP client
configurations and a health check of every installed server.

The key: UNIZO_ADMIN_API_KEY, then UNIZO_ADMIN_API_KEY_FILE, UNIZO_API_KEY, UNIZO_API_KEY_FILE (or
--api-key-file): a key with the platform permission (read to list, write to create, rotate and revoke, delete
to delete alerts). Every call goes over HTTPS through the servers' own client (CA bundle, proxy, rate limits,
retries), and every line printed is scrubbed of keys.
"""
EXIT_NOTE = """\
exit codes (the servers'):
{codes}
  2 also: a bad value (permissions, condition, duration, id), a file unizo will not overwrite, a missing
    confirmation, a config that is not JSON, or problems found by config check
  130 interrupted
  141 the reader of its output left (`unizo ... | head`); nothing is wrong
"""


def _dest(env: str) -> str:
    """The attribute of a global setting's flag: UNIZO_BASE_URL -> setting_base_url."""
    return "setting_" + env.removeprefix("UNIZO_").lower()


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print JSON for scripts instead of a table",
    )


def _command(
    group: Any, name: str, handler: Any, help_text: str, epilog: str = "", *, json: bool = True
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = group.add_parser(
        name,
        help=help_text,
        description=help_text[0].upper() + help_text[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    if json:
        _json_flag(parser)
    return parser


def _lazy(module: str, function: str) -> Any:
    """The handler `module.function`, imported when the command runs (not to answer --help)."""

    def run(ctx: Context, args: argparse.Namespace) -> Any:
        from importlib import import_module

        return getattr(import_module(f"unizo_cli.{module}"), function)(ctx, args)

    run.__name__ = function
    return run


def build_parser() -> argparse.ArgumentParser:
    from unizo_mcp_core.docs import exit_codes_text
    from unizo_mcp_core.settings import SETTINGS

    from .clients import CLIENTS

    parser = CommandParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog=EXIT_NOTE.format(codes=exit_codes_text()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from unizo_mcp_core import __version__ as core_version

    parser.add_argument(
        "--version", action="version", version=f"unizo-cli {__version__} (unizo-mcp-core {core_version})"
    )
    _json_flag(parser)
    options = parser.add_argument_group(
        "settings (before the command; each overrides its environment variable)"
    )
    by_env = {s.env: s for s in SETTINGS}
    for env in GLOBAL_SETTINGS:
        setting = by_env[env]
        assert setting.flag is not None
        default = f"; default {setting.default}" if setting.default is not None else ""
        help_text = f"{setting.meaning} (env {setting.env}{default})".replace("%", "%%")
        dest = _dest(env)
        metavar = (setting.field or setting.flag[2:]).upper().replace("-", "_")
        if env == "UNIZO_LOG_AUTH":
            options.add_argument(
                setting.flag, dest=dest, nargs="?", const="true", metavar="BOOL", help=help_text
            )
        else:
            options.add_argument(setting.flag, dest=dest, metavar=metavar, help=help_text)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    # api-keys
    keys = commands.add_parser("api-keys", help="create, list, describe, revoke and rotate API keys")
    keys_commands = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = _command(
        keys_commands,
        "create",
        _lazy("keys_cmd", "create"),
        "create a key; it is shown once, or written to --output-file (mode 600)",
        'example: unizo api-keys create --name "MCP-$(date +%Y%m%d)" --permissions <service>:read,write \\\n'
        "             --expires 90d --output-file ~/.config/unizo/keys/mcp.key",
    )
    create.add_argument("--name", required=True, help="what the key is for, e.g. MCP-$(date +%%Y%%m%%d)")
    create.add_argument(
        "--permissions",
        action="append",
        required=True,
        metavar="SERVICE:ACTIONS",
        help="e.g. <service>:read,write; repeatable; actions read, write, delete, or * for all three; "
        "platform:... for account administration",
    )
    create.add_argument(
        "--environment",
        dest="key_environment",
        choices=("production", "staging", "development"),
        help="the key's environment (default: the API's)",
    )
    create.add_argument("--expires", metavar="90d|DATE", help="a duration (90d, 12w) or a date (YYYY-MM-DD)")
    create.add_argument(
        "--ip-allow",
        action="extend",
        nargs="+",
        metavar="CIDR",
        help="allow only these addresses or ranges (one or more; repeatable)",
    )
    create.add_argument(
        "--output-file",
        metavar="PATH",
        help="write the key there (mode 600, atomically) instead of showing it",
    )
    create.add_argument("--force", action="store_true", help="with --output-file: replace an existing file")

    _command(
        keys_commands, "list", _lazy("keys_cmd", "list_keys"), "list the organization's keys (no secrets)"
    )
    describe = _command(keys_commands, "describe", _lazy("keys_cmd", "describe"), "show one key (no secret)")
    describe.add_argument("--key-id", required=True, metavar="ID")
    revoke = _command(
        keys_commands, "revoke", _lazy("keys_cmd", "revoke"), "revoke a key now (asks first, unless --yes)"
    )
    revoke.add_argument("--key-id", required=True, metavar="ID")
    revoke.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    rotate = _command(
        keys_commands,
        "rotate",
        _lazy("rotate", "rotate"),
        "replace a key under running servers: create its successor, write it to the key file they read, "
        "verify it, then revoke the old key",
        "The successor gets the old key's name (dated), permissions, environment, IP allowlist and\n"
        "lifetime. Servers reading the key file through UNIZO_API_KEY_FILE pick it up on their next\n"
        "request, without a restart. If a step fails, the old key is not revoked, the key file is\n"
        "restored, and the command says what state each key and the file are in.\n\n"
        "example: unizo api-keys rotate --key-id 3f2a9c1b --key-file ~/.config/unizo/keys/mcp.key \\\n"
        "             --grace 10m",
    )
    rotate.add_argument("--key-id", required=True, metavar="OLD", help="the key to replace")
    rotate.add_argument(
        "--key-file", required=True, metavar="PATH", help="the file the servers read (UNIZO_API_KEY_FILE)"
    )
    rotate.add_argument(
        "--grace",
        default="10m",
        metavar="DURATION",
        help="wait this long between writing the new key and revoking the old one (default 10m; 0 for none)",
    )
    rotate.add_argument(
        "--expires", metavar="90d|DATE", help="the successor's expiry (default: the old lifetime)"
    )

    # logs
    logs = commands.add_parser("logs", help="API usage of a key")
    logs_commands = logs.add_subparsers(dest="action", metavar="ACTION", required=True)
    usage = _command(
        logs_commands,
        "api-usage",
        _lazy("usage_cmd", "api_usage"),
        "requests and errors of a key by status, service or hour, with a per-hour sparkline",
        "example: unizo logs api-usage --key-id 3f2a9c1b --since 24h --by service",
    )
    usage.add_argument("--key-id", required=True, metavar="ID")
    usage.add_argument(
        "--since", default="24h", metavar="DURATION", help="24h, 7d, 90m ... (default 24h; up to 7d)"
    )
    usage.add_argument("--by", choices=("status", "service", "hour"), default="status", help="the breakdown")

    # alerts
    alerts = commands.add_parser("alerts", help="usage alerts with webhook notifications")
    alerts_commands = alerts.add_subparsers(dest="action", metavar="ACTION", required=True)
    alert = _command(
        alerts_commands,
        "create",
        _lazy("alerts_cmd", "create"),
        "create an alert on a condition over recorded usage",
        "condition: METRIC COMPARISON THRESHOLD / WINDOW, e.g.\n"
        '  "api_requests > 1000/hour"   "api_errors >= 50 per 10m"   "error_rate > 5% over 15 minutes"\n'
        "  metrics: api_requests, api_errors, error_rate (%), rate_limited (429), forbidden (403),\n"
        "           server_errors (5xx); comparisons: > >= < <= == !=; window: 1 minute to 7 days\n\n"
        'example: unizo alerts create --condition "api_requests > 1000/hour" --key-id 3f2a9c1b \\\n'
        "             --notify webhook:https://hooks.example.com/unizo",
    )
    alert.add_argument("--condition", required=True, help='e.g. "api_requests > 1000/hour"')
    alert.add_argument(
        "--key-id", metavar="ID", help="watch this key (default: every key of the organization)"
    )
    alert.add_argument(
        "--notify",
        action="append",
        metavar="webhook:URL",
        help="deliver a signed webhook when it fires; repeatable",
    )
    alert.add_argument(
        "--webhook-secret-file", metavar="PATH", help="the signing secret (default: generated and shown once)"
    )
    alert.add_argument("--name", help="default: the condition")
    _command(alerts_commands, "list", _lazy("alerts_cmd", "list_alerts"), "list alerts with their state")
    alert_describe = _command(alerts_commands, "describe", _lazy("alerts_cmd", "describe"), "show one alert")
    alert_describe.add_argument("--alert-id", required=True, metavar="ID")
    alert_delete = _command(
        alerts_commands, "delete", _lazy("alerts_cmd", "delete"), "delete an alert (asks first, unless --yes)"
    )
    alert_delete.add_argument("--alert-id", required=True, metavar="ID")
    alert_delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    # config
    config = commands.add_parser("config", help="install or audit MCP client configurations")
    config_commands = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    names = tuple(CLIENTS)
    install = _command(
        config_commands,
        "install",
        _lazy("config_cmd", "install"),
        "merge one server entry into an MCP client's configuration file (backup kept, mode 600)",
        "The entry runs the service's console script by its absolute path. The key is the client's own\n"
        "placeholder of UNIZO_<SERVICE>_API_KEY (${VAR} for Claude Code, ${env:VAR} for Cursor, VS Code and\n"
        "Windsurf), or UNIZO_API_KEY_FILE with --key-file; Claude Desktop expands no placeholders, so its\n"
        "entry always names a key file (default ~/.config/unizo/keys/unizo-<service>.key).\n\n"
        "example: unizo config install --client claude-desktop --service <service> \\\n"
        "             --key-file ~/.config/unizo/keys/<service>.key",
    )
    install.add_argument("--client", required=True, choices=names)
    install.add_argument("--service", required=True, help="an installed service (unizo doctor lists them)")
    install.add_argument("--key-file", metavar="PATH", help="the entry reads its key from this file")
    install.add_argument("--config", metavar="PATH", help="this file instead of the client's standard one")
    install.add_argument("--read-only", action="store_true", help="the server exposes read tools only")
    install.add_argument("--force", action="store_true", help="rewrite a file that holds comments (JSONC)")
    check = _command(
        config_commands,
        "check",
        _lazy("config_cmd", "check"),
        "audit the Unizo entries of MCP client configurations: file modes, literal keys, http:// URLs, "
        "environments, placeholders the client will not expand, keys shared by several services",
    )
    check.add_argument(
        "--config", metavar="PATH", help="check this file (default: every client's standard files)"
    )
    check.add_argument("--client", choices=names, help="with --config: whose file it is (default: guessed)")
    check.add_argument(
        "--fix", action="store_true", help="make the files flagged as readable by others mode 600"
    )

    # doctor
    doctor = _command(
        commands,
        "doctor",
        _lazy("doctor", "doctor"),
        "run --verify-connection for every installed server and sum it up",
    )
    doctor.add_argument("--service", action="append", metavar="NAME", help="only these services; repeatable")
    doctor.add_argument("--verbose", action="store_true", help="show every check of every service")
    return parser


def _describe(exc: UnizoError) -> str:
    """The error's paragraph; a message of several lines (a condition and its pointer) keeps them."""
    first, _, rest = exc.message.partition("\n")
    facts = [
        f"HTTP {exc.status}" if exc.status else "",
        f"errorCode {exc.error_code}" if exc.error_code else "",
        f"correlationId {exc.correlation_id}" if exc.correlation_id else "",
    ]
    shown = ", ".join(f for f in facts if f)
    text = " ".join(first.split()).rstrip(".") + (f" ({shown})" if shown else "") + "."
    if rest:
        text += "\n" + rest
    if exc.hint:
        text += ("\n" if rest else " ") + " ".join(exc.hint.split())
    return text


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run `unizo` with `argv` (sys.argv[1:] by default); returns the exit code."""
    try:
        return _main(argv, environ)
    except (OutputClosed, BrokenPipeError):  # `unizo ... | head`: the reader has all it wanted
        return output_closed()


def _main(argv: Sequence[str] | None, environ: Mapping[str, str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help, --version, or a usage error already reported
        return exc.code if isinstance(exc.code, int) else int(ExitCode.CONFIG)
    console = Console(sys.stdout, sys.stderr, sys.stdin, json_mode=bool(getattr(args, "json", False)))
    overrides = {
        env: value for env in GLOBAL_SETTINGS if (value := getattr(args, _dest(env), None)) is not None
    }
    ctx = Context(console, dict(os.environ if environ is None else environ), overrides)
    try:
        result = args.handler(ctx, args)
        if not isinstance(result, int):  # a command that talks to the API: a coroutine
            import asyncio

            result = asyncio.run(result)
        return int(result)
    except UnizoError as exc:
        code = int(exc.exit_code)
        label = "error: " if isinstance(exc, ConfigError) else ""
        console.note(f"{PROG}: {label}{_describe(exc)}")
        if console.json_mode:
            console.json(error_json(exc, code))
        return code
    except KeyboardInterrupt:
        console.note(f"{PROG}: interrupted")
        return INTERRUPTED
    except OutputClosed:
        raise
    except Exception:
        import logging

        from unizo_mcp_core.redaction import configure_logging

        configure_logging("error")
        logging.getLogger("unizo_mcp.cli").exception("unexpected internal error")
        console.note(f"{PROG}: unexpected internal error; see the log above")
        return int(ExitCode.INTERNAL)
