"""The MCP server in process (`mcp.Client(server.mcp)`) against the sandbox over real HTTPS."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest
from mcp import Client
from mcp_specs import EDR, TICKETING
from unizo_mcp_core import diagnostics
from unizo_mcp_core.errors import (
    EnvironmentMismatchError,
    ExitCode,
    ExpiredKeyError,
    PermissionDeniedError,
    UnizoError,
)
from unizo_mcp_core.schema import input_schema
from unizo_mcp_core.server import UnizoServer, prepare_server
from unizo_mcp_core.settings import load_settings
from unizo_mcp_core.spec import ServiceSpec
from unizo_testkit import mcp_hints

Make = Callable[..., Awaitable[UnizoServer]]


@pytest.fixture
async def make_server(sandbox: Any) -> AsyncIterator[Make]:
    servers: list[UnizoServer] = []

    async def make(services: Sequence[ServiceSpec] = (EDR,), role: str = "full", **env: str) -> UnizoServer:
        name = services[0].name if len(services) == 1 else None
        settings = load_settings(name, {**sandbox.env(role), "UNIZO_RETRY_ATTEMPTS": "0", **env})
        server = await prepare_server(settings, services)
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.aclose()


def text(result: Any) -> str:
    assert len(result.content) == 1
    return str(result.content[0].text)


def has_none(value: Any) -> bool:
    if isinstance(value, dict):
        return any(v is None or has_none(v) for v in value.values())
    if isinstance(value, list):
        return any(v is None or has_none(v) for v in value)
    return False


def api_requests(sandbox: Any, prefix: str = "/api/v1/") -> list[Any]:
    return [
        r for r in sandbox.requests() if r.path.startswith(prefix) and r.path != "/api/v1/integrations/search"
    ]


# --- tools/list ----------------------------------------------------------------------------------


async def test_tools_list_carries_the_declared_schemas_and_annotations(make_server: Make) -> None:
    server = await make_server([EDR, TICKETING])
    async with Client(server.mcp) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
    declared = [t for s in (EDR, TICKETING) for t in s.all_tools()]
    assert list(tools) == [t.name for t in declared]
    for spec in declared:
        tool = tools[spec.name]
        assert tool.input_schema == input_schema(spec)  # exactly ours, not inferred
        assert tool.description == spec.description
        assert tool.title == spec.title
        notes = tool.annotations
        assert notes is not None
        wire = notes.model_dump(by_alias=True, exclude_none=True)
        assert wire == mcp_hints(spec.annotations)
    assert tools["ticketing_create_ticket"].annotations.read_only_hint is False  # type: ignore[union-attr]
    # What the model reads of each tool every turn: name, description, input schema (compact JSON).
    sizes = [
        len(
            json.dumps(
                t.model_dump(by_alias=True, include={"name", "description", "input_schema"}),
                separators=(",", ":"),
            )
        )
        for t in tools.values()
    ]
    assert sum(sizes) / len(sizes) < 600, sizes


async def test_tool_list_identical_across_servers_and_sessions(make_server: Make) -> None:
    dumps = []
    for _ in range(2):
        server = await make_server([EDR, TICKETING])
        for _ in range(2):
            async with Client(server.mcp) as session:
                tools = (await session.list_tools()).tools
            dumps.append(
                json.dumps([t.model_dump(by_alias=True, mode="json") for t in tools], sort_keys=True)
            )
    assert len(set(dumps)) == 1


# --- calls ---------------------------------------------------------------------------------------


async def test_list_and_get_with_explicit_integration(make_server: Make, sandbox: Any) -> None:
    crowdstrike = next(i for i in sandbox.integrations("edr") if i["serviceProfile"]["name"] == "crowdstrike")
    server = await make_server()
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        listed = await session.call_tool(
            "edr_list_devices",
            {"integration_id": crowdstrike["id"], "limit": 3, "offset": 1, "sort": "-lastSeen"},
        )
        assert not listed.is_error, text(listed)
        content = listed.structured_content
        assert content is not None and set(content) == {"data", "pagination"}
        assert len(content["data"]) == 3 and content["pagination"]["limit"] == 3
        assert not has_none(content)
        assert json.loads(text(listed)) == content  # compact JSON text mirrors the structured content
        device = content["data"][0]["id"]
        got = await session.call_tool(
            "edr_get_device_details", {"integration_id": crowdstrike["id"], "device_id": device}
        )
        assert not got.is_error and got.structured_content["data"]["id"] == device  # type: ignore[index]
    sent = api_requests(sandbox)
    assert [r.path for r in sent] == ["/api/v1/edr/devices", f"/api/v1/edr/devices/{device}"]
    assert sent[0].raw_path == "/api/v1/edr/devices?offset=1&limit=3&sort=-lastSeen"
    assert {r.integration_id for r in sent} == {crowdstrike["id"]}


async def test_snake_case_arguments_reach_the_api_in_camel_case(make_server: Make, sandbox: Any) -> None:
    server = await make_server([TICKETING], UNIZO_TICKETING_INTEGRATION_ID=_jira(sandbox))
    async with Client(server.mcp) as session:
        org, collection = await _org_and_collection(session)
        created = await session.call_tool(
            "ticketing_create_ticket",
            {
                "organization_id": org,
                "collection_id": collection,
                "name": "Rotate key",
                "description": "Leaked in CI logs.",
                "type": "security",
                "priority": "critical",
                "due_date": "2027-01-31",
            },
        )
        assert not created.is_error, text(created)
        ticket = created.structured_content["data"]  # type: ignore[index]
        assert ticket["dueDate"] == "2027-01-31" and ticket["priority"] == "critical"
        assert "metadata" in ticket and not has_none(ticket)
        sent = [r for r in sandbox.requests() if r.method == "POST" and "/tickets" in r.path]
        assert [r.path for r in sent] == [f"/api/v1/ticketing/{org}/collections/{collection}/tickets"]
        assert sent[0].status == 201


async def test_multipart_upload(make_server: Make, sandbox: Any) -> None:
    server = await make_server([TICKETING], UNIZO_TICKETING_INTEGRATION_ID=_jira(sandbox))
    async with Client(server.mcp) as session:
        org, collection = await _org_and_collection(session)
        tickets = await session.call_tool(
            "ticketing_list_tickets", {"organization_id": org, "collection_id": collection}
        )
        ticket = tickets.structured_content["data"][0]["id"]  # type: ignore[index]
        content = b"line 1\nline 2\n"
        added = await session.call_tool(
            "ticketing_add_attachment",
            {
                "organization_id": org,
                "collection_id": collection,
                "ticket_id": ticket,
                "file": base64.b64encode(content).decode(),
                "file_name": "notes.txt",
                "mime_type": "text/plain",
                "description": "triage notes",
            },
        )
    assert not added.is_error, text(added)
    attachment = added.structured_content["data"]  # type: ignore[index]
    assert attachment["fileName"] == "notes.txt" and attachment["fileSize"] == len(content)
    assert attachment["mimeType"] == "text/plain" and attachment["description"] == "triage notes"


HOSTILE = ["..", ".", "../integrations", "a/b", "%2e%2e", "x?y=1", "x#y", "-x", "a\nb", "a\u202eb", "\\", ""]


@pytest.mark.parametrize("value", HOSTILE, ids=[repr(v) for v in HOSTILE])
async def test_hostile_path_values_never_reach_the_api(make_server: Make, sandbox: Any, value: str) -> None:
    server = await make_server(UNIZO_EDR_INTEGRATION_ID=sandbox.integrations("edr")[0]["id"])
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        result = await session.call_tool("edr_get_device_details", {"device_id": value})
    assert result.is_error
    message = text(result)
    assert message.startswith("edr_get_device_details failed: ")
    assert "device_id" in message
    assert api_requests(sandbox) == []


async def test_api_errors_are_one_actionable_paragraph(make_server: Make, sandbox: Any) -> None:
    server = await make_server(UNIZO_EDR_INTEGRATION_ID=sandbox.integrations("edr")[0]["id"])
    async with Client(server.mcp) as session:
        result = await session.call_tool("edr_get_device_details", {"device_id": "no-such-device"})
        sorted_badly = await session.call_tool("edr_list_devices", {"sort": "nonexistentField"})
    assert result.is_error
    message = text(result)
    assert message.startswith("edr_get_device_details failed: ")
    assert "HTTP 404" in message and "errorCode AP-4040001" in message and "correlationId " in message
    assert "Check the id" in message
    assert "\n" not in message
    assert sorted_badly.is_error and "HTTP 400" in text(sorted_badly) and "AP-4000001" in text(sorted_badly)


# --- integration_id resolution -----------------------------------------------------------------------


async def test_several_integrations_error_lists_them(make_server: Make, sandbox: Any) -> None:
    server = await make_server()
    async with Client(server.mcp) as session:
        result = await session.call_tool("edr_list_devices", {})
    assert result.is_error
    message = text(result)
    assert message.startswith(
        "edr_list_devices failed: integration_id is required: this key sees 2 EDR integrations: "
    )
    for integration in sandbox.integrations("edr"):
        assert (
            f"{integration['id']} ({integration['name']}, {integration['serviceProfile']['name']})" in message
        )
    assert "UNIZO_EDR_INTEGRATION_ID" in message


async def test_env_integration_id_is_used(make_server: Make, sandbox: Any) -> None:
    chosen = sandbox.integrations("edr")[1]["id"]
    server = await make_server(UNIZO_INTEGRATION_ID=chosen)
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        result = await session.call_tool("edr_list_devices", {"limit": 1})
    assert not result.is_error, text(result)
    assert [r.integration_id for r in sandbox.requests() if r.path == "/api/v1/edr/devices"] == [chosen]
    assert not any(r.path == "/api/v1/integrations/search" for r in sandbox.requests())


async def test_single_visible_integration_is_used(make_server: Make, sandbox: Any) -> None:
    (only,) = sandbox.integrations("edr", "service_disabled")
    server = await make_server(role="service_disabled")
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        first = await session.call_tool("edr_list_devices", {"limit": 1})
        second = await session.call_tool("edr_list_devices", {"limit": 1})
    assert not first.is_error and not second.is_error, text(first)
    searches = [r for r in sandbox.requests() if r.path == "/api/v1/integrations/search"]
    assert len(searches) == 1  # cached for the process
    assert [r.integration_id for r in sandbox.requests() if r.path == "/api/v1/edr/devices"] == [
        only["id"]
    ] * 2


async def test_explicit_argument_wins_over_env(make_server: Make, sandbox: Any) -> None:
    first, second = (i["id"] for i in sandbox.integrations("edr"))
    server = await make_server(UNIZO_EDR_INTEGRATION_ID=first)
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        await session.call_tool("edr_list_devices", {"integration_id": second, "limit": 1})
    assert [r.integration_id for r in sandbox.requests() if r.path == "/api/v1/edr/devices"] == [second]


async def test_discovery_tools(make_server: Make, sandbox: Any) -> None:
    server = await make_server()
    async with Client(server.mcp) as session:
        connectors = await session.call_tool("edr_list_connectors", {})
        integrations = await session.call_tool("edr_list_integrations", {"connector": "CrowdStrike"})
        nothing = await session.call_tool("edr_list_integrations", {"connector": "nobody"})
    assert connectors.structured_content == {"data": ["crowdstrike", "sentinelone"]}
    expected = [
        {"id": i["id"], "name": i["name"]}
        for i in sandbox.integrations("edr")
        if i["serviceProfile"]["name"] == "crowdstrike"
    ]
    assert integrations.structured_content == {"data": expected}
    assert nothing.structured_content == {"data": []}


# --- policy through the server ------------------------------------------------------------------------


async def test_read_only_key_hides_and_refuses_write_tools(make_server: Make, sandbox: Any) -> None:
    server = await make_server([TICKETING], role="readonly")
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        result = await session.call_tool(
            "ticketing_create_ticket", {"organization_id": "o", "collection_id": "c"}
        )
    assert "ticketing_create_ticket" not in names and "ticketing_add_attachment" not in names
    assert "ticketing_list_tickets" in names
    assert result.is_error
    assert text(result) == (
        "ticketing_create_ticket is not available: hidden by the API key's permissions: "
        "the key lacks ticketing:write."
    )
    assert api_requests(sandbox) == []


@pytest.mark.parametrize(
    ("env", "tool", "rule"),
    [
        ({"UNIZO_READ_ONLY": "true"}, "ticketing_create_ticket", "--read-only (UNIZO_READ_ONLY)"),
        (
            {"UNIZO_EXCLUDE_TOOLS": "ticketing_list_tickets"},
            "ticketing_list_tickets",
            "--exclude-tools (UNIZO_EXCLUDE_TOOLS)",
        ),
        (
            {
                "UNIZO_TOOLS": "ticketing_list_tickets,ticketing_create_ticket",
                "UNIZO_EXCLUDE_TOOLS": "ticketing_create_ticket",
            },
            "ticketing_create_ticket",
            "--exclude-tools (UNIZO_EXCLUDE_TOOLS)",
        ),
        (
            {"UNIZO_TOOLS": "ticketing_list_tickets"},
            "ticketing_get_ticket",
            "--tools (UNIZO_TOOLS): not in the allow-list",
        ),
    ],
)
async def test_operator_rules_hide_and_refuse_by_name(
    make_server: Make, env: dict[str, str], tool: str, rule: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="unizo_mcp")
    server = await make_server([TICKETING], **env)
    async with Client(server.mcp) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        result = await session.call_tool(tool, {})
    assert tool not in names
    assert result.is_error and text(result) == f"{tool} is not available: hidden by {rule}."
    assert f"tool {tool} hidden by {rule}" in caplog.text  # logged at startup with its rule


async def test_unknown_tool_names_are_warned_with_valid_names(
    make_server: Make, caplog: pytest.LogCaptureFixture
) -> None:
    await make_server([EDR], UNIZO_TOOLS="edr_list_devices,edr_list_devicez")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "--tools (UNIZO_TOOLS) names unknown tool(s) edr_list_devicez; valid names: edr_list_connectors, "
        in w
        for w in warnings
    ), warnings


async def test_all_in_one_union_of_permissions(make_server: Make) -> None:
    server = await make_server([EDR, TICKETING], role="edr_only")
    async with Client(server.mcp) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        refused = await session.call_tool(
            "ticketing_list_tickets", {"organization_id": "o", "collection_id": "c"}
        )
    assert names == [t.name for t in EDR.all_tools()]
    assert text(refused) == (
        "ticketing_list_tickets is not available: hidden by the API key's permissions: "
        "the key lacks ticketing:read."
    )
    assert server.mcp.name == "unizo"


async def test_readonly_all_in_one_shows_reads_of_every_service(make_server: Make) -> None:
    server = await make_server([EDR, TICKETING], role="readonly")
    async with Client(server.mcp) as session:
        names = {t.name for t in (await session.list_tools()).tools}
    assert names == {t.name for s in (EDR, TICKETING) for t in s.all_tools() if t.permission.value == "read"}


# --- startup refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "services", "error", "code", "words"),
    [
        ("expired", (EDR,), ExpiredKeyError, ExitCode.AUTH, "expired"),
        ("development", (EDR,), EnvironmentMismatchError, ExitCode.AUTH, "development environment"),
        ("wrong_environment", (EDR,), EnvironmentMismatchError, ExitCode.AUTH, "staging"),
        (
            "edr_only",
            (TICKETING,),
            PermissionDeniedError,
            ExitCode.FORBIDDEN,
            "no permission on the ticketing service",
        ),
        ("service_disabled", (EDR, TICKETING), None, None, None),
    ],
)
async def test_startup_refusals(
    make_server: Make,
    role: str,
    services: tuple[ServiceSpec, ...],
    error: type[UnizoError] | None,
    code: ExitCode | None,
    words: str | None,
) -> None:
    if error is None:
        server = await make_server(services, role=role)  # Beta has edr and ticketing: no refusal
        assert server.state.view.scopes[0].key_info is not None
        return
    with pytest.raises(error) as caught:
        await make_server(services, role=role)
    assert caught.value.exit_code == code
    assert words is not None and words in caught.value.describe()


async def test_no_permission_message_matches_test_auth(make_server: Make, sandbox: Any) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        await make_server([TICKETING], role="edr_only")
    out = io.StringIO()
    settings = load_settings("ticketing", {**sandbox.env("edr_only"), "UNIZO_RETRY_ATTEMPTS": "0"})
    code = await diagnostics.test_auth(settings, [TICKETING], out=out)
    assert code == ExitCode.FORBIDDEN
    assert out.getvalue().splitlines()[-1] == f"Result: FAILED: {caught.value.describe()}"
    assert "UNIZO_TICKETING_API_KEY" in caught.value.describe()


async def test_unreachable_api_still_serves(make_server: Make) -> None:
    server = await make_server([EDR], UNIZO_BASE_URL="https://127.0.0.1:9", UNIZO_INTEGRATION_ID="i-1")
    assert server.state.view.scopes[0].key_info is None
    async with Client(server.mcp) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        result = await session.call_tool("edr_list_devices", {})
    assert names == [t.name for t in EDR.all_tools()]
    assert result.is_error and "could not connect to 127.0.0.1:9" in text(result)
    assert "check UNIZO_BASE_URL" in text(result)


# --- helpers ----------------------------------------------------------------------------------------


def _jira(sandbox: Any) -> str:
    return str(
        next(i["id"] for i in sandbox.integrations("ticketing") if i["serviceProfile"]["name"] == "jira")
    )


async def _org_and_collection(session: Any) -> tuple[str, str]:
    orgs = await session.call_tool("ticketing_list_organizations", {"limit": 1})
    assert not orgs.is_error, text(orgs)
    org = orgs.structured_content["data"][0]["id"]
    collections = await session.call_tool("ticketing_list_collections", {"organization_id": org, "limit": 1})
    assert not collections.is_error, text(collections)
    return org, collections.structured_content["data"][0]["id"]
