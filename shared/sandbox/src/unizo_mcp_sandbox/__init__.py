"""Local HTTPS emulator of the Unizo API."""

__version__ = "0.1.0"
