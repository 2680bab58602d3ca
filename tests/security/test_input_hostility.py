"""Input hostility: no tool argument can steer a request anywhere but the tool's own endpoint.

Every path parameter and string query parameter of every tool (from the ServiceSpecs), and the
integration id header of every service, gets hostile values: the named classics (`../`, `%2e%2e`, `/`,
`?`, `#`, a leading `-`, control characters, CR/LF, bidi and zero-width characters, very long values)
and strings hypothesis generates. Each call must either be refused with a tool error that names the
argument (and then nothing reached the API), or reach exactly the intended endpoint: the sandbox's
record of the raw request line must have the template's segments, the value in its own segment
percent-encoded so that it decodes back to exactly what was given, and the query exactly as given.
Integer query parameters get arbitrary integers: in range they are sent as given, out of range they
are schema errors.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import parse_qsl, unquote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from unizo_mcp_core.spec import ServiceSpec, ToolSpec

from .calls import plain_args
from .conftest import CLIENT_ENV, UNLIMITED, InProcess
from .support import (
    ALL_IN_ONE,
    SINGLE_SERVERS,
    all_tools,
    inprocess_client,
    integrations_of,
    specs_of,
    text_of,
)

UNRESERVED_OR_ESCAPED = re.compile(r"(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})+")
SAFE_ID = "id-123"

NAMED = [
    "../",
    "..",
    ".",
    "../../admin",
    "..%2f..%2fadmin",
    "%2e%2e",
    "%2e%2e%2f",
    "%252e%252e",
    "%2F",
    "%00",
    "/",
    "a/b",
    "/etc/passwd",
    "\\..\\..",
    "?",
    "a?admin=true",
    "#",
    "a#b",
    "-",
    "-rf",
    "--help",
    "\x00",
    "a\x00b",
    "a\r\nX-Injected: 1",
    "\n",
    "\t",
    "\x7f",
    "\u202eevil",
    "zero\u200bwidth",
    "\uff0e\uff0e",  # fullwidth full stops: ".." once a gateway normalises Unicode (NFKC)
    "\u2024\u2024",  # one dot leaders, the same
    "\uff0fevil",  # fullwidth solidus: "/evil"
    "a\ufe68b",  # small reverse solidus
    "line\u2028sep",
    " ",
    " padded ",
    "",
    "é",
    "日本語",
    "😀",
    "a;b=c",
    "a&limit=1",
    "a=b",
    "~user",
    "' OR '1'='1",
    "<script>",
    "$(id)",
    "x" * 255,
    "x" * 257,
    "x" * 10_000,
]

FRAGMENTS = [
    "..",
    ".",
    "/",
    "\\",
    "%",
    "%2e",
    "%2f",
    "?",
    "#",
    "&",
    "=",
    "-",
    ";",
    " ",
    "\r\n",
    "\x00",
    "é",
    "~",
]
HOSTILE = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="ascii"), min_size=1),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), min_size=1, max_size=12).map(
        "".join
    ),
    st.text(min_size=200, max_size=3000),
)


def _cases() -> list[tuple[str, str]]:
    """(tool, argument) for every path and string query parameter, and one data tool per service for
    integration_id (the header is set the same way for every tool)."""
    cases: list[tuple[str, str]] = []
    header_done: set[str] = set()
    for spec, tool in all_tools(ALL_IN_ONE):
        for param in tool.params:
            if param.location == "path" or (param.location == "query" and param.type == "string"):
                cases.append((tool.name, param.name))
        if tool.needs_integration and spec.name not in header_done:
            header_done.add(spec.name)
            cases.append((tool.name, "integration_id"))
    return cases


CASES = _cases()
TOOLS: dict[str, tuple[ServiceSpec, ToolSpec]] = {
    tool.name: (spec, tool) for spec, tool in all_tools(ALL_IN_ONE)
}


# one event loop for the module: the all-in-one server lives in it, and hypothesis runs every example there
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def server(all_in_one: InProcess) -> InProcess:
    """The module's server, with an empty request log at the sandbox (no reset: nothing here writes)."""
    all_in_one.sandbox.set_limits(**UNLIMITED)
    all_in_one.mark()
    return all_in_one


