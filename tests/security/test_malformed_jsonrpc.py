"""Malformed JSON-RPC on stdio gets an answer, and the server keeps serving (issue: the SDK dropped
such lines silently and the client waited for its own timeout).

One real server process per test; every hostile line is followed by a ping that must be answered.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from servicekit import a_service
from unizo_mcp_core.stdio import MAX_LINE_BYTES

from .support import base_env, listable, script, server_of

TIMEOUT = 30.0
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"},
    },
}
# line -> (code, id) of the answer it must get
HOSTILE: list[tuple[bytes, int, Any]] = [
    (b"this is not json\n", -32700, None),
    (b'{"jsonrpc":"2.0","id":11,"method":"ping",\n', -32700, None),
    (b'{"jsonrpc":"2.0","id":12,"method":"pi\x00ng"}\n', -32700, None),
    (b'{"jsonrpc":"2.0","id":13,"method":"pi\tng"}\n', -32700, None),
    (b'{"jsonrpc":"2.0","id":14,"method":"ping","params":{"s":"\\ud800"}}\n', -32700, None),
    (b'{"jsonrpc":"2.0","id":15,"method":"\xed\xa0\x80"}\n', -32700, None),
    (b'{"jsonrpc":"2.0","id":16,"method":"ping","params":' + b"[" * 150 + b"]" * 150 + b"}\n", -32700, None),
    (
        b'{"jsonrpc":"2.0","id":17,"method":"ping","params":{"x":"'
        + b"a" * (MAX_LINE_BYTES + 1024)
        + b'"}}\n',
        -32700,
        None,
    ),
    (b'{"jsonrpc":"1.0","id":18,"method":"ping"}\n', -32600, 18),
    (b'{"jsonrpc":"2.0","id":"nineteen"}\n', -32600, "nineteen"),
    (b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}\n', -32600, None),
    (b'{"jsonrpc":"2.0","id":20.5,"method":"ping"}\n', -32600, None),
    (b'[{"jsonrpc":"2.0","id":21,"method":"ping"}]\n', -32600, None),
    (b"[]\n", -32600, None),
    (b'{"jsonrpc":"2.0","id":22,"method":"tools/list","params":[1]}\n', -32600, 22),
]


class Wire:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        assert process.stdin and process.stdout
        self.stdin = process.stdin
        self.stdout = process.stdout

    async def send(self, line: bytes) -> None:
        self.stdin.write(line)
        await self.stdin.drain()

    async def answer(self) -> dict[str, Any]:
        line = await asyncio.wait_for(self.stdout.readline(), TIMEOUT)
        assert line, "the server closed stdout"
        message = json.loads(line)
        assert isinstance(message, dict), message
        return message


async def test_every_malformed_line_is_answered_and_serving_goes_on(sandbox: Any, tmp_path: Path) -> None:
    env = base_env(tmp_path, sandbox.env("full"))
    process = await asyncio.create_subprocess_exec(
        script(server_of(a_service(listable))),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        limit=1024 * 1024,
    )
    wire = Wire(process)
    try:
        await wire.send(json.dumps(INITIALIZE).encode() + b"\n")
        assert (await wire.answer())["id"] == "init"
        await wire.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        for number, (line, code, answer_id) in enumerate(HOSTILE):
            await wire.send(line)
            answer = await wire.answer()
            assert answer.get("jsonrpc") == "2.0", answer
            assert answer.get("id", "missing") == answer_id, (line[:80], answer)
            assert answer["error"]["code"] == code, (line[:80], answer)
            await wire.send(
                json.dumps({"jsonrpc": "2.0", "id": f"ping-{number}", "method": "ping"}).encode() + b"\n"
            )
            assert await wire.answer() == {"jsonrpc": "2.0", "id": f"ping-{number}", "result": {}}
        await wire.send(b'{"jsonrpc":"2.0","id":"tools","method":"tools/list"}\n')
        tools = await wire.answer()
        assert tools["id"] == "tools" and tools["result"]["tools"], tools
    finally:
        if process.stdin and not process.stdin.is_closing():
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
    assert process.returncode == 0, (await process.stderr.read()).decode() if process.stderr else ""
