"""The point of separate packages: a fresh venv with only shared/core and packages/edr works on its own.

Builds a throwaway virtual environment (no system site-packages) and installs the two local
projects with pip, which fetches the core's third-party dependencies from the index.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from .catalog import tools_of
from .helpers import base_env, run_cli, script

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def edr_venv(tmp_path_factory) -> Path:
    """bin/ of a fresh venv holding unizo-mcp-core and unizo-mcp-edr (and their dependencies) only."""
    venv = tmp_path_factory.mktemp("isolated") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    result = subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(ROOT / "shared" / "core"),
            str(ROOT / "packages" / "edr"),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return bin_dir


def test_only_core_and_edr_are_installed(edr_venv):
    listed = subprocess.run(
        [str(edr_venv / "python"), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    names = [p["name"].lower() for p in json.loads(listed.stdout)]
    ours = sorted(n for n in names if n.startswith("unizo"))
    assert ours == ["unizo-mcp-core", "unizo-mcp-edr"]
    probe = "from unizo_mcp_core.registry import discover_services; print(sorted(discover_services()))"
    python = str(edr_venv / "python")
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120)
    assert found.stdout.strip() == "['edr']", found.stderr


async def test_version_and_print_config(edr_venv, sandbox, tmp_path):
    command = script("unizo-mcp-edr", edr_venv)
    code, out, err = await run_cli([command, "--version"], base_env(tmp_path))
    assert code == 0 and out.startswith("unizo-mcp-edr 0.1.0"), err
    env = base_env(tmp_path, sandbox.env("full"))
    code, out, err = await run_cli([command, "--print-config"], env)
    assert code == 0, err
    assert json.loads(out)["mcpServers"]["unizo-edr"]["env"]["UNIZO_API_KEY"] == "${UNIZO_EDR_API_KEY}"
    assert sandbox.keys["full"] not in out + err


async def test_stdio_session_against_the_sandbox(edr_venv, sandbox, tmp_path):
    params = StdioServerParameters(
        command=script("unizo-mcp-edr", edr_venv), args=[], env=base_env(tmp_path, sandbox.env("full"))
    )
    async with Client(params, read_timeout_seconds=60) as client:
        assert [t.name for t in (await client.list_tools()).tools] == tools_of("edr")
        found = await client.call_tool("edr_list_integrations", {"connector": "crowdstrike"})
        assert not found.is_error, found.content
        integration = found.structured_content["data"][0]["id"]
        devices = await client.call_tool("edr_list_devices", {"integration_id": integration, "limit": 3})
        assert not devices.is_error, devices.content
        assert len(devices.structured_content["data"]) == 3
