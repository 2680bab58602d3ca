"""One command line for every Unizo MCP server: `run(SERVICE)` is a service package's whole `main()`.

Flags are derived from `settings.SETTINGS` (each names its environment twin; flags win over the
environment). Importing this module is cheap (the standard library's `os`/`sys` and `errors`):
`--version` alone is answered before anything else is imported; `--help` and `--print-config` add
argparse, `settings` (attrs) and `docs`, never the MCP SDK or aiohttp; serving, `--test-auth` and
`--verify-connection` load the rest lazily, and serving with no arguments (as MCP clients start a server)
never imports argparse. The all-in-one server reads only the names of the
installed services on its fast paths, without importing their modules.
Stdout carries nothing but the MCP protocol (stdio) or the requested output; everything else goes to
stderr.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NoReturn

from . import __version__ as core_version
from .errors import INTERRUPTED, ConfigError, ExitCode, OutputClosed, UnizoError
from .registry import ALL_IN_ONE_PACKAGE

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping, Sequence

    from .settings import SettingDef, Settings
    from .spec import ServiceSpec

__all__ = ["build_parser", "configure_logging", "main", "print_config_env", "run"]

POLICY_TEXT = (
    "tool policy (first match hides a tool; hidden tools are also refused when called): "
    "--exclude-tools > --read-only > the key's permissions on the service > --tools allow-list"
)


# What the parser gives for no arguments: every action off, every setting flag absent (None)
NO_ARGUMENTS = SimpleNamespace(
    test_auth=False, verify_connection=False, print_config=False, bare_command=False, version=False
)


def _flag_settings(service: ServiceSpec | None) -> list[SettingDef]:
    from .settings import SETTINGS

    return [s for s in SETTINGS if s.flag and not (service is not None and s.env == "UNIZO_SERVICES")]


def build_parser(service: ServiceSpec | None, prog: str) -> argparse.ArgumentParser:
    """The parser for `prog`; `service` is a ServiceSpec or None for the all-in-one server."""
    import argparse

    from .cliparser import CommandParser
    from .docs import exit_codes_text
    from .settings import parse_bool

    if service is not None:
        about = f"Unizo {service.title} MCP server. {service.description}"
    else:
        about = "Unizo MCP server for every installed Unizo service (narrow with --services)."
    epilog = f"{POLICY_TEXT}.\n\nexit codes:\n{exit_codes_text()}"
    parser = CommandParser(
        prog=prog,
        description=about,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_argument_group("actions (default: serve MCP)")
    modes = actions.add_mutually_exclusive_group()
    modes.add_argument(
        "--test-auth", action="store_true", help="verify the API key, print what it may do, exit"
    )
    modes.add_argument(
        "--verify-connection",
        action="store_true",
        help="check settings, DNS, TCP, proxy, TLS, health, key, permission, rate limit, latency; exit",
    )
    modes.add_argument(
        "--print-config",
        action="store_true",
        help="print the mcpServers JSON entry for this server (no key), exit",
    )
    actions.add_argument(
        "--bare-command",
        action="store_true",
        help="with --print-config: the command's name, not its absolute path (you manage PATH)",
    )
    actions.add_argument("--version", action="store_true", help="print the version and exit")
    options = parser.add_argument_group("settings (each flag overrides its environment variable)")
    for setting in _flag_settings(service):
        assert setting.flag is not None
        default = f"; default {setting.default}" if setting.default is not None else ""
        help_text = f"{setting.meaning} (env {setting.env}{default})".replace("%", "%%")
        dest = setting.flag[2:].replace("-", "_")
        if setting.parse is parse_bool:
            options.add_argument(
                setting.flag, dest=dest, nargs="?", const="true", default=None, metavar="BOOL", help=help_text
            )
        else:
            metavar = (setting.field or dest).upper()
            options.add_argument(setting.flag, dest=dest, default=None, metavar=metavar, help=help_text)
    return parser


def _overrides(
    service: ServiceSpec | None, namespace: argparse.Namespace | SimpleNamespace, environ: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(environment without keys a flag replaces, overrides from flags) for `load_settings`."""
    from .keys import key_variables
    from .settings import integration_variable

    env = dict(environ)
    overrides: dict[str, str] = {}
    name = service.name if service is not None else None
    for setting in _flag_settings(service):
        assert setting.flag is not None
        raw = getattr(namespace, setting.flag[2:].replace("-", "_"), None)
        if raw is None:
            continue
        overrides[setting.env] = raw
        if setting.env == "UNIZO_API_KEY_FILE":
            for variable in key_variables(name):  # the flag wins over every key variable
                env.pop(variable, None)
        if setting.env == "UNIZO_INTEGRATION_ID" and name:
            overrides[integration_variable(name)] = raw
    return env, overrides


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, frozenset | set):
        return ",".join(sorted(value))
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def print_config_env(settings: Settings, service: ServiceSpec | None) -> dict[str, str]:
    """The non-default, non-secret settings as environment variables for the mcpServers entry."""
    from .settings import SETTINGS, Settings, integration_variable

    defaults = Settings(service=settings.service, api_key=None)
    env: dict[str, str] = {}
    for setting in SETTINGS:
        if not setting.field or setting.field == "integration_ids" or setting.secret:
            continue
        if service is not None and setting.env == "UNIZO_SERVICES":
            continue
        value = getattr(settings, setting.field)
        if value != getattr(defaults, setting.field) and value is not None:
            env[setting.env] = _render(value)
    if service is None:
        for svc, integration in settings.integration_ids:
            env[integration_variable(svc)] = integration
    if settings.api_key is not None and settings.api_key.file is not None:
        env["UNIZO_API_KEY_FILE"] = str(settings.api_key.file)
    return env