# schema-valid arguments of every tool, worked out before any test runs (hypothesis may derive a value
# from a declared pattern, which it cannot do inside a @given test)
DECLARED = {tool.name: plain_args(spec, tool, path_value=SAFE_ID) for spec, tool in all_tools(ALL_IN_ONE)}


def base_args(spec: ServiceSpec, tool: ToolSpec, integrations: dict[str, str]) -> dict[str, Any]:
    args = dict(DECLARED[tool.name])
    if tool.needs_integration:
        args["integration_id"] = integrations[spec.name]  # needs_integration: a category, which has one
    return args


def check_request(tool: ToolSpec, args: dict[str, Any], entry: Any, method: str | None = None) -> None:
    """The recorded request went to the tool's endpoint, with every value intact."""
    assert entry.method == (method or tool.method), entry
    if tool.handler != "http":  # discovery tools: the core searches integrations and filters locally
        assert entry.raw_path == "/api/v1" + tool.path, entry
        return
    raw_path, _, raw_query = entry.raw_path.partition("?")
    expected = ("/api/v1" + tool.path).split("/")
    got = raw_path.split("/")
    assert len(got) == len(expected), f"{entry.raw_path!r} does not have the shape of {tool.path}"
    for want, seg in zip(expected, got, strict=True):
        placeholder = re.fullmatch(r"\{(\w+)\}", want)
        if placeholder is None:
            assert seg == want, f"{entry.raw_path!r}: segment {seg!r} should be {want!r}"
            continue
        assert UNRESERVED_OR_ESCAPED.fullmatch(seg), (
            f"{entry.raw_path!r}: segment {seg!r} is not fully escaped"
        )
        decoded = unquote(seg, encoding="utf-8", errors="strict")
        # ids are sent in NFKC form (a lookalike such as a fullwidth digit as a gateway would see it)
        assert decoded == unicodedata.normalize("NFKC", str(args[placeholder.group(1)])), (
            f"{entry.raw_path!r}: {decoded!r} was not sent as given"
        )
        assert decoded not in (".", "..")
    wire = {p.wire_name: p for p in tool.params if p.location == "query"}
    query = parse_qsl(raw_query, keep_blank_values=True, strict_parsing=bool(raw_query), errors="strict")
    names = [name for name, _ in query]
    assert len(names) == len(set(names)) and set(names) <= set(wire), (
        f"unexpected query in {entry.raw_path!r}"
    )
    for name, value in query:
        given_value = args.get(wire[name].name, wire[name].default)
        assert value == str(given_value), f"{name}={value!r} in {entry.raw_path!r}, given {given_value!r}"
    for param in wire.values():
        if param.name in args:
            assert param.wire_name in names, f"{param.name} was dropped from {entry.raw_path!r}"
    if "integration_id" in args:
        assert entry.integration_id == args["integration_id"], entry


def check_outcome(tool: ToolSpec, arg: str, args: dict[str, Any], result: Any, sent: list[Any]) -> None:
    text = text_of(result)
    if not sent:
        # refused here: a tool error that says which argument, never a bare crash
        assert result.is_error, f"{tool.name}: no request was made, yet the call succeeded: {text}"
        assert arg in text, f"{tool.name}({arg}=...): the refusal does not name the argument: {text}"
        assert "internal error" not in text.lower(), text
        return
    if tool.aggregate is not None:  # pages through its source list: GETs, every path segment escaped
        for entry in sent:
            path = entry.raw_path.partition("?")[0]
            assert entry.method == "GET" and "//" not in path, entry
            assert all(UNRESERVED_OR_ESCAPED.fullmatch(seg) for seg in path.split("/")[1:]), entry
            assert all(unquote(seg) not in (".", "..") for seg in path.split("/")), entry
        if result.is_error:
            assert "internal error" not in text.lower(), text
        return
    # an update that reads the record first (read_before_write) sends a GET of the same path, then its own
    methods = ["GET", tool.method] if tool.read_before_write else [tool.method]
    if tool.handler == "http":
        assert len(sent) <= len(methods), f"{tool.name}: {len(sent)} requests for one call (retries are off)"
    for entry, method in zip(sent, methods, strict=False):
        check_request(tool, args, entry, method)
    if result.is_error:  # the API's answer (404 unknown id, 400 bad sort...), passed on as a tool error
        assert "HTTP " in text and "internal error" not in text.lower(), text


