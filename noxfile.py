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
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
TEST_WORKERS = 2 * CPUS
# The session's site-packages and the given folders to bytecode, on every CPU (uv installs none). A file
# that does not compile (a package's template, say) is left for the import that needs it, if any.
COMPILE = (
    "import compileall, sys, sysconfig\n"
    "for folder in [sysconfig.get_path('purelib'), *sys.argv[1:]]:\n"
    "    compileall.compile_dir(folder, quiet=2, workers=0)"
)
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
    sandbox over HTTPS, on two pytest-xdist workers per CPU that steal work from each other.

    Many tests wait (on a server, the sandbox's injected latency, paced rate limits) while a CPU could
    work: two workers per CPU keep both busy. That pays once nothing is compiled per worker: the session's
    packages and the workspace are compiled to bytecode first, once, and the servers the tests start are
    forked from a warm interpreter (tests/forkserver.py), not started cold in each worker. Work stealing
    (`--dist worksteal`): xdist's default hands out tests in contiguous batches and leaves a worker on
    a run of tests that mostly wait (the paced reliability scenarios) while the others sit idle at the
    end; with stealing, a worker whose queue runs out takes half of the longest queue left."""
    install_workspace(session, *TEST_DEPS)
    args = session.posargs or ["-n", str(TEST_WORKERS), "--dist", "worksteal", "--ignore", PACKAGING_TESTS]
    # Bytecode is written (under __pycache__, ignored by git) even where the caller's environment says
    # not to: without it every pytest worker rewrites the suite's assertions anew (~6 s of CPU each) and
    # every server the tests start compiles the workspace from source.
    env = {"PYTHONDONTWRITEBYTECODE": None}
    session.run("python", "-c", COMPILE, *MEMBERS, env=env, silent=True)
    session.run("python", "-m", "pytest", *args, env=env)


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
