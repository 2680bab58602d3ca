"""Shared core of the Unizo MCP servers."""

__version__ = "0.1.0"