def configure_logging(settings: Settings) -> None:
    """Logging to stderr through the core's redaction filter, before any MCP server is built."""
    from .redaction import configure_logging as configure

    configure(settings.log_level, log_auth=settings.log_auth)


def _print_version(prog: str, version: str) -> int:
    sys.stdout.write(f"{prog} {version} (unizo-mcp-core {core_version})\n")
    sys.stdout.flush()
    return int(ExitCode.OK)


def command_path(prog: str) -> str | None:
    """The absolute path of console script `prog` of this installation (next to this Python first)."""
    import shutil

    here = os.path.dirname(sys.executable)
    return shutil.which(prog, path=here) or shutil.which(prog)


def _print_config(prog: str, service: ServiceSpec | None, settings: Settings, *, bare: bool) -> int:
    import json

    from .docs import config_entry
    from .redaction import REDACTED, scrub

    command = None if bare else command_path(prog)
    entry = config_entry(service, command=command or prog, env=print_config_env(settings, service))
    text = json.dumps(entry, indent=2)
    _out(text)
    notes = []
    if scrub(text) != text:  # a Redis URL's password: printed redacted, like everything else
        notes.append(
            f"a password in a setting (UNIZO_RATE_LIMIT_BACKEND's) is shown as {REDACTED}, never printed: "
            "put the real one in its place in the client's entry, or the server limits its calls alone"
        )
    if command:
        notes.append(
            f"command is the absolute path of this installation's {prog}: desktop apps start servers "
            "with a minimal PATH (--bare-command prints the name alone)"
        )
    if service is None:
        notes.append(
            "the server reads UNIZO_API_KEY, or UNIZO_<SERVICE>_API_KEY per service, from the environment "
            "the client passes; clients that pass a minimal one (Claude Desktop) need the key in env or "
            "UNIZO_API_KEY_FILE"
        )
    notes.append(
        "the MCP client's config file will hold your key (or its placeholder): keep it readable only by "
        "you (chmod 600 <file>)"
    )
    for note in notes:
        _err(f"note: {note}.")
    return int(ExitCode.OK)


def _out(text: str) -> None:
    """A line on stdout: through the same redaction as the logs."""
    from .redaction import write_scrubbed

    write_scrubbed(sys.stdout, text + "\n")


def _err(text: str) -> None:
    """A line on stderr: through the same redaction as the logs."""
    from .redaction import write_scrubbed

    write_scrubbed(sys.stderr, text + "\n")


