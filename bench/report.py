"""bench/README.md's numbers, written from bench/results.json alone.

The README has one generated section, between `BEGIN` and `END`: the run, its parameters, the table and
a summary per figure, all derived from results.json. `run_bench.py` rewrites it after every full run and
on `--write-readme`; `--check-readme` fails when the section differs from what results.json gives, or when
the hand-written text around it states a measured number (a decimal, or a number with a unit, outside code),
so the README can never claim what the last run did not measure.

Standard library only: the check runs without the workspace installed (`python3 bench/run_bench.py
--check-readme`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
README = BENCH / "README.md"
RESULTS = BENCH / "results.json"
BEGIN = (
    "<!-- BEGIN GENERATED from results.json by `python bench/run_bench.py --write-readme`; do not edit -->"
)
END = "<!-- END GENERATED from results.json -->"
REFERENCE = "floor server + aiohttp request + SQLite"
DEPENDENCY_STATUS = "ok (dep.)"
DEPENDENCY_NOTE = (
    f"missed against the floor server, but the {REFERENCE} misses that target on its own, "
    "and against it the server meets the target"
)


# --- formatting ------------------------------------------------------------------------------------------


def span(values: Iterable[float], fmt: str) -> str:
    """ "1.20-1.22" for a range, "1.20" when every value prints the same."""
    shown = sorted(values)
    if not shown:
        return "-"
    low, high = format(shown[0], fmt), format(shown[-1], fmt)
    return low if low == high else f"{low}-{high}"


def names(items: Sequence[str]) -> str:
    quoted = [f"`{n}`" for n in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def verdict(judged: Mapping[str, bool], what: str = "server") -> str:
    met = [n for n, ok in judged.items() if ok]
    missed = [n for n, ok in judged.items() if not ok]
    if not missed:
        return f"met by every {what}"
    if not met:
        return f"missed by every {what}"
    return f"met by {names(met)}; missed by {names(missed)}"


def server_verdict(servers: Mapping[str, Mapping[str, Any]]) -> str:
    """`verdict` over per-server results, naming those that meet the target only against the reference."""
    dependency = [n for n, s in servers.items() if not s["ok"] and s.get("met_over_dependency")]
    others = {n: bool(s["ok"]) for n, s in servers.items() if n not in dependency}
    if not dependency:
        return verdict(others)
    text = f"met only against the {REFERENCE}, which misses it alone, by {names(dependency)}"
    return text + (f"; {verdict(others, 'other server')}" if others else "")


def mib(kb: float) -> str:
    return f"{kb / 1024:.1f} MiB"


def number(value: float) -> str:
    return f"{value:,.0f}"


# --- the section -----------------------------------------------------------------------------------------


def _page(results: Mapping[str, Any]) -> int | None:
    page = results.get("parameters", {}).get("page")
    if page is None:
        request = results.get("figures", {}).get("3_per_call", {}).get("request", "")
        match = re.search(r"[?&]limit=(\d+)", request)
        page = int(match.group(1)) if match else None
    return int(page) if page is not None else None


def _servers(results: Mapping[str, Any]) -> list[str]:
    listed = results.get("parameters", {}).get("servers")
    if listed:
        return list(listed)
    figures = results.get("figures", {})
    for key in ("1_cold_start", "5_memory", "6_context"):
        if figures.get(key, {}).get("servers"):
            return list(figures[key]["servers"])
    return []


def _targets(results: Mapping[str, Any]) -> dict[str, float]:
    targets = dict(results.get("parameters", {}).get("targets", {}))
    figures = results.get("figures", {})
    found = {
        "cold_start_max_ratio": figures.get("1_cold_start", {}).get("target_max_ratio"),
        "fast_path_max_s": figures.get("2_fast_paths", {}).get("target_max_s"),
        "call_over_floor_max_ms": figures.get("3_per_call", {}).get("target_max_over_floor_p50"),
        "call_cpu_max_ratio": figures.get("3_per_call", {}).get("target_max_cpu_ratio"),
        "rate_use_min": figures.get("4_concurrency", {}).get("target_min_use"),
        "memory_max_ratio": figures.get("5_memory", {}).get("target_max_ratio"),
        "tool_def_max_bytes": figures.get("6_context", {}).get("target_max_avg_tool_bytes"),
        "shared_use_min": figures.get("7_shared_key", {}).get("target_min_use"),
    }
    for key, value in found.items():
        if value is not None:
            targets.setdefault(key, value)
    return targets


def parameters_table(results: Mapping[str, Any]) -> list[str]:
    settings = results.get("settings", {})
    params = results.get("parameters", {})
    figures = results.get("figures", {})
    page = _page(results)
    rows: list[tuple[str, str]] = []
    servers = _servers(results)
    if servers:
        rows.append(("servers", f"{names(servers)}: every installed one"))
    if settings:
        rows.append(
            (
                "rounds",
                f"{settings.get('warmup', 0)} warm-up (discarded), then {settings.get('runs')} measured; "
                f"figure 3: {settings.get('call_runs')} rounds, figure 4: {settings.get('conc_runs')} rounds",
            )
        )
    if page is not None:
        rows.append(
            ("list calls", f"`limit` {page}, `offset` 0: each server's first list tool needing no parent id")
        )
    flags = params.get("fast_flags")
    if flags:
        rows.append(
            ("figure 2", f"{', '.join(f'`{f}`' for f in flags)} of every server, and `python -c pass`")
        )
    per_call = figures.get("3_per_call")
    if per_call:
        rows.append(
            (
                "figure 3",
                f"{number(per_call['calls_per_run'])} sequential `{per_call['tool']}` calls per round "
                f"through `{per_call['server']}` after {settings.get('call_warmup', '?')} warm-up calls; "
                f"request `GET {per_call['request']}`",
            )
        )
    conc = figures.get("4_concurrency")
    if conc:
        limits = conc["sandbox_limits"]
        rows.append(
            (
                "figure 4",
                f"{conc['calls_in_flight']} calls in flight through `{conc['server']}`; sandbox and server "
                f"limits: {limits['rate_limit']} requests per {limits['rate_window']:g} s, "
                f"{limits['max_concurrency']} concurrent",
            )
        )
    shared = figures.get("7_shared_key")
    if shared:
        limits = shared["sandbox_limits"]
        rows.append(
            (
                "figure 7",
                f"{shared['calls_in_flight']} calls in flight split between {shared['servers']} "
                f"`{shared['server']}` processes on one key, each configured with the sandbox's limits "
                f"({limits['rate_limit']} requests per {limits['rate_window']:g} s, "
                f"{limits['max_concurrency']} concurrent), no retries; shared through the local store, then "
                "each alone (`UNIZO_RATE_LIMIT_BACKEND=process`)",
            )
        )
    if "memory_calls" in settings:
        rows.append(
            ("figure 5", f"`VmHWM` after `initialize`, `tools/list` and {settings['memory_calls']} calls")
        )
    open_limits = params.get("open_limits")
    if open_limits:
        rows.append(
            (
                "other figures",
                f"sandbox and servers allow {number(open_limits['rate_limit'])} requests per minute and "
                f"{open_limits['max_concurrency']} concurrent: nothing but figure 4 is throttled",
            )
        )
    t = _targets(results)
    if t:
        parts = []
        if "cold_start_max_ratio" in t:
            parts.append(f"cold start ≤ {t['cold_start_max_ratio']:g}x floor")
        if "fast_path_max_s" in t:
            parts.append(f"fast paths < {t['fast_path_max_s']:g} s")
        if "call_over_floor_max_ms" in t:
            parts.append(f"per-call p50 ≤ floor + {t['call_over_floor_max_ms']:g} ms")
        if "call_cpu_max_ratio" in t:
            parts.append(f"CPU per call ≤ {t['call_cpu_max_ratio']:g}x floor")
        if "rate_use_min" in t:
            parts.append(f"rate use ≥ {t['rate_use_min']:.0%} with no 429")
        if "memory_max_ratio" in t:
            parts.append(f"peak RSS ≤ {t['memory_max_ratio']:g}x floor")
        if "tool_def_max_bytes" in t:
            parts.append(
                f"tool definitions < {t['tool_def_max_bytes']:g} B on average; list result ≤ "
                f"{t.get('main_result_max_ratio', 0.35):g}x the raw page for the main service, ≤ "
                f"{t.get('result_max_ratio', 0.5):g}x for the others"
            )
        if t.get("shared_use_min") is not None:
            parts.append(f"two servers sharing a key ≥ {t['shared_use_min']:.0%} with no 429")
        rows.append(("targets", "; ".join(parts)))
    return ["| parameter | this run |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]


def finding_cold_start(f: Mapping[str, Any]) -> str:
    servers = f["servers"]
    floor = f["floor"]
    per_round = [
        a / b
        for entry in servers.values()
        for a, b in zip(entry["samples"], floor["samples"], strict=False)
        if b
    ]
    medians = span((s["median"] for s in servers.values()), ".3f")
    ratios = span((s["ratio"] for s in servers.values()), ".3f")
    cpu = span((s["cpu_ratio"] for s in servers.values()), ".3f")
    judged = server_verdict(servers)
    text = (
        f"**1 Cold start.** The floor server answered `tools/list` {floor['median']:.3f} s after its spawn "
        f"(median); the servers {medians} s, {ratios}x the floor (median of per-round ratios; CPU {cpu}x). "
        f"Target ≤ {f['target_max_ratio']:g}x: {judged}. Single rounds ranged {span(per_round, '.2f')}x."
    )
    http = f.get("floor_with_aiohttp")
    if http:
        text += (
            f" The {REFERENCE} (aiohttp and SQLite imported, an SSL context built, a SQLite database opened "
            "and one GET made before serving, as a server that shares its limits and checks its key must) "
            f"took {http['ratio']:.2f}x the floor: that much of the ratio is the dependencies' and the "
            "request's, not the core's."
        )
    unverified = [n for n, s in servers.items() if not s.get("key_verified_before_ready")]
    text += (
        " Every server verified its key with the API before answering `tools/list`."
        if not unverified
        else f" No key verification was seen before `tools/list` for {names(unverified)}."
    )
    imports = f.get("imports")
    if imports and imports.get("extra_by_package_ms"):
        extra = ", ".join(f"`{n}` +{ms:.0f} ms" for n, ms in imports["extra_by_package_ms"].items())
        text += (
            " Where the time goes (`python -X importtime`, one extra start each, each module's own "
            "import time summed by top-level package; the profiler slows imports down): "
            f"`{imports['server']}` spent "
            f"{imports['server_total_ms']:.0f} ms importing, the floor server "
            f"{imports['floor_total_ms']:.0f} ms; the largest differences: {extra}."
        )
    return text


def finding_fast_paths(f: Mapping[str, Any]) -> str:
    commands = f["commands"]
    target = f["target_max_s"]
    slowest = max(commands, key=lambda c: commands[c]["median"])
    worst = commands[slowest]["median"]
    heavy = sorted({m for c in commands.values() for m in c.get("heavy_imports", [])})
    over = [c for c, v in commands.items() if not v["ok"]]
    took = span((c["median"] for c in commands.values()), ".3f")
    text = (
        f"**2 Fast paths.** {len(commands)} commands took {took} s "
        f"(median; `python -c pass`: {f['floor']['median']:.3f} s). "
    )
    if over:
        text += f"Over the {target:g} s target: {names(over)}. "
    else:
        text += f"The slowest, `{slowest}`, stayed {1 - worst / target:.0%} under the {target:g} s target. "
    text += (
        "None imported the MCP SDK, pydantic, aiohttp or anyio."
        if not heavy
        else f"Heavy packages imported on a fast path: {names(heavy)}."
    )
    return text


def finding_per_call(f: Mapping[str, Any]) -> str:
    same = (
        "the same request line, checked in the sandbox's log"
        if f.get("same_http_request")
        else "NOT the same request line (see results.json)"
    )

    def verdict(ok: bool) -> str:
        return "met" if ok else "missed"

    text = (
        f"**3 Per call.** `{f['tool']}` through `{f['server']}`, {f['calls_per_run']} calls per round: p50 "
        f"{f['server_p50']:.2f} ms. The floor server answering the same raw API page from memory over the "
        f"same pipe: {f['floor_p50']:.2f} ms, so the server is {f['over_floor_p50']:+.2f} ms over the floor "
        f"(target <= +{f['target_max_over_floor_p50']:g} ms: {verdict(f['ok_latency'])}); it also fetches "
        f"the page over HTTPS, which alone takes {f['direct_p50']:.2f} ms made directly with aiohttp "
        f"({same}), and sends the model the page's summary instead of the whole page. CPU per call: "
        f"{f['server_process_cpu_ms_per_call']:.2f} ms in the server process, "
        f"{f['floor_process_cpu_ms_per_call']:.2f} ms in the floor server's, {f['cpu_ratio']:.2f}x "
        f"(target <= {f['target_max_cpu_ratio']:g}x: {verdict(f['ok_cpu'])})."
    )
    if "fetch_p50" in f:
        text += (
            f" The {REFERENCE}, which makes the same GET, parses the page and sends what the server sent, "
            f"and does nothing else per call (no SQLite statement): p50 {f['fetch_p50']:.2f} ms "
            f"({f['fetch_over_floor_p50']:+.2f} ms over "
            f"the floor), CPU {f['fetch_process_cpu_ms_per_call']:.2f} ms ({f['fetch_cpu_ratio']:.2f}x the "
            f"floor). What the server costs over it is the core's own work (arguments, rate limits, "
            f"shaping): {f['server_over_fetch_p50']:+.2f} ms p50, {f['server_cpu_ratio_to_fetch']:.2f}x CPU."
        )
        if "alone_process_cpu_ms_per_call" in f:
            text += (
                f" The same server keeping its limits in the process (`UNIZO_RATE_LIMIT_BACKEND=process`): "
                f"CPU {f['alone_process_cpu_ms_per_call']:.2f} ms ({f['alone_cpu_ratio']:.2f}x the floor); "
                "the difference is what sharing the limits through the local store costs per call."
            )
        for what, key in (("latency", "latency_met_over_dependency"), ("CPU", "cpu_met_over_dependency")):
            if f.get(key):
                text += f" The {what} target is {DEPENDENCY_STATUS}: {DEPENDENCY_NOTE}."
    return text


def finding_rate(f: Mapping[str, Any]) -> str:
    limits = f["sandbox_limits"]
    uses = [r["use"] for r in f["runs"]]
    capacity = f.get("unthrottled_capacity_per_s")
    rounds = "one round" if len(uses) == 1 else f"median of {len(uses)} rounds: {span(uses, '.1%')}"
    text = (
        f"**4 Rate use.** {f['calls_in_flight']} calls in flight through `{f['server']}` against "
        f"{limits['rate_limit']} requests per {limits['rate_window']:g} s and {limits['max_concurrency']} "
        f"concurrent: {f['use']:.1%} of the allowance used ({rounds}), "
        f"{f['status_429_total']} responses 429, "
        f"{f['failed_calls_total']} failed calls; target ≥ {f['target_min_use']:.0%} with no 429: "
        f"{'met' if f['ok'] else 'missed'}."
    )
    if capacity:
        text += (
            f" With the rate limit lifted the same machine carried {capacity:.0f} calls/s, "
            f"{capacity / f['allowance_per_s']:.0f}x the allowance's rate: the limiter set the pace, "
            "not the machine."
        )
    return text


def finding_memory(f: Mapping[str, Any]) -> str:
    servers = f["servers"]
    sizes = span((s["median"] / 1024 for s in servers.values()), ".1f")
    ratios = span((s["ratio"] for s in servers.values()), ".2f")
    text = (
        f"**5 Peak memory.** Floor server {mib(f['floor']['median'])}; servers {sizes} MiB, {ratios}x the "
        f"floor; target ≤ {f['target_max_ratio']:g}x: {server_verdict(servers)}."
    )
    http = f.get("floor_with_aiohttp")
    if http:
        text += (
            f" The {REFERENCE} (aiohttp and SQLite loaded, an SSL context, a SQLite database open, the same "
            f"calls) peaks at {http['ratio']:.2f}x the floor: the share of the libraries the core is built "
            "on, which a server built on them cannot go below."
        )
    unshared = f.get("limits_not_shared")
    if unshared:
        text += (
            f" `{unshared['server']}` keeping its limits in the process (`UNIZO_RATE_LIMIT_BACKEND=process`) "
            f"peaks at {mib(unshared['median'])}, {unshared['ratio']:.2f}x the floor: sharing the limits "
            f"through the local store (SQLite's library, its connection and the store's own work) costs "
            f"{unshared['store_share_kb'] / 1024:.1f} MiB of the server's peak."
        )
    return text


def token_note(f: Mapping[str, Any]) -> str:
    """What "tok" means in the table: counted tokens, or (a run before tokenizing) bytes / 4."""
    if "tokenizer" in f:
        return f"tokens counted with {f['tokenizer']}, the GPT-4o family's encoding; other models' differ."
    return "estimated tokens, bytes / 4 (no tokenizer was run)."


def finding_context(f: Mapping[str, Any]) -> str:
    servers = f["servers"]
    target = f["target_max_avg_tool_bytes"]
    heaviest = max(servers, key=lambda n: servers[n]["avg_tool_bytes"])
    worst = servers[heaviest]["avg_tool_bytes"]
    largest = max((s["largest_tool"] for s in servers.values()), key=lambda t: t["bytes"])
    widest = servers[max(servers, key=lambda n: servers[n]["tools"])]
    widest_name = max(servers, key=lambda n: servers[n]["tools"])
    averages = span((s["avg_tool_bytes"] for s in servers.values()), ".0f")
    judged = verdict({n: s["ok_tool_defs"] for n, s in servers.items()})
    text = (
        f"**6 Context.** Tool definitions average {averages} B per tool across servers (target < "
        f"{target:g} B: {judged}; highest `{heaviest}` at {worst:.0f} B, {1 - worst / target:.0%} under). "
        f"The largest single definition is `{largest['name']}`, {number(largest['bytes'])} B. "
        f"`{widest_name}` lists {widest['tools']} tools in {number(widest['tools_list_bytes'])} B "
        + (
            f"({number(widest['tools_list_tokens'])} tokens, {f['tokenizer']})"
            if "tools_list_tokens" in widest
            else f"(~{number(widest['tools_list_tokens_est'])} tokens estimated)"  # a run before tokenizing
        )
    )
    fields = widest.get("avg_bytes_by_field", {})
    if fields:
        ordered = sorted(fields.items(), key=lambda kv: -kv[1])
        text += "; an average definition there: " + ", ".join(
            f"`{k}` {v} B" for k, v in ordered if k != "name"
        )
    text += "."
    listed = {n: s for n, s in servers.items() if "result_vs_raw" in s}
    if listed:
        ratios = span((s["result_vs_raw"] for s in listed.values()), ".2f")
        wire = span((s["result_wire_bytes"] / s["raw_api_compact_bytes"] for s in listed.values()), ".1f")
        judged = verdict({n: s["ok_list_result"] for n, s in listed.items()})
        text += f" List results are {ratios}x the raw API page (targets: {judged})"
        if all("result_vs_raw_tokens" in s for s in listed.values()):
            in_tokens = span((s["result_vs_raw_tokens"] for s in listed.values()), ".2f")
            text += f", {in_tokens}x in tokens"
        text += (
            f"; on the wire a result carries both the text and the structured copy, {wire}x the raw page, "
            "of which a host shows the model one."
        )
    return text


def finding_shared(f: Mapping[str, Any]) -> str:
    limits = f["sandbox_limits"]
    shared = f["runs"]["local"]
    uses = [r["use"] for r in shared]
    rounds = "one round" if len(uses) == 1 else f"median of {len(uses)} rounds: {span(uses, '.1%')}"
    alone = f["alone"]
    return (
        f"**7 Shared key.** {f['servers']} servers on one key, {f['calls_in_flight']} calls in flight "
        f"between them, against {limits['rate_limit']} requests per {limits['rate_window']:g} s and "
        f"{limits['max_concurrency']} concurrent: sharing the limits through the local store they used "
        f"{f['use']:.1%} of the allowance together ({rounds}), {f['status_429_total']} responses 429, "
        f"{f['failed_calls_total']} failed calls; target ≥ {f['target_min_use']:.0%} with no 429: "
        f"{'met' if f['ok'] else 'missed'}. "
        f"Each limiting itself alone, the same calls drew {alone['status_429']} responses 429 "
        f"({alone['failed_calls']} failed calls): what sharing prevents."
    )


FINDINGS = (
    ("1_cold_start", finding_cold_start),
    ("2_fast_paths", finding_fast_paths),
    ("3_per_call", finding_per_call),
    ("4_concurrency", finding_rate),
    ("5_memory", finding_memory),
    ("6_context", finding_context),
    ("7_shared_key", finding_shared),
)


def render(results: Mapping[str, Any]) -> str:
    """The README's generated section, markers included, from the contents of results.json."""
    machine = results["machine"]
    figures = results.get("figures", {})
    packages = ", ".join(f"{k} {v}" for k, v in machine["packages"].items() if v)
    cores = f"{machine['cpu_cores']} cores ({machine['cpu_cores_usable']} usable)"
    missed = results.get("targets_missed", [])
    lines = [
        BEGIN,
        "### Latest run",
        "",
        f"{results['mode'].capitalize()} run of {machine['date']}, {results['duration_s']:.0f} s, "
        f"git {machine.get('git') or 'unknown'}. Every number in this section comes from "
        "[`results.json`](results.json).",
        "",
        f"Machine: {machine['cpu_model']}, {cores}, {machine['platform']}, {machine['python']}; "
        f"load average at start {machine.get('load_average_at_start')}, "
        f"at end {machine.get('load_average_at_end')}.  ",
        f"Packages: {packages}.",
        "",
        *parameters_table(results),
        "",
        results["table_markdown"],
        "",
        f"\\* tok = {token_note(figures.get('6_context', {}))} ref. = against the "
        f"{REFERENCE}. {DEPENDENCY_STATUS} = {DEPENDENCY_NOTE}.",
        "",
        "#### What this run shows",
        "",
    ]
    for key, finding in FINDINGS:
        if key in figures:
            lines += [f"- {finding(figures[key])}", ""]
    dependency = results.get("targets_met_over_dependency", [])
    if missed:
        lines.append(f"Targets missed in this run: {len(missed)} ({'; '.join(missed)}).")
    else:
        lines.append("Every target was met in this run.")
    if dependency:
        lines += ["", f"Met only against the {REFERENCE}: {len(dependency)} ({'; '.join(dependency)})."]
    lines.append(END)
    return "\n".join(lines)


