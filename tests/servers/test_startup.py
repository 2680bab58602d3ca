"""How a server starts, or refuses to: key variables, permissions, --print-config (subprocesses)."""

from __future__ import annotations

import json

import pytest
from unizo_mcp_core.errors import ExitCode

from .catalog import SERVICES
from .helpers import base_env, run_cli, script

pytestmark = pytest.mark.slow


def _sandbox_env(sandbox) -> dict[str, str]:
    """The sandbox's base URL, CA and environment, without its key."""
    return {k: v for k, v in sandbox.env("full").items() if k != "UNIZO_API_KEY"}


async def test_server_reads_only_its_own_key_variable(sandbox, tmp_path):
    env = base_env(tmp_path, {**_sandbox_env(sandbox), "UNIZO_SCM_API_KEY": sandbox.keys["full"]})
    before = len(sandbox.requests())
    code, out, err = await run_cli([script("unizo-mcp-edr")], env)
    assert code == ExitCode.CONFIG != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "UNIZO_EDR_API_KEY" in lines[0], err
    assert "UNIZO_SCM_API_KEY" not in err
    assert out == ""
    assert len(sandbox.requests()) == before, "a server without its key must not call the API"


async def test_service_key_variable_wins_over_the_generic_one(sandbox, tmp_path):
    env = base_env(
        tmp_path,
        {**_sandbox_env(sandbox), "UNIZO_EDR_API_KEY": sandbox.keys["full"], "UNIZO_API_KEY": "not-a-key"},
    )
    code, out, err = await run_cli([script("unizo-mcp-edr"), "--test-auth"], env)
    assert code == 0, out + err
    assert "from UNIZO_EDR_API_KEY" in out


@pytest.mark.parametrize("service", SERVICES)
async def test_key_without_permission_refuses_to_start_like_test_auth(service, sandbox, new_key, tmp_path):
    if service == "edr":
        key = await new_key({"scm": ["read"]}, name="no-edr")
    else:
        key = sandbox.keys["edr_only"]  # no permission on any other service
    env = base_env(tmp_path, {**_sandbox_env(sandbox), f"UNIZO_{service.upper()}_API_KEY": key})
    command = script(f"unizo-mcp-{service}")
    code, out, err = await run_cli([command], env)
    auth_code, auth_out, _ = await run_cli([command, "--test-auth"], env)
    assert code == auth_code == ExitCode.FORBIDDEN, (err, auth_out)
    assert out == ""
    (result,) = [line for line in auth_out.splitlines() if line.startswith("Result: FAILED: ")]
    message = result.removeprefix("Result: FAILED: ")
    assert f"unizo-mcp-{service}: {message}" in err.splitlines(), (err, message)
    assert service in message and f"UNIZO_{service.upper()}_API_KEY" in message
    assert key not in err + auth_out


@pytest.mark.parametrize("service", SERVICES)
async def test_print_config_shows_the_entry_without_the_key(service, sandbox, tmp_path):
    key = sandbox.keys["full"]
    env = base_env(tmp_path, {**_sandbox_env(sandbox), f"UNIZO_{service.upper()}_API_KEY": key})
    code, out, err = await run_cli([script(f"unizo-mcp-{service}"), "--print-config"], env)
    assert code == 0, err
    entry = json.loads(out)["mcpServers"][f"unizo-{service}"]
    assert entry["command"] == f"unizo-mcp-{service}"
    assert entry["env"]["UNIZO_API_KEY"] == f"${{UNIZO_{service.upper()}_API_KEY}}"
    assert entry["env"]["UNIZO_BASE_URL"] == sandbox.base_url.rstrip("/")
    assert key not in out + err
    assert "chmod 600" in err


async def test_all_in_one_refuses_an_unknown_service(sandbox, tmp_path):
    env = base_env(tmp_path, sandbox.env("full"))
    code, out, err = await run_cli([script("unizo-mcp-server"), "--services", "edr,nope"], env)
    assert code == ExitCode.CONFIG and out == ""
    assert "nope" in err and "installed: " in err
    assert all(name in err.split("installed: ")[1] for name in SERVICES), err
