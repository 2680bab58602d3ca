"""Regenerate the generated sections of every README from the declarations and the core's tables.

    python scripts/update_docs.py           rewrite stale sections
    python scripts/update_docs.py --check   exit 1 and list the stale READMEs (CI, tests)

A section is the text between `<!-- BEGIN GENERATED: name -->` and `<!-- END GENERATED: name -->`.
Service READMEs have `config` (the mcpServers entry) and `tools` (the tools table); the
all-in-one server's README has `services` and `config`. The content comes from
`unizo_mcp_core.docs`, so the READMEs say exactly what the code declares.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINT_GROUP = "unizo_mcp.services"
ALL_IN_ONE_PACKAGE = "unizo-mcp-server"
SECTION = re.compile(
    r"(?P<begin><!-- BEGIN GENERATED: (?P<name>[a-z0-9_-]+) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<end><!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)


def _projects(root: Path) -> list[tuple[Path, dict[str, Any]]]:
    return [
        (p.parent, tomllib.loads(p.read_text(encoding="utf-8"))["project"])
        for p in sorted((root / "packages").glob("*/pyproject.toml"))
    ]


def _import_service(package_dir: Path, target: str) -> Any:
    """The ServiceSpec an entry point names ("unizo_mcp_edr.tools:SERVICE"), installed or not."""
    src = package_dir / "src"
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


def services(root: Path = ROOT) -> dict[Path, Any]:
    """package folder -> ServiceSpec, for every package registering a service, sorted by folder."""
    found = {}
    for folder, project in _projects(root):
        for target in project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {}).values():
            found[folder] = _import_service(folder, target)
    return found


def all_in_one_dir(root: Path = ROOT) -> Path | None:
    return next(
        (folder for folder, project in _projects(root) if project["name"] == ALL_IN_ONE_PACKAGE), None
    )


def _json_block(value: Mapping[str, Any]) -> str:
    return "```json\n" + json.dumps(value, indent=2) + "\n```\n"


def service_sections(service: Any) -> dict[str, str]:
    from unizo_mcp_core import docs

    return {
        "config": _json_block(docs.config_entry(service)),
        "tools": docs.tools_table(service).rstrip("\n") + "\n",
    }


def server_sections(found: Mapping[Path, Any]) -> dict[str, str]:
    from unizo_mcp_core import docs

    services = list(found.values())
    folders = {spec.name: folder.name for folder, spec in found.items()}
    rows = ["| service | package | tools | permissions its tools need |", "|---|---|---|---|"]
    for svc in sorted(services, key=lambda s: s.name):
        actions = sorted({t.permission.value for t in svc.all_tools()})
        needs = ", ".join(f"`{svc.name}:{a}`" for a in actions)
        link = f"[{svc.package}](../{folders[svc.name]}/README.md)"
        rows.append(f"| `{svc.name}` ({svc.title}) | {link} | {len(svc.all_tools())} | {needs} |")
    return {
        "services": "Services of `unizo-mcp-server[all]`:\n\n" + "\n".join(rows) + "\n",
        "config": _json_block(docs.config_entry(None)),
    }


def expected_sections(root: Path = ROOT) -> dict[Path, dict[str, str]]:
    """README path → {section name: generated content}."""
    found = services(root)
    out: dict[Path, dict[str, str]] = {d / "README.md": service_sections(s) for d, s in found.items()}
    server_dir = all_in_one_dir(root)
    if server_dir is not None and (server_dir / "README.md").is_file():
        out[server_dir / "README.md"] = server_sections(found)
    if (root / "README.md").is_file():
        out[root / "README.md"] = root_sections(found)
    return out


FIXED_ROWS = (
    (
        "[`unizo-mcp-server`](packages/server)",
        "every installed service in one server, for users who want one entry",
    ),
    (
        "[`unizo-cli`](packages/cli)",
        "the operator's command line `unizo`: keys, rotation, usage, alerts, client configurations",
    ),
    ("[`unizo-mcp-core`](shared/core)", "the shared core (a library, no server of its own)"),
    (
        "[`unizo-mcp-sandbox`](shared/sandbox)",
        "a local HTTPS emulator of the Unizo API: try everything without an account",
    ),
)


def root_sections(found: Mapping[Path, Any]) -> dict[str, str]:
    """The repository README's package, configuration and exit-code tables."""
    from unizo_mcp_core import docs

    rows = ["| package | what it serves |", "|---|---|"]
    for folder, spec in sorted(found.items(), key=lambda item: item[1].name):
        vendors = ", ".join(spec.connectors)
        rows.append(f"| [`{spec.package}`](packages/{folder.name}) | {spec.title} ({vendors}, ...) |")
    rows += [f"| {name} | {what} |" for name, what in FIXED_ROWS]
    return {
        "packages": "\n".join(rows) + "\n",
        "settings": docs.settings_table().rstrip("\n") + "\n",
        "exit-codes": docs.exit_codes_table().rstrip("\n") + "\n",
    }


def render(text: str, sections: Mapping[str, str], *, where: str = "README") -> str:
    """`text` with each generated section replaced; every section must be present exactly once."""
    found = [m.group("name") for m in SECTION.finditer(text)]
    problems = []
    if missing := sorted(set(sections) - set(found)):
        problems.append(f"no markers for section(s) {', '.join(missing)}")
    if unknown := sorted(set(found) - set(sections)):
        problems.append(f"unknown section(s) {', '.join(unknown)}")
    if duplicated := sorted({n for n in found if found.count(n) > 1}):
        problems.append(f"duplicated section(s) {', '.join(duplicated)}")
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))

    def replace(m: re.Match[str]) -> str:
        return m.group("begin") + sections[m.group("name")] + m.group("end")

    return SECTION.sub(replace, text)


def stale_files(root: Path = ROOT) -> list[Path]:
    """READMEs whose generated sections differ from what the declarations produce."""
    stale = []
    for path, sections in expected_sections(root).items():
        text = path.read_text(encoding="utf-8")
        if render(text, sections, where=str(path)) != text:
            stale.append(path)
    return stale


def update(root: Path = ROOT) -> list[Path]:
    """Rewrite the stale READMEs; returns them."""
    written = []
    for path, sections in expected_sections(root).items():
        text = path.read_text(encoding="utf-8")
        new = render(text, sections, where=str(path))
        if new != text:
            path.write_text(new, encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a README is stale; change nothing")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for path in stale:
            sys.stderr.write(f"stale: {path.relative_to(ROOT)}\n")
        if stale:
            sys.stderr.write("Regenerate them with: python scripts/update_docs.py\n")
            return 1
        return 0
    for path in update():
        sys.stdout.write(f"updated: {path.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