# --- the README ------------------------------------------------------------------------------------------


def split(text: str) -> tuple[str, str, str] | None:
    """(before, section with markers, after), or None without exactly one pair of markers."""
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        return None
    head, rest = text.split(BEGIN, 1)
    body, tail = rest.split(END, 1)
    return head, BEGIN + body + END, tail


def load(results_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(results_path.read_text(encoding="utf-8"))
    return data


def write_readme(results_path: Path = RESULTS, readme_path: Path = README) -> bool:
    """Rewrite the generated section from results.json; True when the README changed."""
    text = readme_path.read_text(encoding="utf-8")
    parts = split(text)
    if parts is None:
        raise SystemExit(f"{readme_path}: expected one pair of markers:\n{BEGIN}\n{END}")
    head, old, tail = parts
    new = render(load(results_path))
    if new == old:
        return False
    readme_path.write_text(head + new + tail, encoding="utf-8")
    return True


# A measured-looking number: a decimal, or a number with a unit. Integers alone (figure 3, HTTP 429) pass.
_UNIT = r"(?:ms|µs|us|s|min|MiB|KiB|MB|GB|kB|B|%|x|\u00d7|calls/s|tok|tokens)"
_NUMBER = r"[~+±-]?\d[\d,]*(?:\.\d+)?"
_MEASURED = re.compile(rf"(?<![\w.]){_NUMBER}\s?{_UNIT}(?![\w])|(?<![\w.])\d+\.\d+(?![\w.])")
_CODE_SPAN = re.compile(r"`[^`]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")


def hand_written_numbers(text: str) -> list[str]:
    """Lines of hand-written prose (outside code and the generated section) that state a measured number."""
    found = []
    fenced = False
    for number_, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.lstrip().startswith("<!--"):
            continue
        prose = _LINK_TARGET.sub("]", _CODE_SPAN.sub("", line))
        hits = [m.group(0) for m in _MEASURED.finditer(prose)]
        if hits:
            found.append(f"line {number_}: {', '.join(hits)}: {line.strip()[:100]}")
    return found


def check_readme(results_path: Path = RESULTS, readme_path: Path = README) -> list[str]:
    """Problems that make the README disagree with results.json (empty: it agrees)."""
    text = readme_path.read_text(encoding="utf-8")
    parts = split(text)
    if parts is None:
        return [f"{readme_path.name}: expected one pair of markers {BEGIN!r} ... {END!r}"]
    head, section, tail = parts
    problems = []
    expected = render(load(results_path))
    if section != expected:
        diff = difflib.unified_diff(
            section.splitlines(),
            expected.splitlines(),
            "README.md (generated section)",
            "from results.json",
            lineterm="",
            n=0,
        )
        problems.append(
            f"{readme_path.name}: the generated section is not what {results_path.name} gives:\n"
            + "\n".join(diff)
        )
    outside = head + "\n" * section.count("\n") + tail  # keep line numbers
    for hit in hand_written_numbers(outside):
        problems.append(f"{readme_path.name} {hit} (a measured number belongs in the generated section)")
    return problems
