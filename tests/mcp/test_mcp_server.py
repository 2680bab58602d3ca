"""The MCP server in process (`mcp.Client(server.mcp)`) against the sandbox over real HTTPS.

Services and tools are chosen by what they are (servicekit's selectors), never by name: every installed
service that has the shape a test needs is served, and a new service is covered without a change here.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp_helpers import closed_port, enabled_services, service_examples, two_services
from servicekit import (
    Session,
    Walker,
    a_service,
    examples_of,
    expected_path,
    has_writes,
    is_category,
    is_create,
    is_get,
    is_list,
    is_top_list,
    is_write,
    services_where,
    tools_where,
)
from unizo_mcp_core import diagnostics
from unizo_mcp_core.errors import (
    EnvironmentMismatchError,
    ExitCode,
    ExpiredKeyError,
    PermissionDeniedError,
    ServiceNotEnabledError,
    UnizoError,
)
from unizo_mcp_core.schema import input_schema
from unizo_mcp_core.server import UnizoServer, prepare_server
from unizo_mcp_core.settings import load_settings
from unizo_mcp_core.shaping import value_at
from unizo_mcp_core.spec import ServiceSpec, ToolSpec
from unizo_testkit import mcp_hints

Make = Callable[..., Awaitable[UnizoServer]]
ALL_ACTIONS = ["read", "write", "delete"]


@pytest.fixture
async def make_server(sandbox: Any) -> AsyncIterator[Make]:
    servers: list[UnizoServer] = []

    async def make(
        services: Sequence[ServiceSpec], role: str = "full", key: str | None = None, **env: str
    ) -> UnizoServer:
        name = services[0].name if len(services) == 1 else None
        environ = {**sandbox.env(role), "UNIZO_RETRY_ATTEMPTS": "0", **env}
        if key is not None:
            environ["UNIZO_API_KEY"] = key
        server = await prepare_server(load_settings(name, environ), services)
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.aclose()


def categories_where(predicate: Any = lambda spec: True) -> list[ServiceSpec]:
    """Installed categories (the integration mechanics tested here do not apply to account-level services)."""
    return services_where(lambda spec: is_category(spec) and predicate(spec))


def a_category(predicate: Any = lambda spec: True) -> ServiceSpec:
    found = categories_where(predicate)
    assert found, "no installed category has what this test needs"
    return found[0]


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


def data_requests(sandbox: Any, tool: ToolSpec) -> list[Any]:
    """The recorded requests of a tool without path parameters."""
    return [r for r in sandbox.requests() if r.path == "/api/v1" + tool.path]


# --- what the tests need, by shape -------------------------------------------------------------------


def list_and_get(spec: ServiceSpec) -> tuple[ToolSpec, ToolSpec] | None:
    """A top-level list and the get tool of one of its records (one path parameter, the record's id)."""
    for get in tools_where(spec, is_get):
        (*parents, param) = get.path_params()
        source = spec.id_source(param.name)
        if not parents and source is not None and is_top_list(source):
            return source, get
    return None


def top_list(spec: ServiceSpec) -> ToolSpec:
    return tools_where(spec, is_top_list)[0]


def one_id_get(spec: ServiceSpec) -> ToolSpec:
    """A get tool whose only path parameter is the record's id."""
    return next(t for t in tools_where(spec, is_get) if len(t.path_params()) == 1)


def has_one_id_get(spec: ServiceSpec) -> bool:
    return any(len(t.path_params()) == 1 for t in tools_where(spec, is_get))


def has_top_list(spec: ServiceSpec) -> bool:
    return bool(tools_where(spec, is_top_list))


def multi_word_json_write(spec: ServiceSpec) -> ToolSpec | None:
    """A JSON write whose example sets a body parameter named in several words (snake vs camel case)."""
    examples = service_examples(spec)
    for tool in tools_where(spec, is_write):
        example = examples.get(tool.name)
        if tool.body_format != "json" or example is None:
            continue
        if any(
            p.location == "body" and p.name != p.wire_name and p.name in example.args for p in tool.params
        ):
            return tool
    return None


def multipart_write(spec: ServiceSpec) -> ToolSpec | None:
    examples = service_examples(spec)
    found = [t for t in tools_where(spec, is_write) if t.body_format == "multipart" and t.name in examples]
    return found[0] if found else None


def first_service(fits: Callable[[ServiceSpec], bool], why: str) -> ServiceSpec:
    """The first installed service (name order) with a top-level list whose sandbox data fits the test."""
    found = [spec for spec in categories_where(has_top_list) if fits(spec)]
    assert found, f"no installed service has {why} in the sandbox"
    return found[0]


def two_integrations(sandbox: Any) -> ServiceSpec:
    return first_service(lambda s: len(sandbox.integrations(s.name)) >= 2, "two integrations")


# --- tools/list ----------------------------------------------------------------------------------


async def test_tools_list_carries_the_declared_schemas_and_annotations(make_server: Make) -> None:
    services = categories_where()
    server = await make_server(services)
    async with Client(server.mcp) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
    declared = [t for s in services for t in s.all_tools()]
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
    write = tools_where(a_category(has_writes), is_write)[0]
    assert tools[write.name].annotations.read_only_hint is False  # type: ignore[union-attr]
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
        server = await make_server(categories_where())
        for _ in range(2):
            async with Client(server.mcp) as session:
                tools = (await session.list_tools()).tools
            dumps.append(
                json.dumps([t.model_dump(by_alias=True, mode="json") for t in tools], sort_keys=True)
            )
    assert len(set(dumps)) == 1


# --- calls ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec", categories_where(lambda s: list_and_get(s) is not None), ids=lambda s: s.name
)
async def test_list_and_get_with_explicit_integration(
    make_server: Make, sandbox: Any, spec: ServiceSpec
) -> None:
    lister, getter = list_and_get(spec)  # type: ignore[misc]
    integration = sandbox.integrations(spec.name)[0]["id"]
    server = await make_server([spec])
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        everything = await session.call_tool(lister.name, {"integration_id": integration, "limit": 100})
        total = len(everything.structured_content["data"])  # type: ignore[index]
        assert total >= 2, f"{lister.name}: the sandbox needs two records for this test"
        # every record has an id, and every list of the sandbox sorts by it
        listed = await session.call_tool(
            lister.name, {"integration_id": integration, "limit": 3, "offset": 1, "sort": "-id"}
        )
        assert not listed.is_error, text(listed)
        content = listed.structured_content
        assert content is not None and set(content) == {"data", "pagination"}
        assert len(content["data"]) == min(3, total - 1) == content["pagination"]["returned"]
        ids = [record["id"] for record in content["data"]]
        assert ids == sorted(ids, reverse=True)
        assert not has_none(content)
        assert json.loads(text(listed)) == content  # compact JSON text mirrors the structured content
        record = ids[0]
        param = getter.path_params()[0].name
        got = await session.call_tool(getter.name, {"integration_id": integration, param: record})
        assert not got.is_error and got.structured_content["data"]["id"] == record  # type: ignore[index]
    sent = api_requests(sandbox)
    assert [r.path for r in sent[1:]] == [
        "/api/v1" + lister.path,
        expected_path(getter, {param: record}),
    ]
    assert sent[1].raw_path == f"/api/v1{lister.path}?offset=1&limit=3&sort=-id"
    assert {r.integration_id for r in sent} == {integration}


