"""What a service's own tests are made of: generated tool tests, snapshots and the fixtures they run on.

A service folder holds one small test module (packages/<svc>/tests/test_<svc>.py):

    from servicekit import Example, ref, service_tests
    from unizo_mcp_edr.tools import SERVICE

    EXAMPLES = {"edr_list_devices": Example({"limit": 5, "sort": "id"})}
    test_tool_succeeds, test_tool_fails, test_tool_snapshots = service_tests(SERVICE, EXAMPLES)

Everything else is derived from the declarations: path ids come from walking the data (the list tool
that names each id, `ServiceSpec.id_source`), a write's body from its `Example`, the request the sandbox
must receive from the tool's method and path, and the failure each tool must report (an unknown id gives
the API's 404 naming it; a key without the permission gives the 403 naming `<service>:<action>`).
The sandbox's own routes are written from the API contract, independently of the declarations: a
declaration with a wrong path or method fails its success test there.

This module is a pytest plugin (the root conftest.py loads it): `open_server`, `new_key`, `sent` (the
requests the servers made, as the core client was asked for them).
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import json
import os
import ssl
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import attrs
import pytest
from unizo_mcp_core.spec import Permission, ServiceSpec, ToolSpec
from unizo_testkit import text_of

API = "/api/v1"
VERIFY_PATH = "/v1/auth/verify"  # the key check every server makes when it starts
MISSING = "does-not-exist-4242"
UPDATE_SNAPSHOTS = "UPDATE_SNAPSHOTS"
SNAPSHOT_FIELDS = {"name", "title", "description", "input_schema", "annotations"}
_CANDIDATES = 8  # records tried per level when looking for a parent that has children


# --- the per-service table ---------------------------------------------------------------------------


@attrs.frozen
class Ref:
    """A value taken from the seeded data: `field` of the `index`-th record of `tool` that passes `where`."""

    tool: str
    field: str = "id"
    where: Callable[[Mapping[str, Any]], bool] | None = None
    index: int = 0


def ref(
    tool: str, field: str = "id", where: Callable[[Mapping[str, Any]], bool] | None = None, *, index: int = 0
) -> Ref:
    return Ref(tool, field, where, index)


@attrs.frozen
class Example:
    """The arguments a tool needs beyond the path ids the walk finds, and what its result must show."""

    args: Mapping[str, Any] = attrs.field(factory=dict)
    check: Callable[[Any], None] | None = None
    ids: Mapping[str, str] = attrs.field(factory=dict)  # path param -> record field other than "id"


# --- sessions -----------------------------------------------------------------------------------------


class Session:
    """An in-process MCP client session on one server, plus what a test needs to drive it."""

    def __init__(self, client: Any, sandbox: Any, key_file: Path | None) -> None:
        self.client = client
        self.sandbox = sandbox
        self.key_file = key_file
        self._integrations: dict[str, str] = {}

    async def call(self, tool: str, args: Mapping[str, Any] | None = None) -> Any:
        return await self.client.call_tool(tool, dict(args or {}))

    async def data(self, tool: str, args: Mapping[str, Any] | None = None) -> Any:
        """The `data` of a successful call; fails the test with the tool's message otherwise."""
        result = await self.call(tool, args)
        assert not result.is_error, f"{tool} failed: {text_of(result)}"
        return result.structured_content["data"]

    async def integration(self, service: str) -> str:
        """The first integration of the first connector, found with the discovery tools."""
        if service not in self._integrations:
            connectors = await self.data(f"{service}_list_connectors")
            assert connectors, f"the sandbox has no {service} connector"
            first = connectors[0]
            connector = first["name"] if isinstance(first, Mapping) else first
            found = await self.data(f"{service}_list_integrations", {"connector": connector})
            assert found, f"no integration for connector {connector}"
            self._integrations[service] = found[0]["id"]
        return self._integrations[service]

    async def tool_names(self) -> list[str]:
        return [t.name for t in (await self.client.list_tools()).tools]

    def rotate_key(self, key: str) -> None:
        """Replace the key in the server's key file (UNIZO_API_KEY_FILE), as a secret manager would."""
        assert self.key_file is not None, "open the server with key_file=True to rotate its key"
        before = self.key_file.stat().st_mtime_ns
        self.key_file.write_text(key + "\n")
        # a distinct mtime, whatever the file system's timestamp granularity
        os.utime(self.key_file, ns=(before + 5_000_000_000, before + 5_000_000_000))


