"""The official MCP conformance suite against every server on streamable HTTP.

One suite run per server (all active scenarios, `--expected-failures conformance-baseline.yml`). The generic
server scenarios must pass outright; every other scenario must be listed in the committed baseline with a
reason. The suite itself fails the run (exit code 1) on an unexpected failure or on a stale baseline entry
(a listed scenario that now passes), so the baseline can only shrink deliberately.
"""

from __future__ import annotations

import json

import pytest
from lab import BASELINE
from mcp_clients import CONFORMANCE_PACKAGE, ConformanceReport, parse_baseline
from targets import TARGETS

# Scenarios that test the protocol itself rather than the reference server's fixture tools/resources/prompts.
REQUIRED = (
    "server-initialize",
    "ping",
    "tools-list",
    "tools-call-error",
    "resources-list",
    "prompts-list",
    "dns-rebinding-protection",
    "server-sse-multiple-streams",
)


def test_baseline_is_well_formed() -> None:
    entries, problems = parse_baseline(BASELINE.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)
    assert entries, "the baseline is empty: remove the file from the run instead"


def test_baseline_never_excuses_a_required_scenario() -> None:
    entries, _ = parse_baseline(BASELINE.read_text(encoding="utf-8"))
    excused = sorted({e.scenario for e in entries} & set(REQUIRED))
    assert not excused, f"required scenarios must pass, not be baselined: {excused}"


@pytest.mark.parametrize("scenario", REQUIRED)
@pytest.mark.parametrize("target", list(TARGETS))
def test_required_scenario_passes(conformance_report: ConformanceReport, scenario: str) -> None:
    checks = conformance_report.scenarios.get(scenario)
    assert checks, (
        f"{scenario} did not run (no checks.json under {conformance_report.output_dir})\n"
        + conformance_report.run.describe()
    )
    failing = conformance_report.failing(scenario)
    assert not failing, f"{scenario} failed:\n{json.dumps(failing, indent=2)[:4000]}"
    assert any(c.get("status") == "SUCCESS" for c in checks), f"{scenario}: no successful check in {checks}"


@pytest.mark.parametrize("target", list(TARGETS))
def test_suite_matches_baseline(conformance_report: ConformanceReport) -> None:
    run = conformance_report.run
    unexpected = conformance_report.section("Unexpected failures")
    stale = conformance_report.section("Stale baseline entries")
    assert run.returncode == 0, (
        f"{CONFORMANCE_PACKAGE} exited {run.returncode}: unexpected failures {unexpected}, "
        f"stale baseline entries (now passing: remove them) {stale}\n{run.describe(2000)}"
    )
    # A baseline entry that names no scenario of this suite would silently excuse nothing: catch typos.
    entries, _ = parse_baseline(BASELINE.read_text(encoding="utf-8"))
    ran = set(conformance_report.scenarios)
    unknown = sorted(e.scenario for e in entries if e.scenario not in ran)
    assert not unknown, f"baseline entries that are not scenarios of the active suite: {unknown}"
    assert "Baseline check passed" in run.stdout, run.describe(2000)