@pytest.mark.parametrize(
    "spec", categories_where(lambda s: multi_word_json_write(s) is not None), ids=lambda s: s.name
)
async def test_snake_case_arguments_reach_the_api_in_camel_case(
    make_server: Make, sandbox: Any, sent: list[dict[str, Any]], spec: ServiceSpec
) -> None:
    tool = multi_word_json_write(spec)
    assert tool is not None
    server = await make_server([spec])
    async with Client(server.mcp) as client:
        args = await Walker(Session(client, sandbox, None), spec, service_examples(spec)).arguments(tool)
        before, calls = len(sandbox.requests()), len(sent)
        created = await client.call_tool(tool.name, args)
    assert not created.is_error, text(created)
    record = created.structured_content["data"]  # type: ignore[index]
    assert not has_none(record)
    recorded = sandbox.requests()[before:]
    assert [(r.method, r.raw_path.split("?")[0]) for r in recorded] == [
        (tool.method, expected_path(tool, args))
    ]
    assert 200 <= recorded[0].status < 300  # the sandbox refuses unknown (snake_case) properties
    (call,) = sent[calls:]
    body = call["json"]
    given = [p for p in tool.params if p.location == "body" and args.get(p.name) is not None]
    multi_word = [p for p in given if p.name != p.wire_name]
    assert multi_word
    for param in given:  # a dotted wire name ("priority.type") is a nested member
        assert value_at(body, param.wire_name) is not None, param.wire_name
        if param.name != param.wire_name:
            assert param.name not in body
        echoed = value_at(record, param.wire_name)
        if isinstance(args[param.name], str | int | float | bool) and echoed is not None:
            assert echoed == args[param.name]


