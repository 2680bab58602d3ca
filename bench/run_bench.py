"""`nox -s bench`: every figure of the benchmark, each against its floor measured in the same run.

    python bench/run_bench.py                 # full run: warm-up, then the median of several runs
    python bench/run_bench.py --smoke         # one run of each figure, no targets asserted (CI)
    python bench/run_bench.py --write-readme  # rewrite bench/README.md's results from bench/results.json
    python bench/run_bench.py --check-readme  # exit 1 if bench/README.md disagrees with bench/results.json

A full run prints a table, writes `bench/results.json` and rewrites the generated section of
bench/README.md from it; other runs write `bench/results/<mode>.json`. The servers measured are the
installed ones (`unizo_mcp_core.registry`), each driven with its first list tool that needs no parent
id. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import ssl
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchlib import (
    StdioServer,
    compact_json,
    machine_info,
    median,
    percentile,
    render_table,
    wall_time,
    write_json,
)
from report import DEPENDENCY_NOTE, DEPENDENCY_STATUS, README, REFERENCE, RESULTS, check_readme, write_readme
from tokens import TokenizerMissing, count_tokens, tokenizer_name

if TYPE_CHECKING:
    import aiohttp
    from unizo_mcp_core.spec import ServiceSpec, ToolSpec

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
FLOOR_SERVER = BENCH / "floor_server.py"

FAST_FLAGS = ("--version", "--help", "--print-config")
PAGE = 20  # items per list call, figures 3-6
HEAVY_MODULES = ("mcp", "mcp_types", "aiohttp", "pydantic", "pydantic_core", "anyio")
# Versions recorded with the results, besides the workspace's own packages.
THIRD_PARTY = ("mcp", "mcp-types", "pydantic", "pydantic-core", "aiohttp", "attrs", "backoff", "anyio")
IMPORT_ROWS = 8  # packages listed in the import-time breakdown of figure 1

# Targets from issue 7, tightened by issue 13 ("a core that costs no more than the SDK").
COLD_START_MAX_RATIO = 1.2
FAST_PATH_MAX_S = 0.15
CALL_OVER_FLOOR_MAX_MS = 1.0  # server p50 minus the floor server's p50 (issue 13)
CALL_CPU_MAX_RATIO = 1.3  # server process CPU per call over the floor server's
# Figure 6: what a list result may cost against the raw API page: the heaviest page (the main service's)
# at most 0.35x, every other list at most 0.5x (issue 13, "Context economy").
MAIN_RESULT_MAX_RATIO = 0.35
RESULT_MAX_RATIO = 0.5
RATE_USE_MIN = 0.97
MEMORY_MAX_RATIO = 1.15
TOOL_DEF_MAX_BYTES = 600

# Figure 4: the product's limits (100 per minute, 5 concurrent) with the minute scaled down to 10 s,
# on both sides (the sandbox's `rate_window`, the server's UNIZO_RATE_WINDOW). Not shorter: the core
# limiter keeps a fixed 0.2 s of refill in reserve against latency jitter, i.e. rate x 0.2 tokens
# (0.33 in a real minute, 2 at 10 s, 4 at 5 s), and a shorter window would weigh that reserve out of
# proportion with the product's minute.
CONC_CALLS = 200
CONC_RATE_LIMIT = 100
CONC_WINDOW_S = 10.0
CONC_MAX_CONCURRENCY = 5

# Figure 7: two server processes on one key, same limits as figure 4, sharing them through the local store
# (UNIZO_RATE_LIMIT_BACKEND=local, the default), and for contrast each limiting itself alone (process).
SHARED_SERVERS = 2
SHARED_BACKENDS = ("local", "process")
SHARED_USE_MIN = 0.95  # issue "One key, many servers": at least 95% of the allowance, no 429

# Generous limits for every other figure, on both sides, so that no figure but 4 is ever throttled.
OPEN_LIMITS: dict[str, Any] = {"rate_limit": 1_000_000, "daily_quota": 100_000_000, "max_concurrency": 100}


@dataclass(frozen=True)
class Mode:
    name: str
    warmup: int  # discarded rounds before the measured ones
    runs: int  # measured rounds; figures report the median
    calls: int  # sequential calls per round, figure 3
    call_runs: int  # figure 3 rounds
    call_warmup: int  # discarded calls before figure 3's rounds
    memory_calls: int  # calls before reading VmHWM, figure 5
    conc_runs: int  # figure 4 rounds (each is its own server process)
    assert_targets: bool


# Nine measured rounds: single rounds of figures 1 and 3 spread wider than their targets' margins on a
# 2-core machine (figure 1's summary shows the range of single rounds), so a median of five could land
# either side of a target from one run to the next.
FULL = Mode(
    "full",
    warmup=1,
    runs=9,
    calls=500,
    call_runs=9,
    call_warmup=50,
    memory_calls=100,
    conc_runs=3,
    assert_targets=True,
)
# Smoke: one run of each figure with fewer sequential calls, to keep every code path alive in CI.
SMOKE = Mode(
    "smoke",
    warmup=0,
    runs=1,
    calls=100,
    call_runs=1,
    call_warmup=5,
    memory_calls=100,
    conc_runs=1,
    assert_targets=False,
)


@dataclass
class Subject:
    """A process the bench starts: the floor server or one of ours."""

    name: str
    argv: list[str]
    service: str | None  # a service name; "*" for the all-in-one server; None for the floor
    module: str = ""  # import package, for `python -m` style launches
    tool: str | None = None  # the read tool driven in figures 3-6
    arguments: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)  # UNIZO_* settings of its own (a variant)

    @property
    def is_floor(self) -> bool:
        return self.service is None


@dataclass
class Row:
    figure: str
    subject: str
    value: str
    floor: str
    ratio: str
    target: str
    ok: bool | None  # None: no target for this row
    # missed against the floor server, which the floor server + aiohttp request misses alone, and met
    # against that floor: the part of the target the core can meet is met (DEPENDENCY_NOTE)
    dependency: bool = False

    def cells(self, assert_targets: bool) -> list[str]:
        if self.ok is None:
            status = ""
        elif self.ok:
            status = "ok"
        elif self.dependency:
            status = DEPENDENCY_STATUS
        else:
            status = "MISSED" if assert_targets else "over (not asserted)"
        return [self.figure, self.subject, self.value, self.floor, self.ratio, self.target, status]

    @property
    def missed(self) -> bool:
        return self.ok is False and not self.dependency


def met_over_dependency(ok: bool, reference_ratio: float, target: float, over_reference: float) -> bool:
    """A target missed against the floor server counts as the dependency's when the floor server + aiohttp
    request alone misses it (`reference_ratio` > `target`) and the server, measured against that floor
    instead, meets it (`over_reference` <= `target`). Ratios, or differences for additive targets."""
    return not ok and reference_ratio > target and over_reference <= target


def paired_ratio(samples: Sequence[Mapping[str, Any]], base: Sequence[Mapping[str, Any]], key: str) -> float:
    """The median over rounds of `key` in `samples` / in `base` measured in the same round (slow drifts in
    load cancel); NaN for a round without a figure (no /proc: VmHWM 0)."""
    return median(a[key] / b[key] if b[key] else float("nan") for a, b in zip(samples, base, strict=True))


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def fmt_ms(ms: float) -> str:
    return f"{ms:.2f} ms"


def fmt_mib(kb: float) -> str:
    return f"{kb / 1024:.1f} MiB"


def fmt_bytes(n: float) -> str:
    return f"{n:,.0f} B"


# --- processes -------------------------------------------------------------------------------


def console_script(dist: str, module: str) -> list[str]:
    """The installed console script next to this interpreter, else `python -m <module>`."""
    bindir = Path(sys.executable).parent
    script = bindir / dist
    if script.exists():
        return [str(script)]
    found = shutil.which(dist)
    if found and Path(found).resolve().parent == bindir.resolve():
        return [found]
    return [sys.executable, "-m", module]


def installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def root_list(spec: ServiceSpec) -> ToolSpec | None:
    """A service's first list tool that needs no parent id: what the bench drives on its server."""
    return next((t for t in spec.tools if t.method == "GET" and t.paginated and not t.path_params()), None)