@pytest.fixture
def open_server(sandbox: Any, tmp_path: Path) -> Callable[..., Any]:
    """`async with open_server("<service>", role="readonly") as s:` → Session on an in-process server.

    `service=None` serves `services` in one server; without them, what unizo-mcp-server would serve.
    `key_file=True` passes the key through UNIZO_API_KEY_FILE so the test can rotate it.
    The client is entered and left in the test's own task (anyio cancel scopes require it).
    """
    from mcp import Client
    from unizo_mcp_core.registry import select_services
    from unizo_mcp_core.server import prepare_server
    from unizo_mcp_core.settings import load_settings

    found = installed()

    @asynccontextmanager
    async def _open(
        service: str | None = None,
        *,
        role: str = "full",
        services: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        key_file: bool = False,
        mode: str = "auto",
    ) -> AsyncIterator[Session]:
        environ = dict(sandbox.env(role))
        path = None
        if key_file:
            path = tmp_path / f"key-{len(list(tmp_path.glob('key-*')))}"
            path.write_text(environ.pop("UNIZO_API_KEY") + "\n")
            path.chmod(0o600)
            environ["UNIZO_API_KEY_FILE"] = str(path)
        environ.update(env or {})
        settings = load_settings(service, environ)
        if service:
            specs = [found[service]]
        elif services:
            specs = [found[s] for s in services]
        else:  # what unizo-mcp-server does: installed services, narrowed by UNIZO_SERVICES
            specs = select_services(found, settings.services)
        server = await prepare_server(settings, specs)
        try:
            async with Client(server.mcp, mode=mode) as client:
                yield Session(client, sandbox, path)
        finally:
            await server.aclose()

    return _open


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every `UnizoClient.request` the servers make: method, path and the keyword arguments."""
    from unizo_mcp_core.client import UnizoClient

    calls: list[dict[str, Any]] = []
    original = UnizoClient.request

    async def spy(self: UnizoClient, method: str, path: str, **kw: Any) -> Any:
        calls.append({"method": method, "path": path, **kw})
        return await original(self, method, path, **kw)

    monkeypatch.setattr(UnizoClient, "request", spy)
    return calls


@pytest.fixture
def new_key(sandbox: Any) -> Callable[..., Awaitable[str]]:
    """`await new_key({"<service>": ["read"]})` → a new key of the seeded organization with those rights."""

    async def _create(permissions: Mapping[str, list[str]], name: str = "test-limited") -> str:
        import aiohttp

        context = ssl.create_default_context(cafile=str(sandbox.ca_file))
        headers = {"apikey": sandbox.keys["full"]}
        body = {"name": name, "permissions": dict(permissions)}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{sandbox.base_url}/api/v1/apiKeys", json=body, headers=headers, ssl=context) as resp,
        ):
            data = await resp.json()
            assert resp.status == 201, data
        return str(data["key"])

    return _create


# --- walking the data ---------------------------------------------------------------------------------


class Walker:
    """Finds real arguments for any tool of `spec` by listing what its path ids name."""

    def __init__(self, session: Session, spec: ServiceSpec, examples: Mapping[str, Example]) -> None:
        self.session = session
        self.spec = spec
        self.examples = examples
        self.tools = {t.name: t for t in spec.all_tools()}

    async def base(self) -> dict[str, Any]:
        """`integration_id` for a category's tools; nothing for an account-level service's."""
        if not self.spec.discovery:
            return {}
        return {"integration_id": await self.session.integration(self.spec.name)}

    async def path_args(self, tool: ToolSpec, *, nonempty: bool = False) -> dict[str, Any]:
        """`integration_id` and every path id of `tool`, from the data; with `nonempty`, ids for which the
        (list) tool returns records."""
        params = [p.name for p in tool.path_params()]
        found = await self._search(tool, params, await self.base(), nonempty)
        assert found is not None, f"no data in the sandbox gives {tool.name} its {', '.join(params)}"
        return found

    async def _search(
        self, tool: ToolSpec, params: list[str], known: dict[str, Any], nonempty: bool
    ) -> dict[str, Any] | None:
        if not params:
            if nonempty:
                listed = await self.session.data(tool.name, {**known, **self._extra(tool)})
                return known if listed else None
            return known
        param, rest = params[0], params[1:]
        for value in await self._candidates(tool, param, known):
            found = await self._search(tool, rest, {**known, param: value}, nonempty)
            if found is not None:
                return found
        return None

    def _extra(self, tool: ToolSpec) -> dict[str, Any]:
        """The example's plain arguments a list tool needs to be called at all (required filters)."""
        example = self.examples.get(tool.name)
        required = {p.name for p in tool.params if p.required and p.location != "path"}
        return {k: v for k, v in (example.args if example else {}).items() if k in required}

    async def _candidates(self, tool: ToolSpec, param: str, known: dict[str, Any]) -> list[Any]:
        source = self.spec.id_source(param)
        example = self.examples.get(tool.name)
        if example is not None and param in example.args:
            return [await self.resolve(example.args[param])]
        assert source is not None, (
            f"{tool.name}: nothing lists {param}; give it in the Example table of {self.spec.name}"
        )
        args = {k: v for k, v in known.items() if k in {p.name for p in source.params}}
        if "integration_id" in known:  # a category's tools (an account-level service has none)
            args["integration_id"] = known["integration_id"]
        records = await self.session.data(source.name, {**args, **self._extra(source), "limit": 50})
        field = (example.ids if example else {}).get(param, "id")
        return [record[field] for record in records[:_CANDIDATES]]

    async def resolve(self, value: Any) -> Any:
        """`value` with every `Ref` replaced by data from the sandbox."""
        if isinstance(value, Ref):
            tool = self.tools[value.tool]
            args = {**await self.path_args(tool), **self._extra(tool), "limit": 100}
            records = await self.session.data(tool.name, args)
            chosen = [r for r in records if value.where is None or value.where(r)]
            assert len(chosen) > value.index, f"too few records of {value.tool} for {value}"
            return chosen[value.index][value.field]
        if isinstance(value, list):
            return [await self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: await self.resolve(v) for k, v in value.items()}
        return value

    async def arguments(self, tool: ToolSpec) -> dict[str, Any]:
        """Everything a successful call of `tool` needs."""
        example = self.examples.get(tool.name, Example())
        if tool.handler != "http":
            return {k: await self.resolve(v) for k, v in example.args.items()}
        lists = tool.method == "GET" and tool.paginated
        args = await self.path_args(tool, nonempty=lists)
        for name, value in example.args.items():
            args.setdefault(name, await self.resolve(value))
        return args