async def test_multipart_upload(make_server: Make, sandbox: Any, sent: list[dict[str, Any]]) -> None:
    spec = a_category(lambda s: multipart_write(s) is not None)
    tool = multipart_write(spec)
    assert tool is not None
    server = await make_server([spec])
    async with Client(server.mcp) as client:
        args = await Walker(Session(client, sandbox, None), spec, service_examples(spec)).arguments(tool)
        calls = len(sent)
        added = await client.call_tool(tool.name, args)
    assert not added.is_error, text(added)
    record = added.structured_content["data"]  # type: ignore[index]
    (file_param,) = [p for p in tool.params if p.base64]
    content = base64.b64decode(args[file_param.name])
    (call,) = sent[calls:]
    assert call["json"] is None
    parts = call["multipart"]
    assert parts[file_param.wire_name][1] == content  # decoded from base64 before sending
    fields = [p for p in tool.params if p.location == "body" and args.get(p.name) is not None]
    echoed = [p for p in fields if p.wire_name in record]
    assert echoed, record
    for param in fields:
        assert parts[param.wire_name] == str(args[param.name])
    for param in echoed:
        assert record[param.wire_name] == args[param.name]
    assert record.get("fileSize", len(content)) == len(content)


HOSTILE = ["..", ".", "../integrations", "a/b", "%2e%2e", "x?y=1", "x#y", "-x", "a\nb", "a\u202eb", "\\", ""]


@pytest.mark.parametrize("value", HOSTILE, ids=[repr(v) for v in HOSTILE])
async def test_hostile_path_values_never_reach_the_api(make_server: Make, sandbox: Any, value: str) -> None:
    # an id the core cannot resolve by itself: a resolvable one left empty is looked up, which is a request
    def fixed_id_get(spec: ServiceSpec) -> ToolSpec | None:
        gets = [t for t in tools_where(spec, is_get) if len(t.path_params()) == 1]
        return next((t for t in gets if not t.path_params()[0].resolvable), None)

    spec = a_category(lambda s: fixed_id_get(s) is not None)
    getter = fixed_id_get(spec)
    assert getter is not None
    param = getter.path_params()[0].name
    integration = sandbox.integrations(spec.name)[0]["id"]
    server = await make_server([spec], UNIZO_INTEGRATION_ID=integration)
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        result = await session.call_tool(getter.name, {param: value})
    assert result.is_error
    message = text(result)
    assert message.startswith(f"{getter.name} failed: ")
    assert param in message
    assert api_requests(sandbox) == []


async def test_api_errors_are_one_actionable_paragraph(make_server: Make, sandbox: Any) -> None:
    spec = a_category(lambda s: has_one_id_get(s) and has_top_list(s))
    getter, lister = one_id_get(spec), top_list(spec)
    integration = sandbox.integrations(spec.name)[0]["id"]
    server = await make_server([spec], UNIZO_INTEGRATION_ID=integration)
    async with Client(server.mcp) as session:
        result = await session.call_tool(getter.name, {getter.path_params()[0].name: "no-such-record"})
        sorted_badly = await session.call_tool(lister.name, {"sort": "nonexistentField"})
    assert result.is_error
    message = text(result)
    assert message.startswith(f"{getter.name} failed: ")
    assert "HTTP 404" in message and "errorCode AP-4040001" in message and "correlationId " in message
    assert "Check the id" in message
    assert "\n" not in message
    assert sorted_badly.is_error and "HTTP 400" in text(sorted_badly) and "AP-4000001" in text(sorted_badly)


# --- integration_id resolution -----------------------------------------------------------------------


async def test_several_integrations_error_lists_them(make_server: Make, sandbox: Any) -> None:
    spec = two_integrations(sandbox)
    lister = top_list(spec)
    integrations = sandbox.integrations(spec.name)
    server = await make_server([spec])
    async with Client(server.mcp) as session:
        result = await session.call_tool(lister.name, {})
    assert result.is_error
    message = text(result)
    assert message.startswith(
        f"{lister.name} failed: integration_id is required: this key sees {len(integrations)} "
        f"{spec.category} integrations: "
    )
    for integration in integrations:
        assert (
            f"{integration['id']} ({integration['name']}, {integration['serviceProfile']['name']})" in message
        )
    assert f"UNIZO_{spec.category}_INTEGRATION_ID" in message


