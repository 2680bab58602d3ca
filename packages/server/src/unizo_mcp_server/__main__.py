"""Entry point of `unizo-mcp-server` and `python -m unizo_mcp_server`."""

from unizo_mcp_core.cli import run

from . import __version__


def main() -> None:
    run(None, package="unizo-mcp-server", version=__version__)


if __name__ == "__main__":
    main()