def installed_servers() -> tuple[dict[str, ServiceSpec], list[Subject]]:
    """The installed services (by name) and the servers to measure: one per service, then the all-in-one."""
    from unizo_mcp_core.registry import ALL_IN_ONE_PACKAGE, discover_services, module_name, package_name

    specs = discover_services()
    servers = [
        Subject(
            package_name(name), console_script(package_name(name), module_name(name)), name, module_name(name)
        )
        for name in specs
    ]
    all_in_one = ALL_IN_ONE_PACKAGE.replace("-", "_")
    if installed(all_in_one):
        servers.append(
            Subject(ALL_IN_ONE_PACKAGE, console_script(ALL_IN_ONE_PACKAGE, all_in_one), "*", all_in_one)
        )
    else:
        log(f"not installed, skipped: {ALL_IN_ONE_PACKAGE}")
    return specs, servers


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The bench's environment without UNIZO_* settings, plus `extra`.

    PYTHONDONTWRITEBYTECODE is dropped so that the warm-up compiles the workspace's bytecode once,
    as a wheel install does; otherwise every start would recompile the (editable) core from source.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIZO_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    return env


# --- the sandbox -----------------------------------------------------------------------------


class Sandbox:
    """The sandbox (in this process) plus a direct aiohttp client for the floors of figures 3 and 6."""

    def __init__(self, state_dir: Path) -> None:
        try:  # `handle` needs no pytest; `testing` (the pytest plugin) re-exports the same function
            from unizo_mcp_sandbox.handle import start_sandbox
        except ImportError:
            from unizo_mcp_sandbox.testing import start_sandbox

        self.handle = start_sandbox(state_dir=state_dir, port=0, **OPEN_LIMITS)
        self.base_url: str = self.handle.base_url.rstrip("/")
        self.ca_file = str(self.handle.ca_file)
        self.key: str = self.handle.keys["full"]
        # the servers' local rate-limit store: the bench's own, never the user's ~/.cache
        self.cache_dir = state_dir / "cache"
        self.ssl = ssl.create_default_context(cafile=self.ca_file)
        self.session: aiohttp.ClientSession | None = None
        self._integrations: dict[str, str] = {}

    def server_env(self, **settings: Any) -> dict[str, str]:
        env = {k: str(v) for k, v in self.handle.env("full").items()}
        env.setdefault("UNIZO_API_KEY", self.key)
        env.setdefault("UNIZO_BASE_URL", self.base_url)
        env.setdefault("UNIZO_CA_BUNDLE", self.ca_file)
        env["UNIZO_RATE_LIMIT"] = str(OPEN_LIMITS["rate_limit"])
        env["UNIZO_DAILY_QUOTA"] = str(OPEN_LIMITS["daily_quota"])
        env["XDG_CACHE_HOME"] = str(self.cache_dir)
        env["UNIZO_MAX_CONCURRENCY"] = str(OPEN_LIMITS["max_concurrency"])
        env.update({k: str(v) for k, v in settings.items()})
        return child_env(env)

    def set_limits(self, **limits: Any) -> None:
        self.handle.set_limits(**limits)

    def requests(self) -> list[Any]:
        return list(self.handle.requests())

    def clear_requests(self) -> None:
        """Empty the sandbox's (bounded) request log, so a figure reads only its own requests."""
        self.handle.clear_requests()

    async def open(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self.ssl))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        self.handle.stop()

    def request_headers(self, integration_id: str | None = None) -> dict[str, str]:
        headers = {
            "apikey": self.key,
            "correlationId": str(uuid.uuid4()),
            "User-Agent": "unizo-bench/0 aiohttp",
            "Accept": "application/json",
        }
        if integration_id:
            headers["integrationId"] = integration_id
        return headers

    async def get_raw(self, raw_path: str, integration_id: str | None) -> bytes:
        """The floor request: the same GET the server made, straight to the sandbox; body parsed as JSON."""
        assert self.session is not None
        headers = self.request_headers(integration_id)
        async with self.session.get(self.base_url + raw_path, headers=headers) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET {raw_path} answered {resp.status}: {body[:300]!r}")
        json.loads(body)
        return body

    async def integration_id(self, category: str) -> str:
        """The first integration of a category, found the documented way (POST /integrations/search)."""
        if category not in self._integrations:
            assert self.session is not None
            body = {
                "filter": {"and": [{"property": "/type", "operator": "=", "values": [category]}]},
                "pagination": {"offset": 0, "limit": 100},
            }
            async with self.session.post(
                f"{self.base_url}/api/v1/integrations/search", json=body, headers=self.request_headers()
            ) as resp:
                answer = await resp.json()
                if resp.status != 200:
                    raise RuntimeError(f"integrations/search answered {resp.status}: {answer}")
            items = sorted(
                answer["data"], key=lambda i: (i.get("serviceProfile", {}).get("name", ""), i["id"])
            )
            if not items:
                raise RuntimeError(f"the sandbox has no {category} integration")
            self._integrations[category] = items[0]["id"]
        return self._integrations[category]


def recorded(entry: Any, name: str) -> Any:
    """A field of a recorded request, whether the recorder hands out objects or dicts."""
    if isinstance(entry, Mapping):
        camel = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)
        return entry.get(name, entry.get(camel))
    return getattr(entry, name)


def is_verification(entry: Any) -> bool:
    return str(recorded(entry, "path")).endswith("/auth/verify")


def is_data_call(entry: Any) -> bool:
    path = str(recorded(entry, "path"))
    return path.startswith("/api/v1/") and not path.startswith("/api/v1/integrations")


# --- the bench -------------------------------------------------------------------------------


