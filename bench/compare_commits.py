"""Two source trees of this repo, side by side: cold start, server CPU and p50 per call, peak memory.

    git worktree add /tmp/before <commit>; git worktree add /tmp/after <commit>
    python bench/compare_commits.py /tmp/before /tmp/after [--service NAME] [--rounds 5] [--calls 300]

Each tree's core and service package are put first on PYTHONPATH and the service's server is run as
`python -m unizo_mcp_<service>` over stdio against one sandbox (this checkout's), the trees alternating
round by round. For before/after figures of a change to the core (the commit message, or bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(
    root: Path, service: str, tool: str, args: dict[str, Any], env: dict[str, str], calls: int
) -> tuple[float, float, float, float]:
    from unizo_mcp_core.registry import module_name, package_name

    folder = package_name(service).removeprefix("unizo-mcp-")
    path = f"{root}/shared/core/src:{root}/packages/{folder}/src"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", module_name(service)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**env, "PYTHONPATH": path},
    )
    assert proc.stdin is not None and proc.stdout is not None

    def ask(message: dict[str, Any]) -> Any:
        proc.stdin.write((json.dumps(message) + "\n").encode())  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        if "id" in message:
            return json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        return None

    client = {"name": "compare", "version": "0"}
    ask({"jsonrpc": "2.0", "id": 0, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}})  # fmt: skip
    ask({"jsonrpc": "2.0", "method": "notifications/initialized"})
    ask({"jsonrpc": "2.0", "id": "tools", "method": "tools/list"})
    ready = time.perf_counter() - start
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": args}}
    for _ in range(30):
        ask(call)
    before, latencies = cpu_seconds(proc.pid), []
    for _ in range(calls):
        started = time.perf_counter()
        answer = ask(call)
        latencies.append(time.perf_counter() - started)
        assert not answer["result"].get("isError"), answer
    used = cpu_seconds(proc.pid) - before
    status = Path(f"/proc/{proc.pid}/status").read_text().splitlines()
    hwm = int(next(line for line in status if line.startswith("VmHWM")).split()[1]) / 1024
    proc.stdin.close()
    proc.wait()
    return ready, used * 1000 / calls, statistics.median(latencies) * 1000, hwm


def main() -> int:
    from unizo_mcp_core.registry import discover_services
    from unizo_mcp_sandbox.handle import start_sandbox

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trees", nargs=2, type=Path)
    parser.add_argument("--service", help="default: the first installed service with a top-level list")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    options = parser.parse_args()
    specs = discover_services()

    def top_list(name: str) -> Any:
        found = (t for t in specs[name].tools if t.method == "GET" and t.paginated and not t.path_params())
        return next(found, None)

    service = options.service or next(n for n in specs if specs[n].discovery and top_list(n) is not None)
    tool = top_list(service)
    sandbox = start_sandbox(
        state_dir=tempfile.mkdtemp(), rate_limit=1_000_000, daily_quota=10_000_000, max_concurrency=100
    )
    try:
        integration = sandbox.integrations(service)[0]["id"]
        env = {
            **os.environ,
            **sandbox.env("full"),
            "UNIZO_RATE_LIMIT": "1000000",
            "UNIZO_DAILY_QUOTA": "10000000",
        }
        args = {"integration_id": integration, "limit": 20}
        results: dict[Path, list[tuple[float, float, float, float]]] = {tree: [] for tree in options.trees}
        for number in range(options.rounds):
            for tree in options.trees if number % 2 == 0 else options.trees[::-1]:
                results[tree].append(run_once(tree, service, tool.name, args, env, options.calls))
    finally:
        sandbox.stop()
    header = "| tree | cold start to tools/list | server CPU per call | p50 per call | peak RSS |"
    sys.stdout.write(header + "\n|---|---|---|---|---|\n")
    for tree, rows in results.items():
        ready, cpu, p50, hwm = (statistics.median(row[i] for row in rows) for i in range(4))
        sys.stdout.write(f"| {tree} | {ready:.3f} s | {cpu:.2f} ms | {p50:.2f} ms | {hwm:.1f} MiB |\n")
    sys.stdout.write(
        f"\nmedian of {options.rounds} alternating rounds; {tool.name} x20, {options.calls} calls after 30 "
        f"of warm-up; {os.cpu_count()} CPUs; sandbox in this process\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
