"""The server tests run on the shared plugin's fixtures (tests/servicekit.py: `open_server`, `new_key`)."""
