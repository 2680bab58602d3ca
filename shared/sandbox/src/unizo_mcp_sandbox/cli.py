"""`unizo-sandbox serve` runs the sandbox; `unizo-sandbox env` prints the export lines of the last one.

The export lines go to stdout (and nothing else does), logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from unizo_mcp_sandbox import __version__
from unizo_mcp_sandbox.config import (
    DEFAULT_DAILY_QUOTA,
    DEFAULT_HOST,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_RATE_LIMIT,
    DEFAULT_RATE_WINDOW,
    DEFAULT_SEED,
    ENVIRONMENTS,
    FULL,
    PROFILES,
    LimitSettings,
    SandboxConfig,
    default_state_dir,
)
from unizo_mcp_sandbox.exports import saved_export_lines

log = logging.getLogger("unizo_mcp_sandbox")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unizo-sandbox", description="Local HTTPS emulator of the Unizo API."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the sandbox until interrupted")
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)")
    serve.add_argument(
        "--port", type=int, default=None, help="port; 0 picks a free one (default: last run's, else free)"
    )
    serve.add_argument(
        "--state-dir", type=Path, default=None, help=f"state directory (default: {default_state_dir()})"
    )
    serve.add_argument("--environment", choices=ENVIRONMENTS, default="production")
    serve.add_argument(
        "--profile",
        choices=PROFILES,
        default=FULL,
        help="full: this repo's whole contract (default); documented: only what Unizo documents",
    )
    serve.add_argument("--seed", type=int, default=DEFAULT_SEED, help="data seed (default %(default)s)")
    serve.add_argument(
        "--rate-limit", type=int, default=DEFAULT_RATE_LIMIT, help="requests per window per key"
    )
    serve.add_argument("--rate-window", type=float, default=DEFAULT_RATE_WINDOW, help="window in seconds")
    serve.add_argument(
        "--daily-quota", type=int, default=DEFAULT_DAILY_QUOTA, help="requests per UTC day per key"
    )
    serve.add_argument(
        "--max-concurrency", type=int, default=DEFAULT_MAX_CONCURRENCY, help="simultaneous requests"
    )
    serve.add_argument(
        "--faults", default=None, help="fault spec, see the README (e.g. 'GET /api/v1/<category>/*=503@0.3')"
    )
    serve.add_argument(
        "--admin-token", default=None, help="token for /_sandbox/ (default: derived from the seed)"
    )
    serve.add_argument("--access-log", action="store_true", help="log every request to stderr")

    env = commands.add_parser("env", help="print the export lines of the sandbox that last used a state dir")
    env.add_argument("--state-dir", type=Path, default=None)
    return parser


def _write_lines(lines: Sequence[str]) -> None:
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


async def _serve(config: SandboxConfig) -> None:
    from unizo_mcp_sandbox.exports import export_lines
    from unizo_mcp_sandbox.server import SandboxServer

    server = SandboxServer(config)
    await server.start()
    sandbox = server.sandbox
    lines = export_lines(
        base_url=sandbox.base_url,
        ca_file=server.ca_file,
        environment=config.environment,
        role_keys=sandbox.role_keys,
        admin_token=sandbox.admin_token,
        state_dir=sandbox.state_dir.path,
        profile=config.profile,
    )
    ready = f"# unizo-sandbox {__version__} ready ({config.profile} profile, pid {os.getpid()})"
    ready += "; stop it with Ctrl-C"
    _write_lines([*lines, ready])
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        await stopping.wait()
    finally:
        log.info("stopping; saving state to %s", sandbox.state_dir.path)
        await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    state_dir: Path = args.state_dir or default_state_dir()
    if args.command == "env":
        lines = saved_export_lines(state_dir)
        if lines is None:
            log.error("no sandbox has run with state dir %s", state_dir)
            return 1
        _write_lines(lines)
        return 0

    from unizo_mcp_sandbox.faults import FaultSpecError, parse_spec
    from unizo_mcp_sandbox.state import StateDirBusy

    try:
        parse_spec(args.faults)
        config = SandboxConfig(
            state_dir=state_dir,
            host=args.host,
            port=args.port,
            environment=args.environment,
            seed=args.seed,
            limits=LimitSettings(args.rate_limit, args.daily_quota, args.max_concurrency, args.rate_window),
            faults=args.faults,
            admin_token=args.admin_token,
            access_log=args.access_log,
            profile=args.profile,
        )
    except (FaultSpecError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    try:
        asyncio.run(_serve(config))
    except (StateDirBusy, OSError) as exc:
        log.error("cannot start the sandbox: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
