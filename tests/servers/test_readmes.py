"""README freshness: the generated sections say exactly what the declarations declare."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from .catalog import SERVICES, all_services

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


def test_check_detects_and_update_fixes_a_stale_table(tmp_path):
    root = _copy_packages(tmp_path)
    readme = root / "packages" / "edr" / "README.md"
    text = readme.read_text()
    assert "`edr_list_devices`" in text
    readme.write_text(text.replace("`edr_list_devices`", "`edr_list_machines`"))
    assert update_docs.stale_files(root) == [readme]
    assert update_docs.update(root) == [readme]
    assert readme.read_text() == text
    assert update_docs.stale_files(root) == []


def test_missing_markers_are_an_error(tmp_path):
    root = _copy_packages(tmp_path)
    readme = root / "packages" / "scm" / "README.md"
    readme.write_text(readme.read_text().replace("<!-- END GENERATED: tools -->", ""))
    with pytest.raises(ValueError, match="tools"):
        update_docs.stale_files(root)


@pytest.mark.parametrize("service", SERVICES)
def test_service_readme_content(service):
    spec = all_services()[service]
    text = (ROOT / "packages" / service / "README.md").read_text()
    assert f"pip install unizo-mcp-{service}" in text
    assert f'"UNIZO_API_KEY": "${{UNIZO_{service.upper()}_API_KEY}}"' in text
    assert '"command": ' in text and '"args": []' in text
    assert "chmod 600" in text
    for tool in spec.all_tools():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{tool.name}` |"))
        assert f"`{service}:{tool.permission.value}`" in row


def test_server_readme_lists_every_service():
    text = (ROOT / "packages" / "server" / "README.md").read_text()
    assert 'pip install "unizo-mcp-server[all]"' in text
    assert '"UNIZO_API_KEY": "${UNIZO_API_KEY}"' in text
    assert "--services edr,scm" in text
    for service in SERVICES:
        assert f"[unizo-mcp-{service}](../{service}/README.md)" in text
