"""Root conftest: the shared test plugin (tests/servicekit.py) for tests/ and every packages/<svc>/tests/."""

pytest_plugins = ["servicekit"]
