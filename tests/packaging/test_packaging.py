"""Packaging: each wheel requires only unizo-mcp-core from this repo; `python -m` works like the script;
the all-in-one server's `[all]` extra is every service, from a checkout and from its sdist alone."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest
from servicekit import installed
from unizo_mcp_core.registry import ALL_IN_ONE_PACKAGE, package_name

from .conftest import package_dirs

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
PACKAGES = {name: folder for name, folder in package_dirs().items() if name != "unizo-mcp-core"}
SERVICE_PACKAGES = sorted(package_name(name) for name in installed())
OUR_DISTS = {"unizo-mcp-core", "unizo-mcp-sandbox", *PACKAGES}


def _module(distribution: str) -> str:
    return distribution.replace("-", "_")


def _script(distribution: str) -> str:
    """The console script: the distribution name, or what the pyproject says (unizo-cli: `unizo`)."""
    scripts = tomllib.loads((PACKAGES[distribution] / "pyproject.toml").read_text())["project"]["scripts"]
    main = f"{_module(distribution)}.__main__:main"
    return next(name for name, target in scripts.items() if target == main)


def _service(distribution: str) -> str | None:
    """The service a package serves; None for the all-in-one server and for tools (unizo-cli)."""
    return next((name for name in installed() if package_name(name) == distribution), None)


def _metadata(wheel: Path) -> tuple[Any, str, list[str]]:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(zf.read(meta_name).decode())
        (ep_name,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        return metadata, zf.read(ep_name).decode(), names


def _extras(metadata: Any) -> list[str]:
    requires = metadata.get_all("Requires-Dist") or []
    return sorted(r.split(";")[0].split(">")[0].split("<")[0].strip() for r in requires if "extra ==" in r)


@pytest.mark.parametrize("distribution", sorted(PACKAGES))
def test_python_m_version_matches_console_script(distribution: str) -> None:
    env = {"PATH": "/usr/bin:/bin"}
    via_module = subprocess.run(
        [sys.executable, "-m", _module(distribution), "--version"], capture_output=True, text=True, env=env
    )
    script = shutil.which(_script(distribution), path=str(BIN))
    assert script, f"console script {_script(distribution)} is not installed in {BIN}"
    via_script = subprocess.run([script, "--version"], capture_output=True, text=True, env=env)
    assert via_module.returncode == 0 == via_script.returncode, via_module.stderr + via_script.stderr
    assert via_module.stdout == via_script.stdout
    assert distribution in via_module.stdout and "0.1.0" in via_module.stdout


@pytest.mark.parametrize("distribution", sorted(PACKAGES))
def test_wheel_requires_only_core_from_this_repo(distribution: str, wheelhouse: Path) -> None:
    (wheel,) = wheelhouse.glob(f"{_module(distribution)}-*.whl")
    metadata, entry_points, names = _metadata(wheel)
    module = _module(distribution)
    assert metadata["Name"] == distribution
    assert metadata["Version"] == "0.1.0"
    assert metadata["Requires-Python"] == ">=3.11"
    requires = metadata.get_all("Requires-Dist") or []
    unconditional = [r for r in requires if "extra ==" not in r]
    assert [r.replace(" ", "") for r in unconditional] == ["unizo-mcp-core<0.2,>=0.1"]
    assert {r.split(";")[0].split("<")[0].split(">")[0].strip() for r in requires} <= OUR_DISTS
    service = _service(distribution)
    if distribution == ALL_IN_ONE_PACKAGE:
        assert _extras(metadata) == SERVICE_PACKAGES
        assert "unizo_mcp.services" not in entry_points
    elif service is None:  # a tool, not a service: no entry point, and code of its own
        assert "unizo_mcp.services" not in entry_points
    else:
        assert f"[unizo_mcp.services]\n{service} = {module}.tools:SERVICE" in entry_points
    assert f"{_script(distribution)} = {module}.__main__:main" in entry_points
    code = sorted(n for n in names if not n.startswith(f"{wheel.name.split('-')[0]}-"))
    if service is None and distribution != ALL_IN_ONE_PACKAGE:
        assert code and all(n.startswith(f"{module}/") for n in code), "the wheel holds more than the package"
        return
    expected = ["__init__.py", "__main__.py"] + ([] if distribution == ALL_IN_ONE_PACKAGE else ["tools.py"])
    assert code == sorted(f"{module}/{f}" for f in expected), "the wheel holds more than the package"


def test_all_in_one_built_alone_keeps_every_service(tmp_path: Path, wheelhouse: Path) -> None:
    """From an sdist there are no sibling packages: the hook uses the list it recorded (all-services.txt)."""
    alone = tmp_path / "server"
    shutil.copytree(PACKAGES[ALL_IN_ONE_PACKAGE], alone, ignore=shutil.ignore_patterns("__pycache__"))
    assert (alone / "all-services.txt").is_file(), "the hook records the services whenever it runs"
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(tmp_path), str(alone)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("unizo_mcp_server-*.whl")
    assert _extras(_metadata(wheel)[0]) == SERVICE_PACKAGES
