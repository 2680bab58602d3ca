"""Entry point of `unizo` and `python -m unizo_cli`.

`--version` is answered before anything else is imported; `--help` loads argparse and the core's fast modules
only (never aiohttp or the MCP SDK): the commands load the rest when they run.
"""

from __future__ import annotations

import sys

from . import __version__


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        from unizo_mcp_core import __version__ as core_version

        sys.stdout.write(f"unizo-cli {__version__} (unizo-mcp-core {core_version})\n")
        sys.stdout.flush()
        sys.exit(0)
    from .app import main as run

    sys.exit(run(args))


if __name__ == "__main__":
    main()
