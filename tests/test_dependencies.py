"""Every distribution a package's code imports is declared in that package's own pyproject.toml.

A package installed alone (`pip install unizo-mcp-edr`) gets only what it and its dependencies
declare; an import that works today because another package happens to pull the distribution in breaks
the day that package stops. Imports guarded by `except ImportError` are optional and left out.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(path.parent for path in ROOT.glob("packages/*/pyproject.toml"))
MEMBERS = [ROOT / "shared" / "core", ROOT / "shared" / "sandbox", *SERVICES]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalized(re.split(r"[<>=!~\[;@ ]", requirement.strip(), maxsplit=1)[0])


def declared(pyproject: Path) -> tuple[str, set[str]]:
    """The package's own name and every distribution it declares (extras included)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    names = {requirement_name(r) for r in project.get("dependencies", [])}
    for extra in project.get("optional-dependencies", {}).values():
        names |= {requirement_name(r) for r in extra}
    return normalized(project["name"]), names


def _optional(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside a `try` that catches ImportError."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        caught = {ast.unparse(handler.type) for handler in node.handlers if handler.type is not None}
        if caught & {"ImportError", "ModuleNotFoundError"}:
            found |= {id(inner) for stmt in node.body for inner in ast.walk(stmt)}
    return found


def imported_modules(src: Path) -> set[str]:
    """Top-level names of the absolute imports in `src`, optional ones left out."""
    modules: set[str] = set()
    for path in src.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        optional = _optional(tree)
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def workspace_modules() -> dict[str, str]:
    """Import name -> distribution for the repository's own packages (editable installs are not in
    `packages_distributions()`)."""
    found = {}
    for member in MEMBERS:
        name, _ = declared(member / "pyproject.toml")
        for package in (member / "src").iterdir():
            if (package / "__init__.py").exists():
                found[package.name] = name
    return found


INSTALLED = importlib.metadata.packages_distributions()
OURS = workspace_modules()


@pytest.mark.parametrize("member", MEMBERS, ids=[m.name for m in MEMBERS])
def test_every_imported_distribution_is_declared(member: Path) -> None:
    own, names = declared(member / "pyproject.toml")
    undeclared = []
    for module in sorted(imported_modules(member / "src")):
        if module in sys.stdlib_module_names or module == "__future__":
            continue
        distributions = (
            {OURS[module]} if module in OURS else {normalized(d) for d in INSTALLED.get(module, [])}
        )
        assert distributions, f"{member.name}: no installed distribution provides {module!r}"
        if not distributions & (names | {own}):
            undeclared.append(f"{module} (from {', '.join(sorted(distributions))})")
    assert not undeclared, f"{member.relative_to(ROOT)}/pyproject.toml does not declare: {undeclared}"
