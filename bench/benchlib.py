"""Bench plumbing: a raw stdio JSON-RPC client, statistics, machine facts, the table and the JSON.

The client speaks MCP's stdio framing (one JSON-RPC message per line) by hand instead of using
the SDK's `ClientSession`: the bench then measures the server, not the client's pydantic
validation, and the bench process itself does not pay the SDK's import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

PROTOCOL_VERSION = "2025-06-18"
STREAM_LIMIT = 64 * 1024 * 1024


class RpcError(RuntimeError):
    pass


class ServerDied(RuntimeError):
    pass


def compact_json(value: Any) -> bytes:
    """How the bench counts bytes: compact JSON, UTF-8, no escaping of non-ASCII."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


class StdioServer:
    """One MCP server process spoken to over stdio with newline-delimited JSON-RPC."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], label: str = "") -> None:
        self.argv = list(argv)
        self.env = dict(env)
        self.label = label or Path(argv[0]).name
        self.proc: asyncio.subprocess.Process | None = None
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.last_line: bytes = b""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr,
            env=self.env,
            limit=STREAM_LIMIT,
        )
        self._reader = asyncio.create_task(self._read_loop())

    async def _read_loop(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        stdout = self.proc.stdout
        while True:
            line = await stdout.readline()
            if not line:
                break
            self.last_line = line
            try:
                message = json.loads(line)
            except ValueError:
                self._fail(ServerDied(f"{self.label} wrote a non-JSON line to stdout: {line[:200]!r}"))
                return
            if "id" in message and "method" in message:  # a request from the server (ping, roots/list)
                self._write({"jsonrpc": "2.0", "id": message["id"], "result": {}})
                continue
            future = self._pending.pop(message.get("id"), None) if "id" in message else None
            if future is not None and not future.done():
                future.set_result(message)
        self._fail(
            ServerDied(f"{self.label} closed stdout (exit {self.proc.returncode}); stderr:\n{self.stderr()}")
        )

    def _fail(self, exc: BaseException) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(exc)
        self._pending.clear()

    def _write(self, message: Mapping[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def send_request(
        self, method: str, params: Mapping[str, Any] | None = None
    ) -> asyncio.Future[dict[str, Any]]:
        """Write the request and return the future of its whole JSON-RPC response."""
        self._next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            message["params"] = params
        self._write(message)
        return future

    async def request(self, method: str, params: Mapping[str, Any] | None = None, timeout: float = 60) -> Any:
        response = await asyncio.wait_for(self.send_request(method, params), timeout)
        if "error" in response:
            raise RpcError(f"{self.label} {method}: {response['error']}")
        return response["result"]

    def notify(self, method: str, params: Mapping[str, Any] | None = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._write(message)

    async def initialize(self) -> dict[str, Any]:
        result = await self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "unizo-bench", "version": "0"},
            },
        )
        self.notify("notifications/initialized")
        return dict(result)

    async def list_tools(self) -> dict[str, Any]:
        return dict(await self.request("tools/list"))

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        result = dict(await self.request("tools/call", {"name": name, "arguments": dict(arguments)}))
        if result.get("isError"):
            text = " ".join(c.get("text", "") for c in result.get("content", []))
            raise RpcError(f"{self.label} tool {name} failed: {text}")
        return result

    def vm_hwm_kb(self) -> int:
        """Peak resident set size so far (VmHWM), from /proc; 0 where /proc is missing."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return 0

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the process has used so far; a figure that load does not inflate."""
        return process_cpu_s(self.pid)

    def stderr(self, limit: int = 4000) -> str:
        self._stderr.seek(0)
        data = self._stderr.read()
        return data[-limit:].decode(errors="replace")

    async def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.close()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        self._stderr.close()

    async def __aenter__(self) -> StdioServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# --- statistics ------------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    data = sorted(values)
    if not data:
        return float("nan")
    mid = len(data) // 2
    return data[mid] if len(data) % 2 else (data[mid - 1] + data[mid]) / 2


def percentile(values: Iterable[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    data = sorted(values)
    if not data:
        return float("nan")
    rank = (len(data) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (rank - low)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_s(pid: int) -> float:
    """utime + stime of a live process from /proc/<pid>/stat (0 where /proc is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wall_time(argv: Sequence[str], env: Mapping[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds from spawn to exit, CPU seconds of the child) for a command whose output is discarded.

    Fails on a non-zero exit.
    """
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            raise RuntimeError(
                f"{' '.join(argv)} exited {code}: {err.read().decode(errors='replace')[-2000:]}"
            )
    return elapsed, usage.ru_utime + usage.ru_stime


# --- machine ---------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def git_revision(root: Path) -> str | None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+uncommitted" if dirty else "")


def machine_info(root: Path, packages: Sequence[str]) -> dict[str, Any]:
    """The machine, interpreter, git revision and the versions of `packages` (None: not installed)."""
    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "cpu_cores_usable": usable,
        "load_average_at_start": [round(x, 2) for x in load] if load else None,
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_executable": sys.executable,
        "packages": versions,
        "git": git_revision(root),
    }


# --- output ----------------------------------------------------------------------------------


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table, padded so it also reads well on a terminal."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