def _fail(prog: str, exc: UnizoError) -> int:
    text = " ".join(exc.describe().split())
    _err(f"{prog}: {'error: ' if isinstance(exc, ConfigError) else ''}{text}")
    return int(exc.exit_code)


def main(
    service: ServiceSpec | None,
    *,
    package: str | None = None,
    version: str | None = None,
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """The CLI; returns the exit code (see `run`)."""
    try:
        return _main(service, package=package, version=version, argv=argv, environ=environ)
    except (OutputClosed, BrokenPipeError):  # `... | head`: the reader has all it wanted
        from .redaction import output_closed

        return output_closed()


def _main(
    service: ServiceSpec | None,
    *,
    package: str | None,
    version: str | None,
    argv: Sequence[str] | None,
    environ: Mapping[str, str] | None,
) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    prog = package or (service.package if service is not None else ALL_IN_ONE_PACKAGE)
    version = version or (service.version if service is not None else core_version)
    if args == ["--version"]:  # answered before the parser and the settings are even imported
        return _print_version(prog, version)
    from .settings import load_settings

    # MCP clients start servers with no arguments: nothing to parse, so argparse is not even imported
    namespace = build_parser(service, prog).parse_args(args) if args else NO_ARGUMENTS
    if namespace.version:
        return _print_version(prog, version)
    env, overrides = _overrides(service, namespace, os.environ if environ is None else environ)
    name = service.name if service is not None else None
    try:
        if namespace.verify_connection:
            return _verify_connection(prog, service, name, env, overrides, version)
        settings = load_settings(name, env, overrides, require_key=not namespace.print_config)
        if namespace.print_config:
            if service is None and settings.services is not None:
                # --services names are checked against the installed names, loading no service
                # module; without --services nothing is looked up (the server checks at start-up)
                from .registry import installed_service_names, selected_names

                selected_names(installed_service_names(), settings.services)
            return _print_config(prog, service, settings, bare=namespace.bare_command)
        services = [service] if service is not None else _installed(settings)
        from .transport import check_bind

        check_bind(settings)
    except UnizoError as exc:
        return _fail(prog, exc)
    configure_logging(settings)
    from .tls import prepare_ssl_context

    # the trust store loads on a thread (OpenSSL's work, without the GIL) while the HTTP stack is imported
    prepare_ssl_context(settings.ca_bundle)
    try:
        if namespace.test_auth:
            from .diagnostics import run_test_auth

            return run_test_auth(settings, services, package=prog, version=version)
        from .transport import serve

        if service is None:  # the all-in-one server: its own name and version, whatever it serves
            return serve(settings, services, name="unizo", version=version, package=prog)
        return serve(settings, services, package=prog, version=version)
    except UnizoError as exc:
        return _fail(prog, exc)
    except KeyboardInterrupt:  # before serving (stdio serving stops on Ctrl-C itself)
        return INTERRUPTED
    except OutputClosed:
        raise
    except Exception:
        import logging

        logging.getLogger("unizo_mcp.cli").exception("unexpected internal error")
        _err(f"{prog}: unexpected internal error; see the log above")
        return int(ExitCode.INTERNAL)


def _installed(settings: Settings) -> list[ServiceSpec]:
    from .registry import discover_services, select_services

    return select_services(discover_services(), settings.services)


def _verify_connection(
    prog: str,
    service: ServiceSpec | None,
    name: str | None,
    env: Mapping[str, str],
    overrides: Mapping[str, str],
    version: str | None,
) -> int:
    from .diagnostics import run_verify_connection
    from .settings import load_settings

    def load() -> tuple[Settings, list[ServiceSpec]]:
        settings = load_settings(name, env, overrides)
        services = [service] if service is not None else _installed(settings)
        return settings, services

    return run_verify_connection(load, package=prog, version=version)


def run(
    service: ServiceSpec | None,
    *,
    package: str | None = None,
    version: str | None = None,
    argv: Sequence[str] | None = None,
) -> NoReturn:
    """Run the server's CLI and exit. `service` is the package's ServiceSpec; None = all-in-one server."""
    sys.exit(main(service, package=package, version=version, argv=argv))
