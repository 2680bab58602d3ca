"""The point of `unizo api-keys rotate`: a running `unizo-mcp-<service>` server, called in a loop over stdio,
keeps answering every call while its key is rotated under it (through UNIZO_API_KEY_FILE, no restart); at the
end the old key is revoked and the key file is mode 600."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from servers.helpers import base_env, run_cli, script
from servicekit import is_top_list, services_where, tools_where
from unizo_testkit import text_of

pytestmark = pytest.mark.slow
SPEC = services_where(lambda spec: bool(tools_where(spec, is_top_list)))[0]
TOOL = tools_where(SPEC, is_top_list)[0]
AFTER = 20  # calls made after the rotation finished, with the new key alone


async def test_a_running_server_loses_no_call_across_a_rotation(
    sandbox: Any, tmp_path: Path, new_key_record: Any
) -> None:
    sandbox.set_limits(rate_limit=100_000)
    old = new_key_record({SPEC.name: ["read"]}, name="MCP-20260101")
    key_file = tmp_path / "keys" / f"{SPEC.name}.key"
    key_file.parent.mkdir()
    key_file.write_text(old["key"] + "\n")
    key_file.chmod(0o600)
    connection = {k: v for k, v in sandbox.env("full").items() if k != "UNIZO_API_KEY"}
    server_env = base_env(
        tmp_path, {**connection, "UNIZO_API_KEY_FILE": str(key_file), "UNIZO_RATE_LIMIT": "100000"}
    )
    admin_env = base_env(tmp_path, {**connection, "UNIZO_ADMIN_API_KEY": sandbox.keys["full"]})
    integration = sandbox.integrations(SPEC.name)[0]["id"]

    results: list[Any] = []
    rotating = asyncio.Event()
    done = asyncio.Event()
    async with Client(
        StdioServerParameters(command=script(SPEC.package), env=server_env), read_timeout_seconds=60
    ) as client:

        async def call_in_a_loop() -> None:
            after = 0
            while after < AFTER:
                results.append(await client.call_tool(TOOL.name, {"integration_id": integration, "limit": 1}))
                if len(results) == 10:
                    rotating.set()
                if done.is_set():
                    after += 1

        caller = asyncio.create_task(call_in_a_loop())
        await rotating.wait()
        command = [script("unizo"), "api-keys", "rotate", "--key-id", old["id"], "--key-file", str(key_file)]
        code, out, err = await run_cli([*command, "--grace", "2s", "--json"], admin_env)
        done.set()
        await caller

    assert code == 0, err
    report = json.loads(out)
    failures = [text_of(result) for result in results if result.is_error]
    assert failures == [], failures[:3]
    new_id = report["newKey"]["id"]
    assert (report["oldKey"]["state"], report["keyFile"]["state"]) == ("revoked", "new")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert old["key"] not in key_file.read_text() and old["key"] not in out + err

    calls = [
        r for r in sandbox.requests() if r.path.startswith("/api/v1/") and r.key_id in (old["id"], new_id)
    ]
    by_key = [r.key_id for r in calls]
    assert old["id"] in by_key and new_id in by_key
    switched = by_key.index(new_id)
    assert set(by_key[:switched]) == {old["id"]} and set(by_key[switched:]) == {
        new_id
    }  # one switch, no return
    assert all(r.status == 200 for r in calls)  # not one refusal, before, during or after
    assert by_key[-AFTER:] == [new_id] * AFTER
    revoked = [r for r in sandbox.requests() if r.path == f"/api/v1/apiKeys/{old['id']}/revoke"]
    assert len(revoked) == 1 and revoked[0].timestamp > calls[switched].timestamp
