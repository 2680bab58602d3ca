"""A service is one folder under packages/ plus one sandbox module: no other code may name it.

Every service name (from the `unizo_mcp.services` entry points declared in packages/*/pyproject.toml)
is looked for in the string literals (docstrings and prose excepted), names and attributes of every
Python file, and in every TOML file, outside the service's own package folder, its sandbox module and the
core's registry. Markdown and generated snapshots are documentation, not code, and are not checked.

Some names are English words too. `platform` is also the permission scope of account administration that
every Unizo account has (the sandbox's own `accounts.PLATFORM`), so it is not looked for; any other
homonym (infrastructure's `storage` resources) is waived line by line with a `# homonym` comment at the
line's end or on the line before.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_SERVICES = ROOT / "shared/sandbox/src/unizo_mcp_sandbox/services"
REGISTRY = ROOT / "shared/core/src/unizo_mcp_core/registry.py"
SKIPPED_DIRS = {".git", ".nox", ".venv", "node_modules", "__pycache__", "dist", "build", "results"}


def declared_services() -> dict[str, Path]:
    """service name -> the package folder that declares it."""
    found: dict[str, Path] = {}
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        for name in project.get("entry-points", {}).get("unizo_mcp.services", {}):
            assert name not in found, f"service {name} is declared twice"
            found[name] = pyproject.parent
    return found


def _files() -> Iterator[Path]:
    stack = [ROOT]
    while stack:
        folder = stack.pop()
        for path in sorted(folder.iterdir()):
            if path.is_dir():
                if path.name not in SKIPPED_DIRS and not path.name.startswith("."):
                    stack.append(path)
            elif path.suffix in (".py", ".toml"):
                yield path


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _code_words(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of what may name a service: strings that are not docstrings or prose, names,
    attributes; lines waived with `# homonym` left out."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if path.suffix == ".toml":
        for number, line in enumerate(lines, 1):
            if not line.lstrip().startswith("#"):
                yield number, line
        return
    tree = ast.parse(text, filename=str(path))
    docstrings = _docstrings(tree)
    # `# homonym` at the end of a line waives it; on a line of its own, the next line
    waived = set()
    for number, line in enumerate(lines, 1):
        if "# homonym" in line:
            waived.add(number + 1 if line.lstrip().startswith("#") else number)
    for number, word in _words(tree, docstrings):
        if number not in waived:
            yield number, word


def _words(tree: ast.AST, docstrings: set[int]) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if not re.search(r"[a-z]\s+[a-z]", node.value, re.IGNORECASE):  # prose names no service
                yield node.lineno, node.value
        elif isinstance(node, ast.Name):
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute):
            yield node.lineno, node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.lineno, node.name
        elif isinstance(node, ast.alias):
            yield getattr(node, "lineno", 0), node.name


def _pattern(name: str) -> re.Pattern[str]:
    # the name as a word: separated by anything but a letter or digit (edr_list_devices, /edr/devices,
    # UNIZO_EDR_API_KEY, unizo-mcp-edr); a multi-word name also with '-' (key-management)
    spelled = "[_-]".join(re.escape(part) for part in name.split("_"))
    return re.compile(rf"(?<![a-z0-9]){spelled}(?![a-z0-9])", re.IGNORECASE)


def test_services_are_declared():
    assert declared_services(), "no packages/*/pyproject.toml declares a unizo_mcp.services entry point"


def test_no_service_is_named_outside_its_own_folder():
    from unizo_mcp_sandbox.accounts import PLATFORM

    services = {name: folder for name, folder in declared_services().items() if name != PLATFORM}
    patterns = {name: _pattern(name) for name in services}
    found: list[str] = []
    for path in _files():
        if path in (REGISTRY, Path(__file__).resolve()):
            continue
        owners = {name for name, folder in services.items() if folder in path.parents}
        if path.parent == SANDBOX_SERVICES:
            owners.add(path.stem)
        for line, word in _code_words(path):
            for name, pattern in patterns.items():
                if name not in owners and pattern.search(word):
                    found.append(f"{path.relative_to(ROOT)}:{line}: {name!r} in {word[:80]!r}")
    assert not found, (
        "service names hard-coded outside their package folder and sandbox module "
        "(derive the list from unizo_mcp_core.registry instead):\n" + "\n".join(found)
    )
