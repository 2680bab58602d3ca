"""Wheels of every package of this repository, and fresh virtual environments built from them.

`wheelhouse` builds the wheels of the core, every service and the all-in-one server once per session,
plus the wheels of their third-party dependencies (downloaded once), so each isolated environment
installs offline from it in seconds: `pip install --no-index --find-links <wheelhouse> <package>`.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def package_dirs() -> dict[str, Path]:
    """Distribution name -> folder, for the core and every package under packages/."""
    found = {"unizo-mcp-core": ROOT / "shared" / "core"}
    for pyproject in sorted((ROOT / "packages").glob("*/pyproject.toml")):
        found[tomllib.loads(pyproject.read_text())["project"]["name"]] = pyproject.parent
    return found


def _pip(*args: str, python: str = sys.executable, timeout: float = 1200) -> None:
    result = subprocess.run(
        [python, "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    house = tmp_path_factory.mktemp("wheelhouse")
    ours = [str(folder) for folder in package_dirs().values()]
    _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(house), *ours)
    # the third-party dependencies of the core (the services depend on the core only)
    (core,) = house.glob("unizo_mcp_core-*.whl")
    _pip("wheel", "--quiet", "--wheel-dir", str(house), "--find-links", str(house), str(core))
    return house


@pytest.fixture(scope="session")
def fresh_venv(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`fresh_venv("unizo-mcp-x")` → bin/ of a new venv holding that package, the core and their deps only."""
    made: dict[str, Path] = {}

    def make(distribution: str) -> Path:
        if distribution not in made:
            venv = tmp_path_factory.mktemp("isolated") / "venv"
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
            bin_dir = venv / "bin"
            _pip(
                "install",
                "--quiet",
                "--no-index",
                "--find-links",
                str(wheelhouse),
                distribution,
                python=str(bin_dir / "python"),
            )
            made[distribution] = bin_dir
        return made[distribution]

    return make