class Bench:
    def __init__(self, mode: Mode, sandbox: Sandbox) -> None:
        self.mode = mode
        self.sandbox = sandbox
        self.rows: list[Row] = []
        self.results: dict[str, Any] = {}
        self.floor = Subject(
            "floor server", [sys.executable, str(FLOOR_SERVER)], None, tool="ping", arguments={"limit": PAGE}
        )
        # The floor of a server serving this API with aiohttp and sharing its limits in SQLite: the floor
        # server that imports aiohttp, builds a verifying SSL context, opens a SQLite database and makes
        # one GET before serving, one GET per call (the main service's page), and answers what the main
        # server answers for it (floor_server.py).
        self.floor_http = Subject(
            REFERENCE,
            [sys.executable, str(FLOOR_SERVER)],
            None,
            tool="ping",
            arguments={"limit": PAGE},
        )
        self.floor_request: tuple[str, str | None] | None = None  # (raw path, integration id) it GETs
        self.floor_answer: Path | None = None  # the main server's result for that page, which it sends
        self.floor_store: Path | None = None  # the SQLite database it keeps open, as the local store does
        self.specs, self.servers = installed_servers()
        # The service figures 3 and 4 drive, and the all-in-one server's list tool: the category whose
        # first list page is the heaviest (the most per-call work), chosen in prepare().
        self.main_service: str | None = None
        self.raw_paths: dict[str, tuple[str, str | None]] = {}  # subject name → (raw path, integration id)
        self.floor_payload: Path | None = None

    def env_for(self, subject: Subject, **settings: Any) -> dict[str, str]:
        if subject.is_floor:
            extra = {"BENCH_FLOOR_PAYLOAD": str(self.floor_payload)} if self.floor_payload else {}
            if subject is self.floor_http:
                assert self.floor_request is not None and self.floor_answer is not None  # prepare()
                raw_path, integration_id = self.floor_request
                headers = self.sandbox.request_headers(integration_id)
                del headers["correlationId"]  # a fresh one per request, as the servers send
                extra["BENCH_FLOOR_FETCH"] = self.sandbox.base_url + raw_path
                extra["BENCH_FLOOR_HEADERS"] = json.dumps(headers)
                extra["BENCH_FLOOR_CA"] = self.sandbox.ca_file
                extra["BENCH_FLOOR_ANSWER"] = str(self.floor_answer)
                extra["BENCH_FLOOR_STORE"] = str(self.floor_store)
            return child_env(extra)
        return self.sandbox.server_env(**{**subject.settings, **settings})

    def main_subject(self) -> Subject:
        """The server of figures 3 and 4: the main service's own."""
        return next((s for s in self.servers if s.service == self.main_service), self.servers[0])

    async def prepare(self, state_dir: Path) -> None:
        """Choose the main service (the heaviest first page of a category's top-level list) and give the
        floor server that raw page, the least any MCP server forwarding it must send."""
        pages: dict[str, bytes] = {}
        requests: dict[str, tuple[str, str | None]] = {}
        for name, spec in self.specs.items():
            tool = root_list(spec)
            if tool is None or not tool.needs_integration:
                continue
            integration = await self.sandbox.integration_id(spec.category)
            requests[name] = (f"/api/v1{tool.path}?offset=0&limit={PAGE}", integration)
            pages[name] = await self.sandbox.get_raw(*requests[name])
        if not pages:
            raise RuntimeError("no installed category has a list tool without a parent id to drive")
        self.main_service = max(pages, key=lambda name: (len(pages[name]), name))
        self.floor_request = requests[self.main_service]
        log(f"main service: {self.main_service} ({len(pages[self.main_service]):,} bytes per page)")
        self.floor_payload = state_dir / "floor-payload.json"
        self.floor_payload.write_bytes(pages[self.main_service])
        # what the main server answers for that page: the fetching floor sends the same
        subject = self.main_subject()
        server = StdioServer(subject.argv, self.env_for(subject), subject.name)
        await server.start()
        try:
            await server.initialize()
            await self.choose_tool(subject, (await server.list_tools())["tools"])
            assert subject.tool is not None
            result = await server.call_tool(subject.tool, subject.arguments)
        finally:
            await server.close()
        (text,) = [c["text"] for c in result["content"] if c.get("type") == "text"]
        self.floor_answer = state_dir / "floor-answer.json"
        self.floor_store = state_dir / "floor-store.sqlite3"
        self.floor_answer.write_text(json.dumps({"text": text, "structured": result["structuredContent"]}))

    def rounds(self) -> int:
        return self.mode.warmup + self.mode.runs

    async def choose_tool(self, subject: Subject, tools: Sequence[Mapping[str, Any]]) -> None:
        """Pick the read tool a server is driven with, and the integration it reads."""
        if subject.tool is not None:
            return
        service = self.main_service if subject.service == "*" else subject.service
        assert service is not None
        spec = self.specs[service]
        tool = root_list(spec)
        if tool is None:  # a service whose every list needs a parent id: its discovery tool is driven
            subject.tool, subject.arguments = f"{service}_list_connectors", {}
        else:
            subject.tool = tool.name
            subject.arguments = {"offset": 0, "limit": PAGE}
            if tool.needs_integration:  # an account-level service's tools take none
                subject.arguments["integration_id"] = await self.sandbox.integration_id(spec.category)
        if subject.tool not in {t["name"] for t in tools}:
            raise RuntimeError(f"{subject.name}: {subject.tool} is not in its tools/list")

    # figures 1, 5 and 6a/6b share processes: start → ready (figure 1) → N calls → VmHWM (figure 5)
    async def server_session(
        self, subject: Subject, calls: int, keep: dict[str, Any] | None
    ) -> dict[str, Any]:
        self.sandbox.clear_requests()
        server = StdioServer(subject.argv, self.env_for(subject), subject.name)
        start = time.perf_counter()
        await server.start()
        try:
            await server.initialize()
            listed = await server.list_tools()
            ready = time.perf_counter() - start
            ready_cpu = server.cpu_s()
            verified = None
            if not subject.is_floor:
                verified = any(is_verification(r) for r in self.sandbox.requests())
            await self.choose_tool(subject, listed["tools"])
            assert subject.tool is not None
            first = await server.call_tool(subject.tool, subject.arguments)
            if keep is not None:
                keep["tools_list"] = listed
                keep["first_result"] = first
                data_calls = [r for r in self.sandbox.requests() if is_data_call(r)]
                if not subject.is_floor and data_calls:
                    self.raw_paths[subject.name] = (
                        str(recorded(data_calls[-1], "raw_path")),
                        recorded(data_calls[-1], "integration_id"),
                    )
            for _ in range(calls - 1):
                await server.call_tool(subject.tool, subject.arguments)
            hwm = server.vm_hwm_kb()
        except Exception:
            log(f"{subject.name} failed; its stderr:\n{server.stderr()}")
            raise
        finally:
            await server.close()
        return {
            "ready_s": ready,
            "ready_cpu_s": ready_cpu,
            "vm_hwm_kb": hwm,
            "verified_before_ready": verified,
        }

    def unshared_subject(self) -> Subject:
        """The main server keeping its limits in the process: what it costs without the local store."""
        main = self.main_subject()
        return Subject(
            f"{main.name}, limits not shared (UNIZO_RATE_LIMIT_BACKEND=process)",
            main.argv,
            main.service,
            main.module,
            settings={"UNIZO_RATE_LIMIT_BACKEND": "process"},
        )

    async def figures_1_5_6(self) -> None:
        unshared = self.unshared_subject()
        subjects = [self.floor, self.floor_http, *self.servers, unshared]
        samples: dict[str, list[dict[str, Any]]] = {s.name: [] for s in subjects}
        kept: dict[str, dict[str, Any]] = {}
        for round_no in range(self.rounds()):
            measured = round_no >= self.mode.warmup
            shift = round_no % len(subjects)
            order = subjects[shift:] + subjects[:shift]  # rotate so no subject always goes first
            for subject in order:
                keep = kept.setdefault(subject.name, {}) if measured and subject.name not in kept else None
                sample = await self.server_session(subject, self.mode.memory_calls, keep)
                if measured:
                    samples[subject.name].append(sample)
            log(
                f"cold start / memory round {round_no + 1}/{self.rounds()}"
                + ("" if measured else " (warm-up)")
            )

        floor_samples = samples[self.floor.name]
        floor_ready = median(s["ready_s"] for s in floor_samples)
        floor_cpu = median(s["ready_cpu_s"] for s in floor_samples)
        floor_hwm = median(s["vm_hwm_kb"] for s in floor_samples)
        cold: dict[str, Any] = {
            "unit": "s",
            "what": "spawn over stdio until initialize and tools/list answered, key verification included",
            "ratio_is": "median over rounds of (server / floor server measured in the same round)",
            "floor": {
                "samples": [s["ready_s"] for s in floor_samples],
                "median": floor_ready,
                "cpu_samples": [s["ready_cpu_s"] for s in floor_samples],
                "cpu_median": floor_cpu,
            },
            "target_max_ratio": COLD_START_MAX_RATIO,
            "servers": {},
        }
        memory: dict[str, Any] = {
            "unit": "kB",
            "what": f"VmHWM after initialize, tools/list and {self.mode.memory_calls} calls",
            "floor": {"samples": [s["vm_hwm_kb"] for s in floor_samples], "median": floor_hwm},
            "target_max_ratio": MEMORY_MAX_RATIO,
            "servers": {},
        }
        self.memory_rows: list[Row] = []
        http = samples[self.floor_http.name]
        http_ratio = paired_ratio(http, floor_samples, "ready_s")
        http_mem = paired_ratio(http, floor_samples, "vm_hwm_kb")
        cold["floor_with_aiohttp"] = {"samples": [s["ready_s"] for s in http], "ratio": http_ratio}
        memory["floor_with_aiohttp"] = {"samples": [s["vm_hwm_kb"] for s in http], "ratio": http_mem}
        self.rows.append(
            Row(
                "1 cold start",
                self.floor_http.name + " (reference)",
                fmt_s(median(s["ready_s"] for s in http)),
                f"{fmt_s(floor_ready)} floor server",
                f"{http_ratio:.2f}x",
                "-",
                None,
            )
        )
        self.memory_rows.append(
            Row(
                "5 peak RSS",
                self.floor_http.name + " (reference)",
                fmt_mib(median(s["vm_hwm_kb"] for s in http)),
                f"{fmt_mib(floor_hwm)} floor server",
                f"{http_mem:.2f}x",
                "-",
                None,
            )
        )
        for subject in self.servers:
            mine = samples[subject.name]
            ready = median(s["ready_s"] for s in mine)
            cpu = median(s["ready_cpu_s"] for s in mine)
            hwm = median(s["vm_hwm_kb"] for s in mine)
            verified = all(s["verified_before_ready"] for s in mine)
            # Paired: each round's floor was measured next to this server, so slow drifts in load cancel.
            ratio = paired_ratio(mine, floor_samples, "ready_s")
            over_http = paired_ratio(mine, http, "ready_s")
            cold_ok = ratio <= COLD_START_MAX_RATIO
            cold_dep = met_over_dependency(cold_ok, http_ratio, COLD_START_MAX_RATIO, over_http)
            cpu_ratio = median(
                a["ready_cpu_s"] / max(b["ready_cpu_s"], 1e-3)
                for a, b in zip(mine, floor_samples, strict=True)
            )
            cold["servers"][subject.name] = {
                "samples": [s["ready_s"] for s in mine],
                "median": ready,
                "ratio": ratio,
                "ratio_of_medians": ready / floor_ready,
                "cpu_samples": [s["ready_cpu_s"] for s in mine],
                "cpu_median": cpu,
                "cpu_ratio": cpu_ratio,
                "key_verified_before_ready": verified,
                "ratio_to_floor_with_aiohttp": over_http,
                "ok": cold_ok,
                "met_over_dependency": cold_dep,
            }
            self.rows.append(
                Row(
                    "1 cold start",
                    subject.name + ("" if verified else " (no key check seen!)"),
                    f"{fmt_s(ready)} (CPU {cpu:.2f} s)",
                    f"{fmt_s(floor_ready)} (CPU {floor_cpu:.2f} s) floor server",
                    f"{ratio:.2f}x (CPU {cpu_ratio:.2f}x; {over_http:.2f}x ref.)",
                    f"<= {COLD_START_MAX_RATIO}x",
                    cold_ok,
                    cold_dep,
                )
            )
            mem_ratio = paired_ratio(mine, floor_samples, "vm_hwm_kb")
            mem_over_http = paired_ratio(mine, http, "vm_hwm_kb")
            mem_ok = mem_ratio <= MEMORY_MAX_RATIO
            mem_dep = met_over_dependency(mem_ok, http_mem, MEMORY_MAX_RATIO, mem_over_http)
            memory["servers"][subject.name] = {
                "samples": [s["vm_hwm_kb"] for s in mine],
                "median": hwm,
                "ratio": mem_ratio,
                "ratio_to_floor_with_aiohttp": mem_over_http,
                "ok": mem_ok,
                "met_over_dependency": mem_dep,
            }
            self.memory_rows.append(
                Row(
                    "5 peak RSS",
                    subject.name,
                    fmt_mib(hwm),
                    f"{fmt_mib(floor_hwm)} floor server",
                    f"{mem_ratio:.2f}x ({mem_over_http:.2f}x ref.)",
                    f"<= {MEMORY_MAX_RATIO}x",
                    mem_ok,
                    mem_dep,
                )
            )
        # the local store's share: the same server with its limits kept in the process
        mine = samples[unshared.name]
        main = memory["servers"][self.main_subject().name]
        unshared_hwm = median(s["vm_hwm_kb"] for s in mine)
        memory["limits_not_shared"] = {
            "server": self.main_subject().name,
            "samples": [s["vm_hwm_kb"] for s in mine],
            "median": unshared_hwm,
            "ratio": paired_ratio(mine, floor_samples, "vm_hwm_kb"),
            "ratio_to_floor_with_aiohttp": paired_ratio(mine, http, "vm_hwm_kb"),
            "store_share_kb": main["median"] - unshared_hwm,
        }
        self.memory_rows.append(
            Row(
                "5 peak RSS",
                unshared.name,
                fmt_mib(unshared_hwm),
                f"{fmt_mib(floor_hwm)} floor server",
                f"{memory['limits_not_shared']['ratio']:.2f}x "
                f"({memory['limits_not_shared']['ratio_to_floor_with_aiohttp']:.2f}x ref.)",
                "-",
                None,
            )
        )
        self.results["1_cold_start"] = cold
        self.results["5_memory"] = memory
        cold["imports"] = await self.import_breakdown()
        await self.context_figure(kept)

    async def import_breakdown(self) -> dict[str, Any]:
        """Where start-up time goes: import time by top-level package, the main server against the floor.

        One extra start of each with `python -X importtime` (PYTHONPROFILEIMPORTTIME=1), up to
        `tools/list` answered; each module's own ("self") time is summed under its top-level package.
        The profiler slows imports down, so these times explain the cold-start gap; they do not add up to it.
        """
        subject = self.main_subject()
        by_package: dict[str, dict[str, float]] = {}
        for who in (subject, self.floor):
            env = {**self.env_for(who), "PYTHONPROFILEIMPORTTIME": "1"}
            server = StdioServer(who.argv, env, who.name)
            await server.start()
            try:
                await server.initialize()
                await server.list_tools()
                text = server.stderr(limit=1 << 30)
            finally:
                await server.close()
            by_package[who.name] = import_times(text)
        mine, floor = by_package[subject.name], by_package[self.floor.name]
        extra = {name: ms - floor.get(name, 0.0) for name, ms in mine.items()}
        top = sorted((n for n in extra if extra[n] > 0), key=lambda n: -extra[n])[:IMPORT_ROWS]
        log("import-time breakdown measured")
        return {
            "how": "python -X importtime, one extra start each up to tools/list; "
            "each module's self time summed by top-level package",
            "server": subject.name,
            "server_total_ms": sum(mine.values()),
            "floor_total_ms": sum(floor.values()),
            "extra_total_ms": sum(mine.values()) - sum(floor.values()),
            "extra_by_package_ms": {name: extra[name] for name in top},
            "server_by_package_ms": dict(sorted(mine.items(), key=lambda kv: -kv[1])),
            "floor_by_package_ms": dict(sorted(floor.items(), key=lambda kv: -kv[1])),
        }

    async def context_figure(self, kept: Mapping[str, Mapping[str, Any]]) -> None:
        """Figure 6: what the tool definitions and a 20-item list result cost in the model's context."""
        tokenizer = tokenizer_name()
        figure: dict[str, Any] = {
            "unit": f"bytes (compact JSON, UTF-8) and tokens ({tokenizer})",
            "tokenizer": tokenizer,
            "target_max_avg_tool_bytes": TOOL_DEF_MAX_BYTES,
            "servers": {},
        }
        texts: dict[tuple[str, str], str] = {}  # (server, what) -> the text whose tokens are counted
        for subject in self.servers:
            listed = kept[subject.name]["tools_list"]
            tools = listed["tools"]
            total = len(compact_json(listed))
            per_tool = {t["name"]: len(compact_json(t)) for t in tools}
            avg = sum(per_tool.values()) / len(per_tool)
            largest = max(per_tool, key=lambda n: per_tool[n])
            parts: dict[str, float] = {}
            for tool in tools:
                for key, value in tool.items():
                    parts[key] = parts.get(key, 0) + len(compact_json({key: value})) - 2
                prop = tool.get("inputSchema", {}).get("properties", {}).get("integration_id")
                if prop is not None:  # the parameter every data tool repeats
                    key = "inputSchema.properties.integration_id"
                    parts[key] = parts.get(key, 0) + len(compact_json({"integration_id": prop})) - 2
            texts[subject.name, "tools_list"] = compact_json(listed).decode()
            entry: dict[str, Any] = {
                "tools": len(tools),
                "avg_bytes_by_field": {k: round(v / len(tools)) for k, v in sorted(parts.items())},
                "tools_list_bytes": total,
                "avg_tool_bytes": avg,
                "largest_tool": {"name": largest, "bytes": per_tool[largest]},
                "per_tool_bytes": per_tool,
                "ok_tool_defs": avg < TOOL_DEF_MAX_BYTES,
            }
            figure["servers"][subject.name] = entry
            if subject.name not in self.raw_paths:  # its driven tool made no data request
                continue
            raw_path, integration_id = self.raw_paths[subject.name]
            raw = await self.sandbox.get_raw(raw_path, integration_id)
            raw_text = compact_json(json.loads(raw)).decode()
            raw_compact = len(raw_text.encode())
            result = kept[subject.name]["first_result"]
            text = "".join(c.get("text", "") for c in result.get("content", []) if c.get("type") == "text")
            structured = (
                compact_json(result["structuredContent"]).decode() if "structuredContent" in result else ""
            )
            # a host shows the model one of the two, never both: the larger is counted
            seen = max(text, structured, key=lambda t: len(t.encode()))
            texts[subject.name, "result"] = seen
            texts[subject.name, "raw"] = raw_text
            limit = MAIN_RESULT_MAX_RATIO if subject.service in (self.main_service, "*") else RESULT_MAX_RATIO
            items = result.get("structuredContent", {}).get("data")
            entry.update(
                {
                    "list_tool": subject.tool,
                    "list_items": len(items) if isinstance(items, list) else None,
                    "request": raw_path,
                    "result_text_bytes": len(text.encode()),
                    "result_structured_bytes": len(structured.encode()),
                    "result_wire_bytes": len(compact_json(result)),
                    "result_seen_bytes": len(seen.encode()),
                    "raw_api_bytes": len(raw),
                    "raw_api_compact_bytes": raw_compact,
                    "result_vs_raw": len(seen.encode()) / raw_compact,
                    "target_max_result_vs_raw": limit,
                    "ok_list_result": len(seen.encode()) <= limit * raw_compact,
                }
            )
        keys = list(texts)
        counted = dict(
            zip(keys, await asyncio.to_thread(count_tokens, [texts[k] for k in keys]), strict=True)
        )
        log(f"tokens counted ({tokenizer})")
        defs_rows: list[Row] = []
        list_rows: list[Row] = []
        for subject in self.servers:
            entry = figure["servers"][subject.name]
            tokens = counted[subject.name, "tools_list"]
            entry["tools_list_tokens"] = tokens
            entry["avg_tool_tokens"] = tokens / entry["tools"]
            total, avg = entry["tools_list_bytes"], entry["avg_tool_bytes"]
            defs_rows.append(
                Row(
                    "6 tools/list",
                    f"{subject.name}: {entry['tools']} tools, {fmt_bytes(total)} ({tokens:,} tok*)",
                    f"{fmt_bytes(avg)}/tool ({round(entry['avg_tool_tokens'])} tok*)",
                    "-",
                    "-",
                    f"avg < {TOOL_DEF_MAX_BYTES} B",
                    entry["ok_tool_defs"],
                )
            )
            if (subject.name, "result") not in counted:
                continue
            seen_tokens, raw_tokens = counted[subject.name, "result"], counted[subject.name, "raw"]
            entry.update(
                {
                    "result_tokens": seen_tokens,
                    "raw_api_tokens": raw_tokens,
                    "result_vs_raw_tokens": seen_tokens / raw_tokens,
                }
            )
            limit = entry["target_max_result_vs_raw"]
            list_rows.append(
                Row(
                    "6 list result",
                    f"{subject.name}: {subject.tool} x{entry['list_items']}",
                    f"{fmt_bytes(entry['result_seen_bytes'])} ({seen_tokens:,} tok*)",
                    f"{fmt_bytes(entry['raw_api_compact_bytes'])} ({raw_tokens:,} tok*) raw API (compact)",
                    f"{entry['result_vs_raw']:.2f}x ({seen_tokens / raw_tokens:.2f}x tok*)",
                    f"<= {limit:.2f}x",
                    entry["ok_list_result"],
                )
            )
        self.results["6_context"] = figure
        self.context_rows = defs_rows + list_rows

    async def figure_2_fast_paths(self) -> None:
        """`--version`, `--help`, `--print-config`: wall time, and whether the SDK got imported."""
        floor_argv = [sys.executable, "-c", "pass"]
        jobs: list[tuple[str, list[str], dict[str, str]]] = [("python -c pass", floor_argv, child_env({}))]
        for subject in self.servers:
            env = self.env_for(subject)
            jobs += [(f"{subject.name} {flag}", [*subject.argv, flag], env) for flag in FAST_FLAGS]
        samples: dict[str, list[float]] = {label: [] for label, _, _ in jobs}
        cpu: dict[str, list[float]] = {label: [] for label, _, _ in jobs}
        for round_no in range(self.rounds()):
            shift = round_no % len(jobs)
            for label, argv, env in jobs[shift:] + jobs[:shift]:
                elapsed, used = await asyncio.to_thread(wall_time, argv, env)
                if round_no >= self.mode.warmup:
                    samples[label].append(elapsed)
                    cpu[label].append(used)
        log("fast paths measured")
        imports: dict[str, list[str]] = {}
        for label, argv, env in jobs[1:]:
            imports[label] = await asyncio.to_thread(heavy_imports, argv, env)
        floor = median(samples["python -c pass"])
        figure: dict[str, Any] = {
            "unit": "s",
            "floor": {
                "label": "python -c pass",
                "samples": samples["python -c pass"],
                "median": floor,
                "cpu_median": median(cpu["python -c pass"]),
            },
            "target_max_s": FAST_PATH_MAX_S,
            "commands": {},
        }
        for label, _, _ in jobs[1:]:
            value = median(samples[label])
            figure["commands"][label] = {
                "samples": samples[label],
                "median": value,
                "ratio": value / floor,
                "cpu_samples": cpu[label],
                "cpu_median": median(cpu[label]),
                "heavy_imports": imports[label],
                "ok": value < FAST_PATH_MAX_S,
            }
            heavy = imports[label]
            self.rows.append(
                Row(
                    "2 fast path",
                    label + (f" (imports {', '.join(heavy)})" if heavy else ""),
                    f"{fmt_s(value)} (CPU {median(cpu[label]):.3f} s)",
                    f"{fmt_s(floor)} (CPU {median(cpu['python -c pass']):.3f} s) python -c pass",
                    f"{value - floor:+.3f} s",
                    f"< {FAST_PATH_MAX_S} s",
                    value < FAST_PATH_MAX_S,
                )
            )
        self.results["2_fast_paths"] = figure

    async def figure_3_per_call(self) -> None:
        """Sequential read calls through the EDR server over stdio vs the same GET made directly.

        The floor server, answering the same page from memory, is measured alongside: it is the SDK's
        and the pipe's share of the overhead, which a server built on the SDK cannot go below.
        """
        subject = self.main_subject()
        server = StdioServer(subject.argv, self.env_for(subject), subject.name)
        floor = StdioServer(self.floor.argv, self.env_for(self.floor), self.floor.name)
        fetching = StdioServer(self.floor_http.argv, self.env_for(self.floor_http), self.floor_http.name)
        # the same server with its limits kept in the process: the local store's share of the core's cost
        alone = StdioServer(
            subject.argv,
            self.env_for(subject, UNIZO_RATE_LIMIT_BACKEND="process"),
            f"{subject.name} (process)",
        )
        await server.start()
        await floor.start()
        await fetching.start()
        await alone.start()
        try:
            await server.initialize()
            await floor.initialize()
            await fetching.initialize()
            await alone.initialize()
            await self.choose_tool(subject, (await server.list_tools())["tools"])
            assert subject.tool is not None and self.floor.tool is not None
            self.sandbox.clear_requests()
            tool, arguments = subject.tool, subject.arguments
            await server.call_tool(tool, arguments)
            last = [r for r in self.sandbox.requests() if is_data_call(r)][-1]
            raw_path, integration_id = str(recorded(last, "raw_path")), recorded(last, "integration_id")
            floor_tool, floor_arguments = self.floor.tool, self.floor.arguments

            async def via_server() -> None:
                await server.call_tool(tool, arguments)

            async def direct() -> None:
                await self.sandbox.get_raw(raw_path, integration_id)

            async def via_floor() -> None:
                await floor.call_tool(floor_tool, floor_arguments)

            async def via_fetching_floor() -> None:
                await fetching.call_tool(floor_tool, floor_arguments)

            async def via_server_alone() -> None:
                await alone.call_tool(tool, arguments)

            processes = {"server": server, "floor": floor, "fetch": fetching, "alone": alone}
            calls = [
                ("server", via_server),
                ("direct", direct),
                ("floor", via_floor),
                ("fetch", via_fetching_floor),
                ("alone", via_server_alone),
            ]
            for _ in range(self.mode.call_warmup):
                for _, fn in calls:
                    await fn()
            runs: list[dict[str, Any]] = []
            for round_no in range(self.mode.call_runs):
                shift = round_no % len(calls)
                run: dict[str, Any] = {}
                for label, fn in calls[shift:] + calls[:shift]:
                    process = processes.get(label)
                    cpu_before = process.cpu_s() if process is not None else 0.0
                    run[label] = await timed_calls(fn, self.mode.calls)
                    if process is not None:
                        run[f"{label}_cpu_ms"] = (process.cpu_s() - cpu_before) * 1000 / self.mode.calls
                runs.append(run)
                log(f"per-call round {round_no + 1}/{self.mode.call_runs}")
            # Every data request of this figure, the server's and the direct ones, had one request line.
            sent = [r for r in self.sandbox.requests() if is_data_call(r)]
            lines = {
                (recorded(r, "method"), recorded(r, "raw_path"), recorded(r, "integration_id")) for r in sent
            }
            same = len(lines) == 1
        except Exception:
            log(f"{subject.name} failed; its stderr:\n{server.stderr()}")
            raise
        finally:
            await server.close()
            await floor.close()
            await fetching.close()
            await alone.close()

        labels = ("server", "direct", "floor", "fetch", "alone")

        def stat(label: str, pct: float) -> float:
            return median(percentile(run[label], pct) for run in runs)

        def over(pct: float, minus: Sequence[str], label: str = "server") -> float:
            return median(percentile(r[label], pct) - sum(percentile(r[m], pct) for m in minus) for r in runs)

        def cpu_over(label: str, base: str) -> float:
            return median(r[f"{label}_cpu_ms"] / r[f"{base}_cpu_ms"] for r in runs if r[f"{base}_cpu_ms"] > 0)

        overhead_p50, overhead_p99 = over(50, ["direct"]), over(99, ["direct"])
        server_cpu = median(r["server_cpu_ms"] for r in runs)
        floor_cpu = median(r["floor_cpu_ms"] for r in runs)
        fetch_cpu = median(r["fetch_cpu_ms"] for r in runs)
        over_floor = over(50, ["floor"])
        cpu_ratio = cpu_over("server", "floor")
        # the floor making the same request with aiohttp: the dependency's share, and the core's over it
        fetch_over_floor, server_over_fetch = over(50, ["floor"], "fetch"), over(50, ["fetch"])
        fetch_cpu_ratio, server_cpu_over_fetch = cpu_over("fetch", "floor"), cpu_over("server", "fetch")
        # the same server limiting itself alone: what sharing the limits through the local store costs
        alone_cpu = median(r["alone_cpu_ms"] for r in runs)
        alone_cpu_ratio, alone_cpu_over_fetch = cpu_over("alone", "floor"), cpu_over("alone", "fetch")
        ok_latency, ok_cpu = over_floor <= CALL_OVER_FLOOR_MAX_MS, cpu_ratio <= CALL_CPU_MAX_RATIO
        dep_latency = met_over_dependency(
            ok_latency, fetch_over_floor, CALL_OVER_FLOOR_MAX_MS, server_over_fetch
        )
        dep_cpu = met_over_dependency(ok_cpu, fetch_cpu_ratio, CALL_CPU_MAX_RATIO, server_cpu_over_fetch)
        self.results["3_per_call"] = {
            "unit": "ms",
            "server": subject.name,
            "tool": tool,
            "request": raw_path,
            "same_http_request": same,
            "calls_per_run": self.mode.calls,
            "runs": [
                {
                    **{
                        label: {"p50": percentile(r[label], 50), "p99": percentile(r[label], 99)}
                        for label in labels
                    },
                    "server_cpu_ms_per_call": r["server_cpu_ms"],
                    "floor_cpu_ms_per_call": r["floor_cpu_ms"],
                    "fetch_cpu_ms_per_call": r["fetch_cpu_ms"],
                    "alone_cpu_ms_per_call": r["alone_cpu_ms"],
                }
                for r in runs
            ],
            **{f"{label}_p50": stat(label, 50) for label in labels},
            **{f"{label}_p99": stat(label, 99) for label in labels},
            "overhead_p50": overhead_p50,
            "overhead_p99": overhead_p99,
            # server - direct - floor: what is left without the HTTP round trip and the SDK cost
            "core_share_p50": over(50, ["direct", "floor"]),
            "server_process_cpu_ms_per_call": server_cpu,
            "floor_process_cpu_ms_per_call": floor_cpu,
            "fetch_process_cpu_ms_per_call": fetch_cpu,
            "alone_process_cpu_ms_per_call": alone_cpu,
            "alone_cpu_ratio": alone_cpu_ratio,
            "over_floor_p50": over_floor,
            "target_max_over_floor_p50": CALL_OVER_FLOOR_MAX_MS,
            "cpu_ratio": cpu_ratio,
            "target_max_cpu_ratio": CALL_CPU_MAX_RATIO,
            "fetch_over_floor_p50": fetch_over_floor,
            "server_over_fetch_p50": server_over_fetch,
            "fetch_cpu_ratio": fetch_cpu_ratio,
            "server_cpu_ratio_to_fetch": server_cpu_over_fetch,
            "ok_latency": ok_latency,
            "ok_cpu": ok_cpu,
            "latency_met_over_dependency": dep_latency,
            "cpu_met_over_dependency": dep_cpu,
            "ok": ok_latency and ok_cpu,
        }
        what = f"{tool} x{self.mode.calls}"
        self.rows += [
            Row(
                "3 per call p50",
                f"{self.floor_http.name} (reference)",
                fmt_ms(stat("fetch", 50)),
                f"{fmt_ms(stat('floor', 50))} floor server, raw page",
                f"{fetch_over_floor:+.2f} ms",
                "-",
                None,
            ),
            Row(
                "3 per call p50",
                what,
                fmt_ms(stat("server", 50)),
                f"{fmt_ms(stat('floor', 50))} floor server, raw page",
                f"{over_floor:+.2f} ms ({server_over_fetch:+.2f} ms ref.)",
                f"<= +{CALL_OVER_FLOOR_MAX_MS:g} ms",
                ok_latency,
                dep_latency,
            ),
            Row(
                "3 per call p50",
                "the same GET made directly (aiohttp)",
                fmt_ms(stat("direct", 50)),
                "-",
                f"server {overhead_p50:+.2f} ms",
                "-",
                None,
            ),
            Row(
                "3 per call p99",
                what,
                fmt_ms(stat("server", 99)),
                f"{fmt_ms(stat('direct', 99))} aiohttp direct",
                f"+{overhead_p99:.2f} ms",
                "-",
                None,
            ),
            Row(
                "3 CPU per call",
                f"{self.floor_http.name} process (reference)",
                fmt_ms(fetch_cpu),
                f"{fmt_ms(floor_cpu)} floor server process",
                f"{fetch_cpu_ratio:.2f}x",
                "-",
                None,
            ),
            Row(
                "3 CPU per call",
                f"{subject.name} process",
                fmt_ms(server_cpu),
                f"{fmt_ms(floor_cpu)} floor server process",
                f"{cpu_ratio:.2f}x ({server_cpu_over_fetch:.2f}x ref.)",
                f"<= {CALL_CPU_MAX_RATIO:g}x",
                ok_cpu,
                dep_cpu,
            ),
            Row(
                "3 CPU per call",
                f"{subject.name} process, limits not shared (UNIZO_RATE_LIMIT_BACKEND=process)",
                fmt_ms(alone_cpu),
                f"{fmt_ms(floor_cpu)} floor server process",
                f"{alone_cpu_ratio:.2f}x ({alone_cpu_over_fetch:.2f}x ref.)",
                "-",
                None,
            ),
        ]

    async def figure_4_concurrency(self) -> None:
        """200 calls in flight through one server against the product's limits with a scaled-down window."""
        subject = self.main_subject()
        # The server is configured with exactly the sandbox's limits, as a user would configure the
        # product's, and counts them over the same scaled-down window (UNIZO_RATE_WINDOW).
        settings = {
            "UNIZO_RATE_LIMIT": CONC_RATE_LIMIT,
            "UNIZO_MAX_CONCURRENCY": CONC_MAX_CONCURRENCY,
            "UNIZO_RATE_WINDOW": CONC_WINDOW_S,
        }
        limits = {
            "rate_limit": CONC_RATE_LIMIT,
            "rate_window": CONC_WINDOW_S,
            "max_concurrency": CONC_MAX_CONCURRENCY,
            "daily_quota": OPEN_LIMITS["daily_quota"],
        }
        runs: list[dict[str, Any]] = []
        try:
            # Reference: the same 200 calls with only the concurrency cap, i.e. what this machine can carry.
            unthrottled = await self.concurrency_run(
                subject,
                {**settings, "UNIZO_RATE_LIMIT": OPEN_LIMITS["rate_limit"], "UNIZO_RATE_WINDOW": 60},
                {**limits, "rate_limit": OPEN_LIMITS["rate_limit"], "rate_window": 60.0},
            )
            capacity = unthrottled["admitted"] / unthrottled["admitted_span_s"]
            log(f"concurrency: unthrottled capacity {capacity:.0f} calls/s")
            for round_no in range(self.mode.conc_runs):
                runs.append(await self.concurrency_run(subject, settings, limits))
                log(f"concurrency round {round_no + 1}/{self.mode.conc_runs}: {runs[-1]['use']:.1%}")
        finally:
            self.sandbox.set_limits(**OPEN_LIMITS, rate_window=60.0)
        use = median(r["use"] for r in runs)
        typical = sorted(runs, key=lambda r: r["use"])[len(runs) // 2]
        throttled = sum(r["status_429"] for r in runs)
        failed = sum(r["failed_calls"] for r in runs)
        max_in_flight = max(r["max_in_flight"] for r in runs)
        ok = use >= RATE_USE_MIN and throttled == 0 and failed == 0
        self.results["4_concurrency"] = {
            "server": subject.name,
            "calls_in_flight": CONC_CALLS,
            "sandbox_limits": limits,
            "server_settings": settings,
            "allowance_per_s": CONC_RATE_LIMIT / CONC_WINDOW_S,
            "use_is": "admitted / (bucket size + refill rate x time from first to last admitted request)",
            "unthrottled_capacity_per_s": capacity,
            "unthrottled_run": unthrottled,
            "runs": runs,
            "use": use,
            "status_429_total": throttled,
            "failed_calls_total": failed,
            # The sandbox's own count; its handlers do not yield, so it sees one request at a time.
            "sandbox_max_in_flight": max_in_flight,
            "target_min_use": RATE_USE_MIN,
            "ok": ok,
        }
        self.rows.append(
            Row(
                "4 rate use",
                f"{CONC_CALLS} in flight; {CONC_RATE_LIMIT}/{CONC_WINDOW_S:g} s, max {CONC_MAX_CONCURRENCY}",
                f"{typical['admitted']} in {typical['admitted_span_s']:.2f} s, {throttled} x 429",
                f"{typical['allowance_in_span']:.0f} allowed (unthrottled: {capacity:.0f}/s)",
                f"{use:.1%}",
                f">= {RATE_USE_MIN:.0%}, 0 x 429",
                ok,
            )
        )

    async def concurrency_run(
        self, subject: Subject, settings: Mapping[str, Any], limits: Mapping[str, Any]
    ) -> dict[str, Any]:
        # Each run starts from a full bucket on both sides: the sandbox's new limits, and a store of the
        # run's own (the previous run's calls would otherwise still be in the shared bucket).
        cache = tempfile.mkdtemp(prefix="unizo-bench-cache-", dir=self.sandbox.cache_dir.parent)
        env = {**self.env_for(subject, **settings), "XDG_CACHE_HOME": cache}
        server = StdioServer(subject.argv, env, subject.name)
        await server.start()
        try:
            await server.initialize()
            await self.choose_tool(subject, (await server.list_tools())["tools"])
            assert subject.tool is not None
            self.sandbox.set_limits(**limits)  # new limits start with a full bucket
            self.sandbox.clear_requests()
            start = time.perf_counter()
            futures = [
                server.send_request("tools/call", {"name": subject.tool, "arguments": subject.arguments})
                for _ in range(CONC_CALLS)
            ]
            answers = await asyncio.wait_for(asyncio.gather(*futures), 300)
            elapsed = time.perf_counter() - start
        except Exception:
            log(f"{subject.name} failed; its stderr:\n{server.stderr()}")
            raise
        finally:
            await server.close()
        failed = [a for a in answers if "error" in a or a.get("result", {}).get("isError")]
        seen = [r for r in self.sandbox.requests() if is_data_call(r)]
        statuses = [int(recorded(r, "status")) for r in seen]
        admitted = sorted(
            float(recorded(r, "timestamp")) for r, s in zip(seen, statuses, strict=True) if s != 429
        )
        span = admitted[-1] - admitted[0] if len(admitted) > 1 else float("nan")
        rate_per_s = limits["rate_limit"] / limits["rate_window"]
        # What the bucket allows in `span`: a full bucket at the first request, then the refill.
        allowance = limits["rate_limit"] + span * rate_per_s
        return {
            "elapsed_s": elapsed,
            "admitted": len(admitted),
            "admitted_span_s": span,
            "allowance_in_span": allowance,
            "use": len(admitted) / allowance,
            "achieved_per_s": len(admitted) / span if span > 0 else float("nan"),
            "status_429": statuses.count(429),
            "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
            "failed_calls": len(failed),
            "failure_sample": json.dumps(failed[0])[:500] if failed else None,
            "max_in_flight": self.max_in_flight(),
        }

    async def figure_7_shared_key(self) -> None:
        """Two servers on one key, driven at once: the achieved rate over the allowance, and 429s."""
        subject = self.main_subject()
        settings = {
            "UNIZO_RATE_LIMIT": CONC_RATE_LIMIT,
            "UNIZO_MAX_CONCURRENCY": CONC_MAX_CONCURRENCY,
            "UNIZO_RATE_WINDOW": CONC_WINDOW_S,
            "UNIZO_RETRY_ATTEMPTS": 0,  # a 429 is counted, not retried away
        }
        limits = {
            "rate_limit": CONC_RATE_LIMIT,
            "rate_window": CONC_WINDOW_S,
            "max_concurrency": CONC_MAX_CONCURRENCY,
            "daily_quota": OPEN_LIMITS["daily_quota"],
        }
        by_backend: dict[str, list[dict[str, Any]]] = {}
        try:
            for backend in SHARED_BACKENDS:
                rounds = self.mode.conc_runs if backend == "local" else 1  # the contrast: one round
                for round_no in range(rounds):
                    run = await self.shared_run(
                        subject, {**settings, "UNIZO_RATE_LIMIT_BACKEND": backend}, limits
                    )
                    by_backend.setdefault(backend, []).append(run)
                    log(
                        f"shared key ({backend}) round {round_no + 1}/{rounds}: {run['use']:.1%}, "
                        f"{run['status_429']} x 429"
                    )
        finally:
            self.sandbox.set_limits(**OPEN_LIMITS, rate_window=60.0)
        shared = by_backend["local"]
        use = median(r["use"] for r in shared)
        typical = sorted(shared, key=lambda r: r["use"])[len(shared) // 2]
        throttled = sum(r["status_429"] for r in shared)
        failed = sum(r["failed_calls"] for r in shared)
        ok = use >= SHARED_USE_MIN and throttled == 0 and failed == 0
        alone = by_backend["process"][0]
        self.results["7_shared_key"] = {
            "server": subject.name,
            "servers": SHARED_SERVERS,
            "calls_in_flight": CONC_CALLS,
            "sandbox_limits": limits,
            "server_settings": settings,
            "allowance_per_s": CONC_RATE_LIMIT / CONC_WINDOW_S,
            "use_is": "admitted / (bucket size + refill rate x time from first to last admitted request)",
            "runs": by_backend,
            "use": use,
            "status_429_total": throttled,
            "failed_calls_total": failed,
            "sandbox_max_in_flight": max(r["max_in_flight"] for r in shared),
            "alone": alone,
            "target_min_use": SHARED_USE_MIN,
            "ok": ok,
        }
        label = f"{SHARED_SERVERS} servers, {CONC_CALLS} calls; {CONC_RATE_LIMIT}/{CONC_WINDOW_S:g} s"
        self.rows.append(
            Row(
                "7 shared key",
                f"{label}, local store",
                f"{typical['admitted']} in {typical['admitted_span_s']:.2f} s, {throttled} x 429",
                f"{typical['allowance_in_span']:.0f} allowed",
                f"{use:.1%}",
                f">= {SHARED_USE_MIN:.0%}, 0 x 429",
                ok,
            )
        )
        self.rows.append(
            Row(
                "7 shared key",
                f"{label}, each alone (process)",
                f"{alone['admitted']} in {alone['admitted_span_s']:.2f} s, {alone['status_429']} x 429",
                f"{alone['allowance_in_span']:.0f} allowed",
                f"{alone['use']:.1%}",
                "-",
                None,
            )
        )

    async def shared_run(
        self, subject: Subject, settings: Mapping[str, Any], limits: Mapping[str, Any]
    ) -> dict[str, Any]:
        """CONC_CALLS calls written at once, split between SHARED_SERVERS servers on one key."""
        with tempfile.TemporaryDirectory(
            prefix="unizo-bench-cache-", dir=self.sandbox.cache_dir.parent
        ) as cache:
            env = {**self.env_for(subject, **settings), "XDG_CACHE_HOME": cache}  # their own local store
            servers = [
                StdioServer(subject.argv, env, f"{subject.name} #{n + 1}") for n in range(SHARED_SERVERS)
            ]
            try:
                await asyncio.gather(*(s.start() for s in servers))
                await asyncio.gather(*(s.initialize() for s in servers))
                for server in servers:
                    await self.choose_tool(subject, (await server.list_tools())["tools"])
                assert subject.tool is not None
                self.sandbox.set_limits(**limits)  # new limits start with a full bucket
                self.sandbox.clear_requests()
                start = time.perf_counter()
                futures = [
                    servers[n % SHARED_SERVERS].send_request(
                        "tools/call", {"name": subject.tool, "arguments": subject.arguments}
                    )
                    for n in range(CONC_CALLS)
                ]
                answers = await asyncio.wait_for(asyncio.gather(*futures), 300)
                elapsed = time.perf_counter() - start
            except Exception:
                for server in servers:
                    log(f"{server.label} failed; its stderr:\n{server.stderr()}")
                raise
            finally:
                await asyncio.gather(*(s.close() for s in servers), return_exceptions=True)
        failed = [a for a in answers if "error" in a or a.get("result", {}).get("isError")]
        seen = [r for r in self.sandbox.requests() if is_data_call(r)]
        statuses = [int(recorded(r, "status")) for r in seen]
        admitted = sorted(
            float(recorded(r, "timestamp")) for r, s in zip(seen, statuses, strict=True) if s != 429
        )
        span = admitted[-1] - admitted[0] if len(admitted) > 1 else float("nan")
        allowance = limits["rate_limit"] + span * limits["rate_limit"] / limits["rate_window"]
        return {
            "backend": settings["UNIZO_RATE_LIMIT_BACKEND"],
            "elapsed_s": elapsed,
            "admitted": len(admitted),
            "admitted_span_s": span,
            "allowance_in_span": allowance,
            "use": len(admitted) / allowance,
            "achieved_per_s": len(admitted) / span if span > 0 else float("nan"),
            "status_429": statuses.count(429),
            "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
            "failed_calls": len(failed),
            "failure_sample": json.dumps(failed[0])[:500] if failed else None,
            "max_in_flight": self.max_in_flight(),
        }

    def max_in_flight(self) -> int:
        value = self.sandbox.handle.max_in_flight
        value = value() if callable(value) else value
        if isinstance(value, Mapping):
            return max(value.values(), default=0)
        return int(value)


async def timed_calls(fn: Callable[[], Any], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


IMPORT_LINE = re.compile(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s?(\s*)(\S+)")
IMPORT_SELF = re.compile(r"^import time:\s+(\d+)\s+\|\s+\d+\s+\|\s*(\S+)")


def import_times(stderr: str) -> dict[str, float]:
    """ms of import time by top-level package: each module's self time, from `-X importtime` output."""
    totals: dict[str, float] = {}
    for line in stderr.splitlines():
        match = IMPORT_SELF.match(line)
        if match:
            top = match.group(2).split(".")[0]
            totals[top] = totals.get(top, 0.0) + int(match.group(1)) / 1000
    return totals


def heavy_imports(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """Top-level heavy packages a command imports (from `python -X importtime`)."""
    import subprocess

    env = {**env, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    found = set()
    for line in done.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            top = match.group(2).split(".")[0]
            if top in HEAVY_MODULES:
                found.add(top)
    return sorted(found)


# --- main ------------------------------------------------------------------------------------


async def run_figures(bench: Bench, only: set[str] | None, state_dir: Path) -> None:
    await bench.sandbox.open()
    try:
        await bench.prepare(state_dir)
        if not only or "2" in only:
            await bench.figure_2_fast_paths()
        if not only or only & {"1", "5", "6"}:
            await bench.figures_1_5_6()
        if not only or "3" in only:
            await bench.figure_3_per_call()
        if not only or "4" in only:
            await bench.figure_4_concurrency()
        if not only or "7" in only:
            await bench.figure_7_shared_key()
    finally:
        await bench.sandbox.close()


def parameters(bench: Bench) -> dict[str, Any]:
    """What the run was configured with, for the README's generated section."""
    return {
        "page": PAGE,
        "servers": [s.name for s in bench.servers],
        "main_server": bench.main_subject().name,
        "open_limits": OPEN_LIMITS,
        "fast_flags": list(FAST_FLAGS),
        "concurrency": {
            "calls": CONC_CALLS,
            "rate_limit": CONC_RATE_LIMIT,
            "window_s": CONC_WINDOW_S,
            "max_concurrency": CONC_MAX_CONCURRENCY,
        },
        "shared_key": {"servers": SHARED_SERVERS, "backends": list(SHARED_BACKENDS)},
        "targets": {
            "cold_start_max_ratio": COLD_START_MAX_RATIO,
            "fast_path_max_s": FAST_PATH_MAX_S,
            "call_over_floor_max_ms": CALL_OVER_FLOOR_MAX_MS,
            "call_cpu_max_ratio": CALL_CPU_MAX_RATIO,
            "main_result_max_ratio": MAIN_RESULT_MAX_RATIO,
            "result_max_ratio": RESULT_MAX_RATIO,
            "rate_use_min": RATE_USE_MIN,
            "shared_use_min": SHARED_USE_MIN,
            "memory_max_ratio": MEMORY_MAX_RATIO,
            "tool_def_max_bytes": TOOL_DEF_MAX_BYTES,
        },
    }


def versioned_packages() -> list[str]:
    """The distributions whose versions are recorded: the workspace's (from the registry), then others."""
    from unizo_mcp_core.registry import (
        ALL_IN_ONE_PACKAGE,
        CORE_PACKAGE,
        installed_service_names,
        package_name,
    )

    services = [package_name(name) for name in installed_service_names()]
    return [CORE_PACKAGE, "unizo-mcp-sandbox", *services, ALL_IN_ONE_PACKAGE, *THIRD_PARTY]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--smoke", action="store_true", help="one run of each figure, no warm-up, no targets asserted"
    )
    parser.add_argument("--runs", type=int, help="measured runs per figure (default 5; smoke 1)")
    parser.add_argument("--only", help="comma-separated figure numbers, e.g. 1,3 (5 and 6 come with 1)")
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the JSON (default: bench/results.json for a complete full run, "
        "else bench/results/<mode>.json)",
    )
    parser.add_argument("--no-assert", action="store_true", help="do not judge the figures against targets")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a target is missed (default: mark it MISSED, exit 0)",
    )
    readme = parser.add_mutually_exclusive_group()
    readme.add_argument(
        "--write-readme",
        action="store_true",
        help="only rewrite the generated section of bench/README.md from bench/results.json",
    )
    readme.add_argument(
        "--check-readme",
        action="store_true",
        help="only check that bench/README.md's generated section is what bench/results.json gives "
        "and that its hand-written text states no measured number; exit 1 if not",
    )
    args = parser.parse_args(argv)
    if args.write_readme:
        changed = write_readme(RESULTS, README)
        print(
            f"{README.relative_to(ROOT)} {'rewritten' if changed else 'already up to date'} from "
            f"{RESULTS.relative_to(ROOT)}"
        )
        return 0
    if args.check_readme:
        problems = check_readme(RESULTS, README)
        for problem in problems:
            print(problem)
        if problems:
            print(
                "fix: python bench/run_bench.py --write-readme; "
                "keep measured numbers out of the hand-written text"
            )
            return 1
        print(f"{README.relative_to(ROOT)} agrees with {RESULTS.relative_to(ROOT)}")
        return 0

    mode = SMOKE if args.smoke else FULL
    if args.runs:
        few = min(args.runs, mode.call_runs)
        mode = Mode(**{**mode.__dict__, "runs": args.runs, "call_runs": few, "conc_runs": few})
    if args.no_assert:
        mode = Mode(**{**mode.__dict__, "assert_targets": False})
    only = set(args.only.split(",")) if args.only else None
    # Only a complete, standard full run may replace bench/results.json (and so the README's numbers).
    standard = mode.name == "full" and not only and not args.runs and not args.no_assert
    label = mode.name if standard or mode.name != "full" else "partial"
    out = args.out or (RESULTS if standard else BENCH / "results" / f"{label}.json")

    if only is None or only & {"1", "5", "6"}:
        try:
            tokenizer_name()  # figure 6 needs it: fail before the figures, not after them
        except TokenizerMissing as missing:
            log(str(missing))
            return 2
    started = time.perf_counter()
    machine = machine_info(ROOT, versioned_packages())
    cores = machine["cpu_cores_usable"]
    log(f"{mode.name} run on {machine['cpu_model']} ({cores} usable cores), {machine['python']}")
    with tempfile.TemporaryDirectory(prefix="unizo-bench-") as state:
        bench = Bench(mode, Sandbox(Path(state)))
        if not bench.servers:
            bench.sandbox.handle.stop()
            log("no Unizo server is installed; install the workspace first (see bench/README.md)")
            return 2
        asyncio.run(run_figures(bench, only, Path(state)))
    duration = time.perf_counter() - started

    order = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
    rows = bench.rows + getattr(bench, "memory_rows", []) + getattr(bench, "context_rows", [])
    rows.sort(key=lambda r: order[r.figure[0]])
    headers = ["figure", "subject", "value", "floor", "vs floor", "target", "status"]
    table = render_table(headers, [r.cells(mode.assert_targets) for r in rows])
    missed = [f"{r.figure}: {r.subject}" for r in rows if r.missed]
    dependency = [f"{r.figure}: {r.subject}" for r in rows if r.dependency]
    print(table)
    print()
    if "6_context" in bench.results:
        tokenizer = bench.results["6_context"]["tokenizer"]
        print(f"* tok = tokens counted with {tokenizer}; other models' tokenizers give other counts.")
    print(f"ref. = against the {REFERENCE}. {DEPENDENCY_STATUS} = {DEPENDENCY_NOTE}.")
    print(
        f"{mode.name} run, {duration:.0f} s, {machine['cpu_model']}, {machine['cpu_cores_usable']} cores, "
        f"{machine['python']}, {machine['date']}"
    )
    payload = {
        "mode": mode.name,
        "duration_s": round(duration, 1),
        "machine": machine,
        "settings": mode.__dict__,
        "figures": bench.results,
        "table": [dict(zip(headers, r.cells(mode.assert_targets), strict=True)) for r in rows],
        "table_markdown": table,
        "targets_missed": missed,
        "targets_met_over_dependency": dependency,
        "parameters": parameters(bench),
    }
    machine["load_average_at_end"] = (
        [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, payload)
    print(f"results written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if standard and out == RESULTS:
        write_readme(RESULTS, README)
        print(f"{README.relative_to(ROOT)}: generated section rewritten from {RESULTS.relative_to(ROOT)}")
    if missed:
        print(
            f"{len(missed)} target(s) missed" + ("" if mode.assert_targets else " (smoke run: not asserted)")
        )
        if mode.assert_targets and args.strict:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