async def test_env_integration_id_is_used(make_server: Make, sandbox: Any) -> None:
    spec = two_integrations(sandbox)
    lister = top_list(spec)
    chosen = sandbox.integrations(spec.name)[1]["id"]
    server = await make_server([spec], UNIZO_INTEGRATION_ID=chosen)
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        result = await session.call_tool(lister.name, {"limit": 1})
    assert not result.is_error, text(result)
    assert [r.integration_id for r in data_requests(sandbox, lister)] == [chosen]
    assert not any(r.path == "/api/v1/integrations/search" for r in sandbox.requests())


async def test_single_visible_integration_is_used(make_server: Make, sandbox: Any) -> None:
    role = "service_disabled"  # the second organization's key
    spec = first_service(
        lambda s: len(sandbox.integrations(s.name, role)) == 1, f"one integration for {role}"
    )
    lister = top_list(spec)
    (only,) = sandbox.integrations(spec.name, role)
    server = await make_server([spec], role=role)
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        first = await session.call_tool(lister.name, {"limit": 1})
        second = await session.call_tool(lister.name, {"limit": 1})
    assert not first.is_error and not second.is_error, text(first)
    searches = [r for r in sandbox.requests() if r.path == "/api/v1/integrations/search"]
    assert len(searches) == 1  # cached for the process
    assert [r.integration_id for r in data_requests(sandbox, lister)] == [only["id"]] * 2


async def test_explicit_argument_wins_over_env(make_server: Make, sandbox: Any) -> None:
    spec = two_integrations(sandbox)
    lister = top_list(spec)
    first, second = (i["id"] for i in sandbox.integrations(spec.name)[:2])
    server = await make_server([spec], **{f"UNIZO_{spec.category}_INTEGRATION_ID": first})
    sandbox.clear_requests()
    async with Client(server.mcp) as session:
        await session.call_tool(lister.name, {"integration_id": second, "limit": 1})
    assert [r.integration_id for r in data_requests(sandbox, lister)] == [second]


@pytest.mark.parametrize("spec", categories_where(), ids=lambda s: s.name)
async def test_discovery_tools(make_server: Make, sandbox: Any, spec: ServiceSpec) -> None:
    integrations = sandbox.integrations(spec.name)
    connectors = sorted({i["serviceProfile"]["name"] for i in integrations})
    assert connectors, f"the sandbox has no {spec.name} integration"
    server = await make_server([spec])
    async with Client(server.mcp) as session:
        listed = await session.call_tool(f"{spec.name}_list_connectors", {})
        # connector names match whatever their case
        of_first = await session.call_tool(
            f"{spec.name}_list_integrations", {"connector": connectors[0].swapcase()}
        )
        nothing = await session.call_tool(f"{spec.name}_list_integrations", {"connector": "nobody"})
    assert listed.structured_content == {"data": connectors}
    expected = [
        {"id": i["id"], "name": i["name"]}
        for i in integrations
        if i["serviceProfile"]["name"] == connectors[0]
    ]
    assert of_first.structured_content == {"data": expected}
    assert nothing.structured_content == {"data": []}


# --- policy through the server ------------------------------------------------------------------------


@pytest.mark.parametrize("spec", categories_where(has_writes), ids=lambda s: s.name)
async def test_read_only_key_hides_and_refuses_write_tools(
    make_server: Make, sandbox: Any, spec: ServiceSpec
) -> None:
    server = await make_server([spec], role="readonly")
    sandbox.clear_requests()
    writes = tools_where(spec, is_write)
    async with Client(server.mcp) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        result = await session.call_tool(writes[0].name, {})
    assert not names & {t.name for t in writes}
    assert {t.name for t in tools_where(spec, is_list)} <= names
    assert result.is_error
    assert text(result) == (
        f"{writes[0].name} is not available: hidden by the API key's permissions: "
        f"the key lacks {spec.name}:{writes[0].permission.value}."
    )
    assert api_requests(sandbox) == []


POLICY_SERVICE = a_category(lambda s: has_writes(s) and bool(tools_where(s, is_get)))
READ_TOOL = tools_where(POLICY_SERVICE, is_list)[0].name
GET_TOOL = tools_where(POLICY_SERVICE, is_get)[0].name
WRITE_TOOL = tools_where(POLICY_SERVICE, is_write)[0].name
EXCLUDE_RULE = "--exclude-tools (UNIZO_EXCLUDE_TOOLS)"


