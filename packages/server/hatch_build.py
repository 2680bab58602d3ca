"""Hatch metadata hook: the `all` extra lists every service package beside this one.

A service package is a folder under packages/ whose pyproject.toml registers a `unizo_mcp.services`
entry point, so adding a service needs no edit here. An sdist has no siblings: the hook then reads the
list it recorded in `all-services.txt` when the sdist was built.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from hatchling.metadata.plugin.interface import MetadataHookInterface

RECORD = "all-services.txt"
VERSION = re.compile(r"""^__version__\s*=\s*["']([0-9]+)\.([0-9]+)""", re.MULTILINE)


def _requirement(folder: Path, project: dict[str, Any], tool: dict[str, Any]) -> str:
    """`name>=X.Y,<X.Y+1` from the package's own version (services and this server move together)."""
    version_file = folder / tool.get("hatch", {}).get("version", {}).get("path", "")
    found = VERSION.search(version_file.read_text(encoding="utf-8")) if version_file.is_file() else None
    if found is None:
        return str(project["name"])
    major, minor = int(found.group(1)), int(found.group(2))
    return f"{project['name']}>={major}.{minor},<{major}.{minor + 1}"


def service_requirements(packages: Path) -> list[str]:
    """A requirement for each service package under `packages`, sorted by name."""
    found = []
    for pyproject in sorted(packages.glob("*/pyproject.toml")):
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        project = data.get("project", {})
        if "unizo_mcp.services" in project.get("entry-points", {}):
            found.append(_requirement(pyproject.parent, project, data.get("tool", {})))
    return sorted(found)


class AllServicesHook(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        root = Path(self.root)
        record = root / RECORD
        requirements = service_requirements(root.parent)
        if requirements:
            record.write_text("\n".join(requirements) + "\n", encoding="utf-8")
        elif record.is_file():  # building from an sdist: no sibling packages
            requirements = record.read_text(encoding="utf-8").split()
        metadata["optional-dependencies"] = {"all": requirements}
