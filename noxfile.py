"""Developer and CI entry points: `nox -s tests`, packaging, lint, typecheck, demo, bench, external."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

# uv when installed (`pip install "nox[uv]"`, as the README says): a session is set up in seconds
nox.options.default_venv_backend = "uv|venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests"]
nox.options.download_python = "never"

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
# Every installable package: discovered, never listed (a new service is one folder under packages/).
SERVICES = sorted(str(p.parent.relative_to(ROOT)) for p in ROOT.glob("packages/*/pyproject.toml"))
MEMBERS = ["shared/core", "shared/sandbox", *SERVICES]
# One list of test dependencies for nox and hatch: the `test` dependency group of pyproject.toml.
TEST_DEPS = nox.project.dependency_groups(PYPROJECT, "test")
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
PACKAGING_TESTS = "tests/packaging"
TOKENIZER = "gpt-tokenizer@4.0.0"  # figure 6's token counts (bench/tokens.py)


def install_workspace(session: nox.Session, *extra: str) -> None:
    """Install every member editable in one pip call, so local core satisfies the services' requirement."""
    args: list[str] = []
    for member in MEMBERS:
        args += ["-e", member]
    session.install(*args, *extra)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole suite but packaging: core, sandbox, every service, security and reliability, against the
    sandbox over HTTPS, on every CPU (pytest-xdist).

    One worker per CPU: two per CPU saved wall time only once every worker had its bytecode, cost each
    worker its own collection, and left the tests with a deadline too little CPU (see git log)."""
    install_workspace(session, *TEST_DEPS)
    args = session.posargs or ["-n", "auto", "--ignore", PACKAGING_TESTS]
    # Bytecode is written (under __pycache__, ignored by git) even where the caller's environment says
    # not to: without it every pytest worker rewrites the suite's assertions anew (~6 s of CPU each) and
    # every server the tests start compiles the workspace from source.
    session.run("python", "-m", "pytest", *args, env={"PYTHONDONTWRITEBYTECODE": None})


@nox.session(python=PYTHON, venv_backend="venv")  # its tests run `python -m pip`, which uv venvs lack
def packaging(session: nox.Session) -> None:
    """Wheels and fresh virtual environments: each server installs alone next to the core."""
    install_workspace(session, *TEST_DEPS)
    session.run("python", "-m", "pytest", "-n", "auto", PACKAGING_TESTS, *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff, and import-linter's layer contract for the core (pyproject.toml)."""
    session.install("ruff>=0.6", "import-linter>=2.1", "-e", "shared/core")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    install_workspace(session, "mypy>=1.11", *TEST_DEPS)
    session.run("mypy", "shared/core/src", "shared/sandbox/src", *[f"{m}/src" for m in SERVICES])


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """Start the sandbox, configure every installed server as a desktop client would, and run a transcript."""
    install_workspace(session)
    session.run("python", "demo/run_demo.py", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks, each figure against its floor (bench/README.md); `-- --smoke` is CI's one quick run.
    Figure 6 counts tokens with the npm package gpt-tokenizer (bench/tokens.py), installed here once."""
    install_workspace(session)
    tokenizer = Path(session.virtualenv.location) / "tokenizer"
    if not (tokenizer / "node_modules" / "gpt-tokenizer").is_dir():
        session.run(
            "npm", "install", "--prefix", str(tokenizer), "--no-audit", "--no-fund", TOKENIZER, external=True
        )
    session.run("python", "bench/run_bench.py", *session.posargs, env={"BENCH_TOKENIZER_DIR": str(tokenizer)})


@nox.session(python=PYTHON)
def external(session: nox.Session) -> None:
    """Drive the servers with programs nobody here wrote: the MCP Inspector CLI, the conformance suite,
    Claude Code's MCP health check and fast-agent (external/README.md). Claude Code and fast-agent (its own
    Python >= 3.12 venv) are installed once into this session's venv directory and reused."""
    install_workspace(session, *TEST_DEPS)
    clients = os.environ.get("EXTERNAL_CLIENTS_DIR") or str(Path(session.virtualenv.location) / "clients")
    env = {"EXTERNAL_CLIENTS_DIR": clients}
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "external", *session.posargs, env=env)