@pytest.mark.parametrize(
    ("env", "tool", "rule"),
    [
        ({"UNIZO_READ_ONLY": "true"}, WRITE_TOOL, "--read-only (UNIZO_READ_ONLY)"),
        ({"UNIZO_EXCLUDE_TOOLS": READ_TOOL}, READ_TOOL, EXCLUDE_RULE),
        (
            {"UNIZO_TOOLS": f"{READ_TOOL},{WRITE_TOOL}", "UNIZO_EXCLUDE_TOOLS": WRITE_TOOL},
            WRITE_TOOL,
            EXCLUDE_RULE,
        ),
        ({"UNIZO_TOOLS": READ_TOOL}, GET_TOOL, "--tools (UNIZO_TOOLS): not in the allow-list"),
    ],
    ids=["read-only", "exclude", "exclude beats allow", "allow-list"],
)
async def test_operator_rules_hide_and_refuse_by_name(
    make_server: Make, env: dict[str, str], tool: str, rule: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="unizo_mcp")
    server = await make_server([POLICY_SERVICE], **env)
    async with Client(server.mcp) as session:
        names = {t.name for t in (await session.list_tools()).tools}
        result = await session.call_tool(tool, {})
    assert tool not in names
    assert result.is_error and text(result) == f"{tool} is not available: hidden by {rule}."
    assert f"tool {tool} hidden by {rule}" in caplog.text  # logged at startup with its rule


async def test_unknown_tool_names_are_warned_with_valid_names(
    make_server: Make, caplog: pytest.LogCaptureFixture
) -> None:
    spec = a_category(has_top_list)
    lister = top_list(spec).name
    await make_server([spec], UNIZO_TOOLS=f"{lister},{lister}z")
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        f"--tools (UNIZO_TOOLS) names unknown tool(s) {lister}z; valid names: {spec.name}_list_connectors, "
        in w
        for w in warnings
    ), warnings


async def test_all_in_one_union_of_permissions(make_server: Make, new_key: Any) -> None:
    found = categories_where(has_top_list)
    assert len(found) >= 2, "this test needs two installed services with a top-level list"
    allowed, refused = found[:2]
    key = await new_key({allowed.name: ALL_ACTIONS})
    server = await make_server([allowed, refused], key=key)
    lister = top_list(refused)
    async with Client(server.mcp) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        result = await session.call_tool(lister.name, {})
    assert names == [t.name for t in allowed.all_tools()]
    assert text(result) == (
        f"{lister.name} is not available: hidden by the API key's permissions: "
        f"the key lacks {refused.name}:read."
    )
    assert server.mcp.name == "unizo"


async def test_readonly_all_in_one_shows_reads_of_every_service(make_server: Make) -> None:
    services = categories_where()
    server = await make_server(services, role="readonly")
    async with Client(server.mcp) as session:
        names = {t.name for t in (await session.list_tools()).tools}
    assert names == {t.name for s in services for t in s.all_tools() if t.permission.value == "read"}


# --- startup refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "error", "code", "words"),
    [
        ("expired", ExpiredKeyError, ExitCode.AUTH, "expired"),
        ("development", EnvironmentMismatchError, ExitCode.AUTH, "development environment"),
        ("wrong_environment", EnvironmentMismatchError, ExitCode.AUTH, "staging"),
    ],
)
async def test_startup_refusals(
    make_server: Make, role: str, error: type[UnizoError], code: ExitCode, words: str
) -> None:
    with pytest.raises(error) as caught:
        await make_server([a_category()], role=role)
    assert caught.value.exit_code == code
    assert words in caught.value.describe()


async def test_startup_refused_without_permission_on_the_service(make_server: Make, new_key: Any) -> None:
    other, served = two_services()
    key = await new_key({other.name: ALL_ACTIONS})
    with pytest.raises(PermissionDeniedError) as caught:
        await make_server([served], key=key)
    assert caught.value.exit_code == ExitCode.FORBIDDEN
    assert f"no permission on the {served.name} service" in caught.value.describe()


