"""Entry point of `unizo-mcp-identity` and `python -m unizo_mcp_identity`."""

from unizo_mcp_core.cli import run

from .tools import SERVICE


def main() -> None:
    run(SERVICE)


if __name__ == "__main__":
    main()
