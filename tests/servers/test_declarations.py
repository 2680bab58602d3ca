"""The declarations themselves: names, routes, permissions, paging, descriptions, packaging metadata.

No network, no MCP: these run in milliseconds and pin what each package promises.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import distribution, entry_points, version
from pathlib import Path

import pytest
from unizo_mcp_core.spec import Permission, camel_case
from unizo_testkit import mcp_hints

from .catalog import MODULES, PACKAGES, ROUTES, SERVICES, TOOL_COUNTS, all_services, tools_of

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{([^}]+)\}")
SERVICE_SPECS = all_services()
ALL_TOOLS = [(svc, tool) for svc, spec in SERVICE_SPECS.items() for tool in spec.all_tools()]
HTTP_TOOLS = [(svc, tool) for svc, tool in ALL_TOOLS if tool.handler == "http"]


@pytest.mark.parametrize("service", SERVICES)
def test_exact_tool_set(service):
    names = [t.name for t in SERVICE_SPECS[service].all_tools()]
    assert len(names) == len(set(names)), "duplicate tool names"
    assert names == tools_of(service), "tool list differs from the reference (order included)"
    assert len(names) == TOOL_COUNTS[service]


def test_no_tool_outside_the_catalog():
    declared = {t.name for _, t in ALL_TOOLS}
    assert declared == set(ROUTES)


def test_discovery_tools_are_not_declared_by_packages():
    for service, spec in SERVICE_SPECS.items():
        own = {t.name for t in spec.tools}
        assert f"{service}_list_connectors" not in own
        assert f"{service}_list_integrations" not in own
        assert all(t.handler == "http" for t in spec.tools)


@pytest.mark.parametrize(("service", "tool"), HTTP_TOOLS, ids=[t.name for _, t in HTTP_TOOLS])
def test_route_matches_contract(service, tool):
    method, path = ROUTES[tool.name]
    assert tool.method == method
    rendered = PLACEHOLDER.sub(lambda m: "{" + camel_case(m.group(1)) + "}", tool.path)
    assert rendered == path
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
    if tool.method != "GET":
        assert any(p.location in ("body", "file") for p in tool.params)
    else:
        assert all(p.location in ("path", "query") for p in tool.params)


def test_ticketing_attachment_is_multipart_base64():
    tool = next(t for t in SERVICE_SPECS["ticketing"].tools if t.name == "ticketing_create_attachment")
    assert tool.body_format == "multipart"
    params = {p.name: p for p in tool.params}
    file_data = params["file_data"]
    assert file_data.location == "file" and file_data.base64 and file_data.required
    assert params["file_data"].wire_name == "file"
    assert {params[n].wire_name for n in ("file_name", "mime_type", "description")} == {
        "fileName",
        "mimeType",
        "description",
    }
    assert params["file_name"].required and params["mime_type"].required


def test_link_tickets_wire_names_follow_contract():
    tool = next(t for t in SERVICE_SPECS["ticketing"].tools if t.name == "ticketing_link_tickets")
    wires = {p.wire_name for p in tool.params if p.location == "body"}
    assert wires == {"sourceTicketId", "targetTicketId", "linkType", "comment"}


def test_enums_follow_contract():
    by_name = {t.name: {p.name: p for p in t.params} for _, t in ALL_TOOLS}
    pr = by_name["scm_create_pull_request"]
    assert pr["state"].enum == ("opened", "closed", "merged")
    assert pr["visibility"].enum == ("public", "private")
    assert all(pr[n].required for n in ("title", "source", "target"))
    assert not any(p.required for p in by_name["scm_update_pull_request"].values() if p.location == "body")
    ticket = by_name["ticketing_create_ticket"]
    assert ticket["type"].enum == ("bug", "feature", "task", "security", "enhancement")
    assert ticket["priority"].enum == ("low", "medium", "high", "critical")
    assert all(ticket[n].required for n in ("name", "description", "type"))
    assert "status" not in ticket
    update = by_name["ticketing_update_ticket"]
    assert update["status"].enum == ("open", "in_progress", "resolved", "closed")
    assert not any(p.required for p in update.values() if p.location == "body")
    assert by_name["ticketing_create_label"]["color"].pattern == "^#[0-9A-Fa-f]{6}$"
    bulk = by_name["ticketing_create_bulk_tickets"]["tickets"]
    assert (bulk.min_items, bulk.max_items, bulk.items) == (1, 100, "object")


@pytest.mark.parametrize("service", SERVICES)
def test_service_metadata(service):
    spec = SERVICE_SPECS[service]
    assert spec.name == service
    assert spec.package == PACKAGES[service]
    assert spec.version == version(PACKAGES[service])
    assert spec.key_variable == f"UNIZO_{service.upper()}_API_KEY"
    assert spec.connectors and spec.title and spec.description


@pytest.mark.parametrize("service", SERVICES)
def test_entry_points_registered(service):
    eps = {ep.name: ep for ep in entry_points(group="unizo_mcp.services")}
    assert eps[service].value == f"{MODULES[service]}.tools:SERVICE"
    assert eps[service].load() is SERVICE_SPECS[service]
    scripts = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert scripts[PACKAGES[service]] == f"{MODULES[service]}.__main__:main"


@pytest.mark.parametrize("package", [*SERVICES, "server"])
def test_pyproject_depends_on_core_only(package):
    data = tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text())
    project = data["project"]
    assert project["dependencies"] == ["unizo-mcp-core>=0.1,<0.2"]
    assert project["requires-python"] == ">=3.11"
    assert project["dynamic"] == ["version"]
    requires = distribution(project["name"]).requires or []
    assert [r for r in requires if "extra ==" not in r] == ["unizo-mcp-core<0.2,>=0.1"]


def test_all_in_one_extra_pulls_the_four_services():
    data = tomllib.loads((ROOT / "packages" / "server" / "pyproject.toml").read_text())
    extra = data["project"]["optional-dependencies"]["all"]
    assert sorted(r.split(">=")[0] for r in extra) == sorted(PACKAGES.values())
    assert "entry-points" not in data["project"], "the all-in-one server registers no service"


def test_package_sources_stay_small():
    """Declarations, an entry point and a version; anything more means the core lacks something."""
    for package in SERVICES:
        src = ROOT / "packages" / package / "src" / MODULES[package]
        files = sorted(p.name for p in src.glob("*.py"))
        assert files == ["__init__.py", "__main__.py", "tools.py"]
        main = (src / "__main__.py").read_text()
        assert "run(SERVICE)" in main
