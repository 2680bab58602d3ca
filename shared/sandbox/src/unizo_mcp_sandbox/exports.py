"""The environment a server needs to talk to the sandbox, as a dict or as shell `export` lines."""

from __future__ import annotations

import shlex
from pathlib import Path

from unizo_mcp_sandbox.config import FULL
from unizo_mcp_sandbox.keys import seeded_admin_token, seeded_keys
from unizo_mcp_sandbox.state import CA_FILE, read_state


def role_variable(role: str) -> str:
    """The variable a seeded role's key is exported in (`unizo-sandbox env`)."""
    return f"UNIZO_SANDBOX_KEY_{role.upper()}"


def server_env(base_url: str, ca_file: Path, environment: str, api_key: str) -> dict[str, str]:
    return {
        "UNIZO_BASE_URL": base_url,
        "UNIZO_CA_BUNDLE": str(ca_file),
        "UNIZO_ENVIRONMENT": environment,
        "UNIZO_API_KEY": api_key,
    }


def export_lines(
    *,
    base_url: str,
    ca_file: Path,
    environment: str,
    role_keys: dict[str, str],
    admin_token: str,
    state_dir: Path,
    profile: str = FULL,
) -> list[str]:
    variables = server_env(base_url, ca_file, environment, role_keys["full"])
    variables.update({role_variable(role): key for role, key in role_keys.items()})
    variables["UNIZO_SANDBOX_ADMIN_TOKEN"] = admin_token
    variables["UNIZO_SANDBOX_STATE_DIR"] = str(state_dir)
    variables["UNIZO_SANDBOX_PROFILE"] = profile
    return [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]


def saved_export_lines(state_dir: Path) -> list[str] | None:
    """The export lines of the sandbox that last served from `state_dir`, or None if it never ran there."""
    state = read_state(state_dir)
    if state is None or not state.get("baseUrl"):
        return None
    keys_seed = int(state["keysSeed"])
    environment = state["environment"]
    return export_lines(
        base_url=state["baseUrl"],
        ca_file=state_dir.expanduser().resolve() / CA_FILE,
        environment=environment,
        role_keys={seeded.role: seeded.key for seeded in seeded_keys(keys_seed, environment)},
        admin_token=state.get("adminToken") or seeded_admin_token(keys_seed),
        state_dir=state_dir.expanduser().resolve(),
        profile=state.get("profile", FULL),
    )
