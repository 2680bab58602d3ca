"""A stdio server stops cleanly however its client leaves, with stdin still open.

Ctrl-C (SIGINT) in a terminal; SIGTERM, which clients send to a server still running a moment after they
closed its stdin (or at once, on quitting); a client gone while an answer is still to be written (its end
of stdout closed). Each is a console script over a real pipe: what is tested is that the process exits,
with the right code and no traceback, not only that serving ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from servicekit import Walker, a_service, examples_of, expected_path, is_create, is_top_list, tools_where
from unizo_mcp_core.limitstore import limit_key
from unizo_mcp_core.localstore import LocalStore
from unizo_mcp_core.spec import ServiceSpec

from .helpers import base_env, script

pytestmark = pytest.mark.slow

SPEC = a_service(lambda spec: bool(tools_where(spec, is_top_list)))
LIST = tools_where(SPEC, is_top_list)[0]
EXIT_WAIT = 60  # seconds: only a hang takes this long
HELD = 3000  # ms the API holds the call in flight when the signal comes


class Server:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")

    async def initialize(self) -> None:
        assert self.process.stdout is not None
        client = {"name": "test_signals", "version": "1"}
        self.send(
            {
                "id": 0,
                "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client},
            }
        )
        answer = json.loads(await asyncio.wait_for(self.process.stdout.readline(), EXIT_WAIT))
        assert "result" in answer, answer
        self.send({"method": "notifications/initialized"})

    async def exit_code(self) -> tuple[int, str, str]:
        """Waits for the exit with stdin left open; the exit code, the rest of stdout, and stderr."""
        assert self.process.stdout is not None and self.process.stderr is not None
        try:
            code = await asyncio.wait_for(self.process.wait(), EXIT_WAIT)
        except TimeoutError:
            pytest.fail(f"the server was still running {EXIT_WAIT} s after the signal")
        out, err = await self.process.stdout.read(), await self.process.stderr.read()
        return code, out.decode(), err.decode()


@contextlib.asynccontextmanager
async def serving(spec: ServiceSpec, sandbox: Any, tmp_path: Path) -> AsyncIterator[Server]:
    """`spec`'s console script, initialized over a pipe; killed at the end if it is still running."""
    env = base_env(tmp_path, {**sandbox.env("full"), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    env["UNIZO_LOG_LEVEL"] = "info"
    process = await asyncio.create_subprocess_exec(
        script(spec.package),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    started = Server(process)
    try:
        await started.initialize()
        yield started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.fixture
async def server(sandbox: Any, tmp_path: Path) -> AsyncIterator[Server]:
    async with serving(SPEC, sandbox, tmp_path) as started:
        yield started


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)], ids=["SIGINT", "SIGTERM"]
)
async def test_a_signal_stops_a_stdio_server(server: Server, signum: signal.Signals, code: int) -> None:
    # at once after `initialized`: the SDK is still setting the session up (it once failed there with
    # anyio.BrokenResourceError, reported as an internal error, exit code 1)
    server.process.send_signal(signum)
    exit_code, out, err = await server.exit_code()
    assert exit_code == code, err  # 130: the shell's code for Ctrl-C; 0: stopped as asked
    assert out == "" and "Traceback" not in err and " ERROR " not in err, err
    assert f"stopping: {signum.name} received" in err


async def test_sigterm_stops_a_stdio_server_and_ends_its_calls_share_of_the_limits(
    server: Server, sandbox: Any, tmp_path: Path
) -> None:
    path = f"/api/v1{LIST.path}"
    sandbox.set_faults(f"GET {path}=latency:{HELD}#1")
    integration = str(sandbox.integrations(SPEC.name)[0]["id"])
    arguments = {"integration_id": integration, "limit": 1}
    server.send({"id": 1, "method": "tools/call", "params": {"name": LIST.name, "arguments": arguments}})
    env = sandbox.env("full")
    key = limit_key(env["UNIZO_BASE_URL"], env["UNIZO_API_KEY"])
    store = LocalStore(tmp_path / "cache" / "unizo-mcp" / "limits.sqlite3")
    try:
        while not (store.path.exists() and store.leases(key) == 1):  # the call holds its lease
            await asyncio.sleep(0.05)
        server.process.send_signal(signal.SIGTERM)
        code, out, err = await server.exit_code()
        # ended, not left to expire UNIZO_TIMEOUT + LEASE_GRACE later, while other servers on the key wait
        assert store.leases(key) == 0
    finally:
        await store.aclose()
    assert code == 0, err
    assert "stopping: SIGTERM received" in err and "Traceback" not in err, err
    # nothing but protocol messages on stdout (the call in flight may be answered as the session closes)
    assert all(json.loads(line)["id"] == 1 for line in out.splitlines()), out
    while not any(r.path == path for r in sandbox.requests()):  # the API is done with it: the next test
        await asyncio.sleep(0.05)  # finds the sandbox idle


