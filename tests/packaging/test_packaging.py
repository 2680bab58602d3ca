"""Packaging: each wheel requires only unizo-mcp-core from this repo; `python -m` works like the script."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from .catalog import MODULES, SERVICES

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [*SERVICES, "server"]
BIN = Path(sys.executable).parent
OUR_DISTS = {"unizo-mcp-core", "unizo-mcp-sandbox", *(f"unizo-mcp-{p}" for p in PACKAGES)}


def _module(package: str) -> str:
    return MODULES.get(package, "unizo_mcp_server")


def _script(package: str) -> str:
    path = shutil.which(f"unizo-mcp-{package}", path=str(BIN)) or shutil.which(f"unizo-mcp-{package}")
    assert path, f"console script unizo-mcp-{package} is not installed"
    return path


def _clean_env() -> dict[str, str]:
    """An environment without any UNIZO_* variable of the developer's shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith("UNIZO_")}


@pytest.mark.slow
@pytest.mark.parametrize("package", PACKAGES)
def test_python_m_version_matches_console_script(package):
    env = _clean_env()
    via_module = subprocess.run(
        [sys.executable, "-m", _module(package), "--version"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    via_script = subprocess.run(
        [_script(package), "--version"], capture_output=True, text=True, env=env, timeout=60
    )
    assert via_module.returncode == 0, via_module.stderr
    assert via_script.returncode == 0, via_script.stderr
    assert via_module.stdout == via_script.stdout
    assert f"unizo-mcp-{package}" in via_module.stdout and "0.1.0" in via_module.stdout


@pytest.mark.slow
@pytest.mark.parametrize("package", PACKAGES)
def test_wheel_requires_only_core_from_this_repo(package, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(
        ROOT / "packages" / package, src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--quiet",
        "--wheel-dir",
        str(tmp_path / "dist"),
    ]
    if importlib.util.find_spec("hatchling") is not None:
        cmd.append("--no-build-isolation")  # build offline with the installed backend
    result = subprocess.run([*cmd, str(src)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(zf.read(meta_name).decode())
        (ep_name,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entry_points = zf.read(ep_name).decode()
    assert metadata["Name"] == f"unizo-mcp-{package}"
    assert metadata["Version"] == "0.1.0"
    assert metadata["Requires-Python"] == ">=3.11"
    requires = metadata.get_all("Requires-Dist") or []
    unconditional = [r for r in requires if "extra ==" not in r]
    assert [r.replace(" ", "") for r in unconditional] == ["unizo-mcp-core<0.2,>=0.1"]
    ours = {r.split(";")[0].split("<")[0].split(">")[0].strip() for r in requires}
    assert ours <= OUR_DISTS
    if package == "server":
        extras = sorted(
            r.split(";")[0].split(">")[0].split("<")[0].strip() for r in requires if "extra ==" in r
        )
        assert extras == sorted(f"unizo-mcp-{s}" for s in SERVICES)
        assert "unizo_mcp.services" not in entry_points
    else:
        assert f"[unizo_mcp.services]\n{package} = {_module(package)}.tools:SERVICE" in entry_points
    assert f"unizo-mcp-{package} = {_module(package)}.__main__:main" in entry_points
    code = sorted(n for n in names if not n.startswith(f"{wheel.name.split('-')[0]}-"))
    module = _module(package)
    expected = ["__init__.py", "__main__.py"] + ([] if package == "server" else ["tools.py"])
    assert code == sorted(f"{module}/{f}" for f in expected), "the wheel holds more than the package"
