"""The point of separate packages: each server, installed alone next to the core, works on its own.

For every service: a fresh virtual environment (no system site-packages) with only that package, the core
and their third-party dependencies, installed offline from the session's wheelhouse. The server must see
only its own service, answer --version and --print-config, pass --verify-connection against the sandbox,
and serve its tools over stdio.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from servers.helpers import base_env, run_cli, script
from servicekit import is_top_list, services_where, tools_where
from unizo_mcp_core.registry import server_name
from unizo_mcp_core.spec import ServiceSpec

pytestmark = pytest.mark.slow
SERVICES = services_where()


def _ours(bin_dir: Path) -> list[str]:
    listed = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return sorted(
        p["name"].lower() for p in json.loads(listed.stdout) if p["name"].lower().startswith("unizo")
    )


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
async def test_server_alone_next_to_the_core(
    spec: ServiceSpec, fresh_venv: Any, sandbox: Any, tmp_path: Path
):
    bin_dir = fresh_venv(spec.package)
    assert _ours(bin_dir) == sorted(["unizo-mcp-core", spec.package])
    probe = "from unizo_mcp_core.registry import discover_services; print(sorted(discover_services()))"
    found = subprocess.run(
        [str(bin_dir / "python"), "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert found.stdout.strip() == repr([spec.name]), found.stderr

    command = script(spec.package, bin_dir)
    code, out, err = await run_cli([command, "--version"], base_env(tmp_path))
    assert code == 0 and out.startswith(f"{spec.package} {spec.version}"), err
    env = base_env(tmp_path, sandbox.env("full"))
    code, out, err = await run_cli([command, "--print-config"], env)
    assert code == 0, err
    assert (
        json.loads(out)["mcpServers"][server_name(spec)]["env"]["UNIZO_API_KEY"]
        == f"${{{spec.key_variable}}}"
    )
    code, out, err = await run_cli([command, "--verify-connection"], env)
    assert code == 0, out + err
    assert sandbox.keys["full"] not in out + err

    params = StdioServerParameters(command=command, args=[], env=env)
    async with Client(params, read_timeout_seconds=60) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert names == [t.name for t in spec.all_tools()]
        where: dict[str, str] = {}
        if spec.discovery:  # a category: find an integration first (an account-level service has none)
            connectors = await client.call_tool(f"{spec.name}_list_connectors", {})
            assert not connectors.is_error, connectors.content
            connector = connectors.structured_content["data"][0]
            found = await client.call_tool(f"{spec.name}_list_integrations", {"connector": connector})
            where["integration_id"] = found.structured_content["data"][0]["id"]
        tool = tools_where(spec, is_top_list)[0]
        listed = await client.call_tool(tool.name, {**where, "limit": 3})
        assert not listed.is_error, listed.content
        assert 0 < len(listed.structured_content["data"]) <= 3
