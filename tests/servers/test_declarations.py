"""The declarations themselves: names, routes, permissions, paging, descriptions, packaging metadata.

No network, no MCP: these run in milliseconds and pin what each package promises.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import distribution, entry_points, version
from pathlib import Path

import pytest
from servicekit import installed
from unizo_mcp_core.registry import ALL_IN_ONE_PACKAGE, ENTRY_POINT_GROUP, module_name, package_name
from unizo_mcp_core.spec import Permission
from unizo_testkit import mcp_hints

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{([^}]+)\}")
SERVICE_SPECS = installed()
SERVICES = sorted(SERVICE_SPECS)
ALL_TOOLS = [(svc, tool) for svc, spec in SERVICE_SPECS.items() for tool in spec.all_tools()]
HTTP_TOOLS = [(svc, tool) for svc, tool in ALL_TOOLS if tool.handler == "http"]


@pytest.mark.parametrize("service", SERVICES)
def test_tool_names_are_unique_and_prefixed(service):
    names = [t.name for t in SERVICE_SPECS[service].all_tools()]
    assert len(names) == len(set(names)), "duplicate tool names"
    assert all(name.startswith(service + "_") for name in names)


def test_discovery_tools_are_not_declared_by_packages():
    for service, spec in SERVICE_SPECS.items():
        own = {t.name for t in spec.tools}
        assert f"{service}_list_connectors" not in own
        assert f"{service}_list_integrations" not in own
        # the core's own handlers a package may pick: "http" (one declared call), "search" (the
        # integrations search of account-level services)
        assert all(t.handler in ("http", "search") for t in spec.tools)


@pytest.mark.parametrize(("service", "tool"), HTTP_TOOLS, ids=[t.name for _, t in HTTP_TOOLS])
def test_path_placeholders_are_the_path_params(service, tool):
    assert tool.path.startswith("/") and "//" not in tool.path
    placeholders = PLACEHOLDER.findall(tool.path)
    assert placeholders == [p.name for p in tool.path_params()], "path placeholders and path params differ"
    assert all(p.required for p in tool.path_params())
    assert tool.name.startswith(service + "_")


@pytest.mark.parametrize(("service", "tool"), ALL_TOOLS, ids=[t.name for _, t in ALL_TOOLS])
def test_permission_follows_method(service, tool):
    # discovery tools POST a search: read-only whatever their verb
    if tool.handler != "http" or tool.method == "GET":
        assert tool.permission is Permission.READ
    elif tool.method in ("POST", "PUT", "PATCH"):
        assert tool.permission is Permission.WRITE
    else:
        assert tool.permission is Permission.DELETE
    hints = mcp_hints(tool.annotations)
    assert hints["readOnlyHint"] is (tool.permission is Permission.READ)
    assert hints["destructiveHint"] is (tool.permission is Permission.DELETE)


@pytest.mark.parametrize(("service", "tool"), HTTP_TOOLS, ids=[t.name for _, t in HTTP_TOOLS])
def test_list_tools_page_and_sort(service, tool):
    names = [p.name for p in tool.params]
    if "_list_" in tool.name:
        assert tool.method == "GET"
        assert names[-3:] == ["offset", "limit", "sort"], "list tools end with PAGING (use list_tool)"
        assert tool.paginated
    else:
        assert not {"offset", "limit", "sort"} & set(names)


@pytest.mark.parametrize(("service", "tool"), ALL_TOOLS, ids=[t.name for _, t in ALL_TOOLS])
def test_descriptions_are_short_single_lines(service, tool):
    assert "\n" not in tool.description
    assert 10 <= len(tool.description) <= 120, tool.description
    assert tool.description.endswith(".")
    for p in tool.params:
        assert "\n" not in p.description and len(p.description) <= 100, (p.name, p.description)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", p.name)
    assert len({p.name for p in tool.params}) == len(tool.params)


@pytest.mark.parametrize(("service", "tool"), HTTP_TOOLS, ids=[t.name for _, t in HTTP_TOOLS])
def test_write_tools_have_a_body_and_no_redundant_title(service, tool):
    # a title only when it says more than the name (clients display the name otherwise; issue 7)
    assert tool.title is None or tool.title.lower().replace(" ", "_") not in tool.name
    if tool.method in ("POST", "PUT", "PATCH"):
        assert any(p.location in ("body", "file") or p.as_body for p in tool.params)
    elif tool.method == "DELETE":
        assert all(p.location in ("path", "query") for p in tool.params)
    else:
        assert all(p.location in ("path", "query") for p in tool.params)


@pytest.mark.parametrize("service", SERVICES)
def test_service_metadata(service):
    spec = SERVICE_SPECS[service]
    assert spec.name == service
    assert spec.package == package_name(service)
    assert spec.version == version(package_name(service))
    assert spec.key_variable == f"UNIZO_{service.upper()}_API_KEY"
    assert spec.connectors and spec.title and spec.description


@pytest.mark.parametrize("service", SERVICES)
def test_entry_points_registered(service):
    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert eps[service].value == f"{module_name(service)}.tools:SERVICE"
    assert eps[service].load() is SERVICE_SPECS[service]
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts[package_name(service)] == f"{module_name(service)}.__main__:main"


def _package_dirs() -> dict[str, Path]:
    """service name -> its folder (the registry's entry points, read from each pyproject)."""
    found = {}
    for pyproject in sorted((ROOT / "packages").glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        for name in project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {}):
            found[name] = pyproject.parent
    return found


PACKAGE_DIRS = _package_dirs()
ALL_IN_ONE_DIR = next(
    p.parent
    for p in (ROOT / "packages").glob("*/pyproject.toml")
    if tomllib.loads(p.read_text())["project"]["name"] == ALL_IN_ONE_PACKAGE
)


def test_every_installed_service_has_a_package_folder():
    assert sorted(PACKAGE_DIRS) == SERVICES


@pytest.mark.parametrize("folder", [*PACKAGE_DIRS.values(), ALL_IN_ONE_DIR], ids=lambda p: p.name)
def test_pyproject_depends_on_core_only(folder):
    data = tomllib.loads((folder / "pyproject.toml").read_text())
    project = data["project"]
    assert project["dependencies"] == ["unizo-mcp-core>=0.1,<0.2"]
    assert project["requires-python"] == ">=3.11"
    assert "version" in project["dynamic"]
    requires = distribution(project["name"]).requires or []
    assert [r for r in requires if "extra ==" not in r] == ["unizo-mcp-core<0.2,>=0.1"]


def test_all_in_one_extra_pulls_every_service():
    requires = distribution(ALL_IN_ONE_PACKAGE).requires or []
    extra = sorted(r.split(";")[0].split("<")[0].split(">")[0] for r in requires if "extra == 'all'" in r)
    assert extra == sorted(package_name(name) for name in SERVICES)
    data = tomllib.loads((ALL_IN_ONE_DIR / "pyproject.toml").read_text())
    assert "optional-dependencies" not in data["project"], "computed by hatch_build.py, never listed"
    assert "entry-points" not in data["project"], "the all-in-one server registers no service"


@pytest.mark.parametrize("service", SERVICES)
def test_package_sources_stay_small(service):
    """Declarations, an entry point and a version; anything more means the core lacks something."""
    src = PACKAGE_DIRS[service] / "src" / module_name(service)
    files = sorted(p.name for p in src.glob("*.py"))
    assert files == ["__init__.py", "__main__.py", "tools.py"]
    main = (src / "__main__.py").read_text()
    assert "run(SERVICE)" in main


@pytest.mark.parametrize(("service", "tool"), HTTP_TOOLS, ids=[t.name for _, t in HTTP_TOOLS])
def test_every_list_declares_what_it_shows(service, tool):
    """A list answers summaries (issue: results an assistant can afford): every list tool says which."""
    if tool.method == "GET" and tool.paginated and tool.aggregate is None:
        assert tool.fields is not None, f"{tool.name}: declare fields=Fields(summary=..., more=...)"
        assert not set(tool.fields.more) & {p.split("=")[-1] for p in tool.fields.summary}


@pytest.mark.parametrize(("service", "tool"), ALL_TOOLS, ids=[t.name for _, t in ALL_TOOLS])
def test_every_integer_is_bounded(service, tool):
    """`offset: 1e308` passes JSON Schema's `integer`: every integer argument has both bounds."""
    from unizo_mcp_core.schema import tool_params

    for param in tool_params(tool):
        if param.type == "integer":
            assert param.minimum is not None and param.maximum is not None, (tool.name, param.name)
