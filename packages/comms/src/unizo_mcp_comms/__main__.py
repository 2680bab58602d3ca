"""Entry point of `unizo-mcp-comms` and `python -m unizo_mcp_comms`."""

from unizo_mcp_core.cli import run

from .tools import SERVICE


def main() -> None:
    run(SERVICE)


if __name__ == "__main__":
    main()
