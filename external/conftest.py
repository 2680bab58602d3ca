"""Fixtures of the external-client suite (`nox -s external`, or `pytest external`).

One sandbox for the session (the sandbox package's `sandbox_server` fixture). The external tools are slow
to start (Node, then the MCP server), so the runs the collected tests need are started in a small thread
pool as soon as the first test asks for one; each test then waits for its own run and asserts on it.

Artifacts (redacted tool output, conformance `checks.json`, server logs) go to a temporary directory, or to
`$EXTERNAL_ARTIFACTS_DIR` when set; the path is printed at the end of the run. Nothing is written in the repo.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from claude_code import ClaudeReport
from fast_agent import FastAgentReport
from lab import AUTH_CALLS, CALLS, CLAUDE_CODE, FAST_AGENT, READ, InspectorRun, Lab
from mcp_clients import ConformanceReport, Npx, ToolUnavailable

KEY_ROLE = "full"  # the sandbox's full-access demo key: every tool of every service is visible

_WANTED = pytest.StashKey[set[tuple[str, ...]]]()
_ARTIFACTS = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "inspector_call(name): which Inspector run the test asserts on")


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: start only what the selected tests need
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Remember which tool runs the selected tests need, so they can all start at once."""
    wanted: set[tuple[str, ...]] = set()
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        names = getattr(item, "fixturenames", ())
        marker = item.get_closest_marker("inspector_call")
        if "inspector_run" in names and "target" in params and marker:
            wanted.add(("inspector", params["target"], params["transport"], marker.args[0]))
        if "http_auth_runs" in names and "target" in params:
            wanted.update(("inspector", params["target"], "http", c) for c in (*AUTH_CALLS, "tools-list"))
        if "read_run" in names and "service" in params:
            wanted.add(("inspector", params["target"], params["transport"], READ + params["service"]))
        if "conformance_report" in names and "target" in params:
            wanted.add(("conformance", params["target"]))
        if "claude_code_report" in names:
            wanted.add((CLAUDE_CODE,))
        if "fast_agent_report" in names:
            wanted.add((FAST_AGENT,))
    config.stash[_WANTED] = wanted


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    path = config.stash.get(_ARTIFACTS, None)
    if path is not None:
        terminalreporter.write_line(f"external clients: artifacts (redacted) in {path}")


# --- plain session fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def artifacts(request: pytest.FixtureRequest) -> Path:
    # Not tmp_path_factory: pytest prunes old basetemps, and the artifacts should outlive the run.
    explicit = os.environ.get("EXTERNAL_ARTIFACTS_DIR")
    path = Path(explicit) if explicit else Path(tempfile.mkdtemp(prefix="unizo-external-clients-"))
    path.mkdir(parents=True, exist_ok=True)
    request.config.stash[_ARTIFACTS] = path
    return path


@pytest.fixture(scope="session")
def npx(request: pytest.FixtureRequest, artifacts: Path) -> Npx:
    """npx with the pinned tools fetched (fails, never skips, when Node or the packages are unavailable)."""
    kinds = {job[0] for job in request.config.stash.get(_WANTED, set())}
    try:
        tool = Npx.discover(artifacts / "client-home")
        tool.warm_up(inspector="inspector" in kinds, conformance="conformance" in kinds)
    except ToolUnavailable as exc:
        pytest.fail(f"external MCP clients unavailable: {exc}", pytrace=False)
    return tool


@pytest.fixture(scope="session")
def sandbox_env(sandbox_server: Any) -> dict[str, str]:
    """UNIZO_BASE_URL, UNIZO_CA_BUNDLE, UNIZO_ENVIRONMENT and UNIZO_API_KEY of the full-access key."""
    return dict(sandbox_server.env(role=KEY_ROLE))


@pytest.fixture(scope="session")
def lab(
    request: pytest.FixtureRequest,
    npx: Npx,
    sandbox_server: Any,
    sandbox_env: dict[str, str],
    artifacts: Path,
) -> Iterator[Lab]:
    the_lab = Lab(npx, sandbox_env, artifacts, request.config.stash.get(_WANTED, set()), sandbox_server)
    yield the_lab
    leaks = the_lab.close()
    if leaks:
        pytest.fail("an API key was written to these artifacts: " + ", ".join(leaks), pytrace=False)


@pytest.fixture
def inspector_run(request: pytest.FixtureRequest, lab: Lab, target: str, transport: str) -> InspectorRun:
    """The Inspector run named by the test's `inspector_call` marker, for this target and transport."""
    marker = request.node.get_closest_marker("inspector_call")
    assert marker and marker.args[0] in CALLS, (
        f"mark the test with one of {CALLS}: @pytest.mark.inspector_call(...)"
    )
    return lab.inspector(target, transport, marker.args[0])


@pytest.fixture
def http_auth_runs(lab: Lab, target: str) -> dict[str, InspectorRun]:
    """tools/list over HTTP: without the bearer token, with a wrong one, with the right one (`tools-list`)."""
    return {call: lab.inspector(target, "http", call) for call in (*AUTH_CALLS, "tools-list")}


@pytest.fixture
def read_run(lab: Lab, target: str, transport: str, service: str) -> InspectorRun:
    """The read call of `service` (the generic walk) through this target and transport."""
    return lab.inspector(target, transport, READ + service)


@pytest.fixture
def conformance_report(lab: Lab, target: str) -> ConformanceReport:
    return lab.conformance(target)


@pytest.fixture(scope="session")
def claude_code_report(lab: Lab) -> ClaudeReport:
    """Claude Code's health check of every printed entry (fails, never skips, without npm or the package)."""
    try:
        return lab.claude_code()
    except ToolUnavailable as exc:
        pytest.fail(f"Claude Code unavailable: {exc}", pytrace=False)


@pytest.fixture(scope="session")
def fast_agent_report(lab: Lab) -> FastAgentReport:
    """fast-agent's four calls (fails, never skips, without Python >= 3.12 or the package)."""
    try:
        return lab.fast_agent()
    except ToolUnavailable as exc:
        pytest.fail(f"fast-agent unavailable: {exc}", pytrace=False)