def test_a_client_gone_with_an_answer_to_write_stops_the_server(sandbox: Any, tmp_path: Path) -> None:
    env = base_env(tmp_path, {**sandbox.env("full"), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    env["UNIZO_LOG_LEVEL"] = "info"
    process = subprocess.Popen(
        [script(SPEC.package)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    try:
        client = {"name": "test_stopping", "version": "1"}
        init = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}
        process.stdin.write(
            json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}).encode()
        )
        process.stdin.write(b"\n")
        process.stdin.flush()
        assert "result" in json.loads(process.stdout.readline())
        process.stdout.close()  # the client is gone; stdin stays open
        process.stdin.write(b'{"jsonrpc": "2.0", "method": "notifications/initialized"}\n')
        process.stdin.write(b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}\n')  # its answer: EPIPE
        process.stdin.flush()
        code = process.wait(timeout=EXIT_WAIT)
        err = process.stderr.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert code == 0, err
    assert "stopping: the client closed its end of stdout" in err, err
    assert "Traceback" not in err and " ERROR " not in err, err


WRITER = a_service(lambda spec: bool(tools_where(spec, is_create)) and bool(tools_where(spec, is_top_list)))


async def test_at_the_end_of_stdin_writes_in_flight_are_answered_and_reads_are_not(
    open_server: Any, sandbox: Any, tmp_path: Path
) -> None:
    """A client that closes stdin with a write in flight (it quit right after asking) does not leave it
    half done: the write gets its answer, on stdout and in the log, before the server exits. A read in
    flight is cancelled: nobody is left to read it. (Before, the SDK cancelled both at once, and the log
    could only say that the write may have been applied.)"""
    create = tools_where(WRITER, is_create)[0]
    listing = tools_where(WRITER, is_top_list)[0]
    async with open_server(WRITER.name) as session:
        arguments = await Walker(session, WRITER, examples_of(WRITER)).arguments(create)
        integration = await session.integration(WRITER.name)
    read_path = f"/api/v1{listing.path}"
    sandbox.clear_requests()  # what finding the arguments sent is not this test's
    # the write held at the API for a moment, the read for longer than the server takes to exit after it
    sandbox.set_faults(f"POST *=latency:500#1;GET {read_path}=latency:{HELD}#1")
    async with serving(WRITER, sandbox, tmp_path) as server:
        read = {"integration_id": integration, "limit": 1}
        server.send({"id": 1, "method": "tools/call", "params": {"name": listing.name, "arguments": read}})
        write = {"name": create.name, "arguments": arguments}
        server.send({"id": 2, "method": "tools/call", "params": write})
        assert server.process.stdin is not None
        server.process.stdin.close()  # at once, as a client that quits does
        code, out, err = await server.exit_code()
    assert code == 0, err
    answers = {message["id"]: message for message in map(json.loads, out.splitlines())}
    assert answers[2]["result"]["isError"] is False, out  # the write's answer
    assert "result" not in answers.get(1, {}), out  # the read: none, or the SDK's "Connection closed"
    assert "stdin closed with 1 write(s) in flight" in err, err
    assert f"{create.name} answered after the client closed stdin: succeeded" in err, err
    assert "may have been applied" not in err and "Traceback" not in err, err
    created = [
        r.status
        for r in sandbox.requests()
        if (r.method, r.raw_path.split("?")[0]) == ("POST", expected_path(create, arguments))
    ]
    assert len(created) == 1 and created[0] // 100 == 2, created  # made once, and the API took it
    # the next test finds the sandbox idle: the API is done with the read (if it was sent before the end)
    deadline = time.monotonic() + HELD / 1000 + EXIT_WAIT
    while time.monotonic() < deadline and not any(r.path == read_path for r in sandbox.requests()):
        await asyncio.sleep(0.05)