async def run_case(server: InProcess, tool_name: str, arg: str, value: Any) -> list[Any]:
    """Call `tool_name` with `arg`=`value`; check the outcome; the requests the call sent."""
    spec, tool = TOOLS[tool_name]
    args = {**base_args(spec, tool, server.integrations), arg: value}
    result = await server.call(tool_name, args)
    sent = server.sent()
    param = next((p for p in tool.params if p.name == arg), None)
    if value == "" and param is not None and param.resolvable:
        # left out, as a client sending "" means: the core looks the id up in its list (the one record,
        # or an error listing them); no request ever carries the empty value as a path segment
        assert all(e.method == "GET" and "//" not in e.raw_path for e in sent), sent
        assert "internal error" not in text_of(result).lower(), text_of(result)
        return sent
    check_outcome(tool, arg, args, result, sent)
    return sent


@pytest.mark.parametrize(("tool_name", "arg"), CASES, ids=[f"{t}-{a}" for t, a in CASES])
async def test_named_hostile_strings(server: InProcess, tool_name: str, arg: str) -> None:
    """Every classic, each call checked on its own. A loop rather than a hypothesis example per value:
    the same calls without hypothesis' bookkeeping around each, and every failing value reported."""
    failures = []
    for value in NAMED:
        try:
            await run_case(server, tool_name, arg, value)
        except AssertionError as exc:
            failures.append(f"{value[:40]!r}: {exc}")
    assert not failures, f"{len(failures)} of {len(NAMED)} values:\n" + "\n".join(failures)


@pytest.mark.parametrize(("tool_name", "arg"), CASES, ids=[f"{t}-{a}" for t, a in CASES])
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=HOSTILE)
async def test_hostile_strings(server: InProcess, tool_name: str, arg: str, value: str) -> None:
    await run_case(server, tool_name, arg, value)


INT_CASES = [
    (tool.name, param.name)
    for _spec, tool in all_tools(ALL_IN_ONE)
    for param in tool.params
    if param.type == "integer" and param.size_of is None  # a file's size must match the file: own test
]


@pytest.mark.parametrize(("tool_name", "arg"), INT_CASES, ids=[f"{t}-{a}" for t, a in INT_CASES])
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(value=0)
@example(value=-1)
@example(value=1)
@example(value=100)
@example(value=101)
@example(value=2**63)
@example(value=-(2**63))
@given(value=st.integers())
async def test_integer_query_parameters(server: InProcess, tool_name: str, arg: str, value: int) -> None:
    """In range: sent exactly as given. Out of range: a schema error naming the argument, nothing sent."""
    _service, tool = TOOLS[tool_name]
    param = next(p for p in tool.params if p.name == arg)
    sent = await run_case(server, tool_name, arg, value)
    in_range = (param.minimum is None or value >= param.minimum) and (
        param.maximum is None or value <= param.maximum
    )
    assert bool(sent) == in_range, f"{arg}={value}: in range {in_range}, but {len(sent)} request(s) sent"


@pytest.mark.parametrize("server", SINGLE_SERVERS)
async def test_single_service_servers_refuse_traversal(server: str, sandbox: Any) -> None:
    """The per-service servers are built by the same core; spot-check them with the classics."""
    sandbox.set_limits(**UNLIMITED)
    env = {**sandbox.env("full"), **CLIENT_ENV}
    integrations = integrations_of(sandbox, specs_of(server))
    async with inprocess_client(server, env) as (client, _server):
        checked = 0
        for spec, tool in all_tools(server):
            for param in tool.path_params():
                for value in ("../x", "a/b", "%2e%2e", "?a=b", "#x", "-x", "a\r\nb"):
                    args = base_args(spec, tool, integrations)
                    args[param.name] = value
                    before = len(sandbox.requests())
                    result = await client.call_tool(tool.name, args)
                    check_outcome(tool, param.name, args, result, sandbox.requests()[before:])
                    checked += 1
        assert checked > 0
