"""README freshness: the generated sections say exactly what the declarations declare."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest
from servicekit import installed
from unizo_mcp_core.registry import ALL_IN_ONE_PACKAGE

ROOT = Path(__file__).resolve().parents[2]


def _load_script():
    spec = importlib.util.spec_from_file_location("update_docs", ROOT / "scripts" / "update_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


update_docs = _load_script()


def test_readmes_are_fresh():
    stale = update_docs.stale_files()
    assert not stale, (
        f"stale generated README sections in {[str(p.relative_to(ROOT)) for p in stale]}; "
        "run: python scripts/update_docs.py"
    )


def test_check_mode_exits_zero_when_fresh():
    assert update_docs.main(["--check"]) == 0


def _copy_packages(tmp_path: Path) -> Path:
    for pkg in (ROOT / "packages").iterdir():
        if (pkg / "pyproject.toml").is_file():
            shutil.copytree(
                pkg, tmp_path / "packages" / pkg.name, ignore=shutil.ignore_patterns("__pycache__")
            )
    return tmp_path


FOLDERS = {spec.name: folder for folder, spec in update_docs.services().items()}
SERVICES = sorted(installed())


def test_check_detects_and_update_fixes_a_stale_table(tmp_path):
    root = _copy_packages(tmp_path)
    spec = installed()[SERVICES[0]]
    tool = spec.tools[0].name
    readme = root / "packages" / FOLDERS[spec.name].name / "README.md"
    text = readme.read_text()
    assert f"`{tool}`" in text
    readme.write_text(text.replace(f"`{tool}`", "`renamed_tool`"))
    assert update_docs.stale_files(root) == [readme]
    assert update_docs.update(root) == [readme]
    assert readme.read_text() == text
    assert update_docs.stale_files(root) == []


def test_missing_markers_are_an_error(tmp_path):
    root = _copy_packages(tmp_path)
    readme = root / "packages" / FOLDERS[SERVICES[-1]].name / "README.md"
    readme.write_text(readme.read_text().replace("<!-- END GENERATED: tools -->", ""))
    with pytest.raises(ValueError, match="tools"):
        update_docs.stale_files(root)


@pytest.mark.parametrize("service", SERVICES)
def test_service_readme_content(service):
    spec = installed()[service]
    text = (FOLDERS[service] / "README.md").read_text()
    assert f"pip install {spec.package}" in text
    assert f'"UNIZO_API_KEY": "${{{spec.key_variable}}}"' in text
    assert '"command": ' in text and '"args": []' in text
    assert "chmod 600" in text
    for tool in spec.all_tools():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{tool.name}` |"))
        assert f"`{service}:{tool.permission.value}`" in row


def test_server_readme_lists_every_service():
    text = (update_docs.all_in_one_dir() / "README.md").read_text()
    assert f'pip install "{ALL_IN_ONE_PACKAGE}[all]"' in text
    assert '"env": {}' in text and "UNIZO_<SERVICE>_API_KEY" in text
    assert "--services " in text
    for service in SERVICES:
        spec = installed()[service]
        assert f"[{spec.package}](../{FOLDERS[service].name}/README.md)" in text


def test_root_readme_lists_every_package():
    text = (ROOT / "README.md").read_text()
    for service in SERVICES:
        assert f"[`{installed()[service].package}`](packages/{FOLDERS[service].name})" in text


def test_every_file_the_readmes_name_exists():
    """A README that points at a test or module as evidence must point at one that is there."""
    named = re.compile(r"`((?:tests|packages|external|bench|docs|shared|demo)/[\w./-]+\.\w+)")
    readmes = [
        ROOT / "README.md",
        *ROOT.glob("*/README.md"),
        *ROOT.glob("*/*/README.md"),
        *ROOT.glob("docs/*.md"),
    ]
    missing = [
        f"{readme.relative_to(ROOT)}: {path}"
        for readme in readmes
        for path in named.findall(readme.read_text(encoding="utf-8"))
        if not (ROOT / path).exists()
    ]
    assert readmes and not missing, missing