# --- what the sandbox must have received ----------------------------------------------------------------


def expected_path(tool: ToolSpec, args: Mapping[str, Any]) -> str:
    """The percent-encoded path the sandbox records for `tool` called with `args`."""
    path = tool.path
    for param in tool.path_params():
        path = path.replace("{" + param.name + "}", quote(str(args[param.name]), safe=""))
    return API + path


# --- the generated tests --------------------------------------------------------------------------------


def service_tests(
    spec: ServiceSpec, examples: Mapping[str, Example], *, snapshots: Path | None = None
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """(success test, failure test, snapshot test) for every tool of `spec`, to assign in a test module.

    Snapshots live next to the calling module, in `__toolsnaps__/<tool>.json` (one file per tool, so a
    change to one tool is a one-file diff), unless `snapshots` names another folder.
    """
    names = [t.name for t in spec.all_tools()]
    tools = {t.name: t for t in spec.all_tools()}
    unknown = sorted(set(examples) - set(names))
    assert not unknown, f"Example for unknown tool(s) {unknown}"
    discovery = {t.name for t in spec.all_tools() if t.handler != "http"}
    if snapshots is None:
        caller = sys._getframe(1).f_globals.get("__file__")
        assert caller, "call service_tests from a test module, or pass snapshots="
        snapshots = Path(caller).resolve().parent / "__toolsnaps__"
    folder = snapshots

    async def succeed(tool: str, open_server: Any, sandbox: Any) -> None:
        spec_tool = tools[tool]
        async with open_server(spec.name) as session:
            walker = Walker(session, spec, examples)
            if spec_tool.handler == "integrations":
                connectors = await session.data(f"{spec.name}_list_connectors")
                first = connectors[0]
                args = {"connector": first["name"] if isinstance(first, Mapping) else first}
            else:
                args = await walker.arguments(spec_tool)
            before = len(sandbox.requests())
            result = await session.call(tool, args)
            assert not result.is_error, text_of(result)
            data = result.structured_content["data"]
            sent = sandbox.requests()[before:]
            if tool in discovery:
                assert data, f"{tool} returned nothing"
                assert sent and {(r.method, r.path, r.status) for r in sent} == {
                    ("POST", API + "/integrations/search", 200)
                }
                return
            path = expected_path(spec_tool, args)
            expected = [(spec_tool.method, path)]
            if spec_tool.read_before_write:  # the record is read, then sent whole
                expected = [("GET", path), *expected]
            if spec_tool.aggregate is not None:  # the source list, page after page
                source = next(t for t in spec.tools if t.name == spec_tool.aggregate.source)
                expected = [("GET", expected_path(source, args))] * len(sent)
                assert sent and isinstance(data, dict) and "records_read" in data, data
            assert [(r.method, r.raw_path.split("?")[0]) for r in sent] == expected, "unexpected requests"
            request = sent[-1]
            assert 200 <= request.status < 300
            assert request.integration_id == args["integration_id"]
            if "limit" in args:
                assert f"limit={args['limit']}" in request.raw_path
            if spec_tool.aggregate is not None:
                pass
            elif spec_tool.method == "GET" and spec_tool.paginated:
                assert isinstance(data, list) and data, "the list is empty"
            elif spec_tool.method == "GET":
                last = spec_tool.path_params()[-1].name if spec_tool.path_params() else None
                if last is not None and "id" in data:
                    assert str(data["id"]) == str(args[last])
            example = examples.get(tool)
            if example is not None and example.check is not None:
                example.check(data)

    async def fail(tool: str, open_server: Any, sandbox: Any, new_key: Any) -> None:
        spec_tool = tools[tool]
        writes = spec_tool.permission is not Permission.READ
        if tool in discovery or writes:
            action = spec_tool.permission.value
            async with open_server(spec.name, key_file=True) as session:
                walker = Walker(session, spec, examples)
                if spec_tool.handler == "integrations":
                    args: dict[str, Any] = {"connector": "any"}
                else:
                    args = await walker.arguments(spec_tool)
                if writes:
                    session.rotate_key(sandbox.keys["readonly"])
                else:  # a key that may read every other service but this one
                    others = {s: ["read"] for s in sandbox_services(sandbox) if s != spec.name}
                    session.rotate_key(await new_key(others))
                before = len(sandbox.requests())
                result = await session.call(tool, args)
                text = text_of(result)
                assert result.is_error, text
                assert f"{spec.name}:{action}" in text, text
                statuses = [r.status for r in sandbox.requests()[before:] if r.path != VERIFY_PATH]
                assert 403 in statuses, statuses
            return
        async with open_server(spec.name) as session:
            args = await Walker(session, spec, examples).arguments(spec_tool)
            path_ids = [p.name for p in spec_tool.path_params()]
            target = path_ids[-1] if path_ids else "integration_id"
            before = len(sandbox.requests())
            result = await session.call(tool, {**args, target: MISSING})
            text = text_of(result)
            assert result.is_error, text
            assert MISSING in text and "HTTP 404" in text, text
            assert [r.status for r in sandbox.requests()[before:]] == [404]

    async def snapshot(tool: str, open_server: Any) -> None:
        async with open_server(spec.name) as session:
            listed = {t.name: t for t in (await session.client.list_tools()).tools}
        path = folder / f"{tool}.json"
        current = json.dumps(
            listed[tool].model_dump(mode="json", by_alias=True, exclude_none=True, include=SNAPSHOT_FIELDS),
            indent=2,
            ensure_ascii=False,
        )
        current += "\n"
        hint = f"{UPDATE_SNAPSHOTS}=1 pytest {folder.parent}"
        if os.environ.get(UPDATE_SNAPSHOTS) == "1":
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(current, encoding="utf-8")
        assert path.is_file(), f"no snapshot {path}; create it with: {hint}"
        saved = path.read_text(encoding="utf-8")
        if saved != current:
            diff = "".join(
                difflib.unified_diff(saved.splitlines(True), current.splitlines(True), "saved", "now")
            )
            pytest.fail(f"{tool} differs from its snapshot {path}:\n{diff}\nIf intended: {hint}")

    parametrize = pytest.mark.parametrize("tool", names)
    return parametrize(succeed), parametrize(fail), parametrize(snapshot)


def sandbox_services(sandbox: Any) -> list[str]:
    """The services the sandbox emulates (every installed service has a sandbox module)."""
    from unizo_mcp_core.registry import installed_service_names

    return installed_service_names()


# --- choosing services and tools by what they are, never by name ------------------------------------


def installed() -> dict[str, ServiceSpec]:
    """Every installed service (the registry's discovery), by name: a copy the caller may change."""
    return dict(_discovered())


@functools.cache
def _discovered() -> dict[str, ServiceSpec]:
    """The registry's discovery, once per test process: it reads the metadata of every installed
    distribution (~16 ms), and nothing installs a service into the running interpreter."""
    from unizo_mcp_core.registry import discover_services

    return discover_services()


@functools.cache
def _example_tables() -> dict[str, Mapping[str, Any]]:
    """service name -> the `EXAMPLES` of the service package's own test modules (packages/<folder>/tests),
    read without writing bytecode into the package; other packages' tests are not touched."""
    root = Path(__file__).resolve().parents[1]
    tables: dict[str, Mapping[str, Any]] = {}
    writes_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        for spec in installed().values():
            folder = root / "packages" / spec.package.removeprefix("unizo-mcp-") / "tests"
            for path in sorted(folder.glob("test_*.py")):
                name = f"_examples_{spec.name}_{path.stem}"
                found = importlib.util.spec_from_file_location(name, path)
                assert found is not None and found.loader is not None
                module = importlib.util.module_from_spec(found)
                found.loader.exec_module(module)
                service, table = getattr(module, "SERVICE", None), getattr(module, "EXAMPLES", None)
                if isinstance(service, ServiceSpec) and isinstance(table, Mapping):
                    tables[service.name] = table
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return tables


def examples_of(spec: ServiceSpec) -> Mapping[str, Any]:
    """The `Example` table the service's own tests declare (empty when it has none)."""
    return _example_tables().get(spec.name, {})


def is_category(spec: ServiceSpec) -> bool:
    """A Unizo category (integrations, integration_id), not an account-level service such as platform."""
    return spec.discovery


def services_where(predicate: Callable[[ServiceSpec], bool] = lambda spec: True) -> list[ServiceSpec]:
    """The installed services that satisfy `predicate`, in name order (for parametrize)."""
    return [spec for spec in installed().values() if predicate(spec)]


def a_service(predicate: Callable[[ServiceSpec], bool] = lambda spec: True) -> ServiceSpec:
    """The first installed service (name order) that satisfies `predicate`."""
    found = services_where(predicate)
    assert found, "no installed service has what this test needs"
    return found[0]


def tools_where(spec: ServiceSpec, predicate: Callable[[ToolSpec], bool]) -> list[ToolSpec]:
    return [tool for tool in spec.all_tools() if predicate(tool)]


def is_list(tool: ToolSpec) -> bool:
    """A paged GET (not a tool the core computes from a list)."""
    return tool.handler == "http" and tool.method == "GET" and tool.paginated and tool.aggregate is None


def is_top_list(tool: ToolSpec) -> bool:
    """A paged GET with no path parameter: callable with nothing but the integration."""
    return is_list(tool) and not tool.path_params()


def is_get(tool: ToolSpec) -> bool:
    """A GET of one record by its path id."""
    plain = tool.handler == "http" and tool.aggregate is None
    return plain and tool.method == "GET" and not tool.paginated and bool(tool.path_params())


def is_write(tool: ToolSpec) -> bool:
    return tool.permission is not Permission.READ


def is_create(tool: ToolSpec) -> bool:
    """A plain POST that writes (creates a record)."""
    return is_write(tool) and tool.method == "POST" and tool.handler == "http" and tool.aggregate is None


def has_writes(spec: ServiceSpec) -> bool:
    return any(is_write(tool) for tool in spec.tools)