async def test_second_organization_key_serves_its_enabled_services(make_server: Make, sandbox: Any) -> None:
    role = "service_disabled"
    enabled = [s for s in categories_where() if s.name in enabled_services(sandbox, role)]
    assert enabled, "the second organization has no installed service enabled"
    server = await make_server(enabled, role=role)  # no refusal: every service is enabled for it
    assert server.state.view.scopes[0].key_info is not None


async def test_startup_refused_when_the_service_is_not_enabled(make_server: Make, sandbox: Any) -> None:
    role = "service_disabled"  # a key of the second organization, which lacks a service
    lacking = [s for s in categories_where() if s.name not in enabled_services(sandbox, role)]
    assert lacking, "the second organization has every installed service enabled"
    with pytest.raises(ServiceNotEnabledError) as caught:
        await make_server(lacking[:1], role=role)
    assert caught.value.exit_code == ExitCode.FORBIDDEN
    assert f"cannot use the {lacking[0].name} service: not enabled for the key's organization" in (
        caught.value.describe()
    )


async def test_no_permission_message_matches_test_auth(make_server: Make, sandbox: Any, new_key: Any) -> None:
    other, served = two_services()
    key = await new_key({other.name: ALL_ACTIONS})
    with pytest.raises(PermissionDeniedError) as caught:
        await make_server([served], key=key)
    out = io.StringIO()
    settings = load_settings(
        served.name, {**sandbox.env("full"), "UNIZO_API_KEY": key, "UNIZO_RETRY_ATTEMPTS": "0"}
    )
    code = await diagnostics.test_auth(settings, [served], out=out)
    assert code == ExitCode.FORBIDDEN
    assert out.getvalue().splitlines()[-1] == f"Result: FAILED: {caught.value.describe()}"
    assert served.key_variable in caught.value.describe()


async def test_unreachable_api_still_serves(make_server: Make) -> None:
    spec = a_category(has_top_list)
    lister = top_list(spec)
    port = closed_port()
    server = await make_server([spec], UNIZO_BASE_URL=f"https://127.0.0.1:{port}", UNIZO_INTEGRATION_ID="i-1")
    assert server.state.view.scopes[0].key_info is None
    async with Client(server.mcp) as session:
        names = [t.name for t in (await session.list_tools()).tools]
        result = await session.call_tool(lister.name, {})
    assert names == [t.name for t in spec.all_tools()]
    assert result.is_error and f"could not connect to 127.0.0.1:{port}" in text(result)
    assert "check UNIZO_BASE_URL" in text(result)


async def test_a_cancelled_write_is_logged_as_possibly_applied(
    open_server: Any, sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """No answer tells the client what a cancelled write did (MCP sends none): the log says it."""
    spec = a_service(lambda s: bool(tools_where(s, is_create)))
    tool = tools_where(spec, is_create)[0]
    assert tool.method == "POST"
    caplog.set_level("INFO", logger="unizo_mcp")
    async with open_server(spec.name) as session:
        args = await Walker(session, spec, examples_of(spec)).arguments(tool)
        sandbox.set_faults("POST *=latency:2000#1")  # the create, held at the API
        with anyio.move_on_after(0.5):  # the client gives up, as on notifications/cancelled
            await session.client.call_tool(tool.name, args)
    assert f"{tool.name} was cancelled before its answer" in caplog.text
    assert "it may have been applied" in caplog.text
    while not any(r.method == "POST" for r in sandbox.requests()):  # the API is done with it: the next
        await asyncio.sleep(0.05)  # test finds the sandbox idle


async def test_resources_and_prompts_are_listed_empty_and_naming_one_is_invalid_params(
    open_server: Any,
) -> None:
    """The server advertises the resources and prompts capabilities (clients probe them) with nothing in
    them: reading a resource or getting a prompt names one that does not exist, which is "invalid params"
    (as the SDK's MCPServer answers it), not "method not found"; what was named is not echoed."""
    from mcp.shared.exceptions import MCPError

    async with open_server(a_service().name) as session:
        assert (await session.client.list_resources()).resources == []
        assert (await session.client.list_prompts()).prompts == []
        with pytest.raises(MCPError) as read:
            await session.client.read_resource("unizo://secret-looking-uri")
        with pytest.raises(MCPError) as prompt:
            await session.client.get_prompt("secret-looking-name")
    assert (read.value.code, prompt.value.code) == (-32602, -32602)
    assert "has no resources" in read.value.message and "secret-looking" not in read.value.message
    assert "has no prompts" in prompt.value.message and "secret-looking" not in prompt.value.message
