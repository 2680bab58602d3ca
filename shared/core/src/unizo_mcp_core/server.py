"""Build the MCP server from settings, service declarations and the verified key(s).

The core owns the tool schemas, argument validation, the policy and the results, so it serves them
through the SDK's supported low-level API: `mcp.server.lowlevel.Server(on_list_tools=...,
on_call_tool=...)`. No SDK class is subclassed, no SDK method overridden, nothing is inferred from a
Python signature. The MCP SDK is imported only once the key checks passed, so a refused key fails fast.

Each service's calls carry that service's key (`Settings.key_for`): services that share a key share
one `UnizoClient` (one rate limiter, as the API counts per key), its verification and its integrations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import attrs

from . import __version__ as core_version
from .auth import KeyInfoLike, check_key
from .errors import ConfigError, KeyCheckUnavailableError, NetworkError
from .execute import run_aggregate, run_http_tool
from .inflight import CallsInFlight
from .keys import KeySource, fingerprint
from .monitor import CallMonitor
from .paths import check_value
from .policy import PolicyDecision, decide_tools, refusal_text
from .registry import server_name
from .results import error_result, refusal_result, success_result
from .schema import accept_lenient, argument_validator, input_schema, tool_params
from .scopes import KeyScope, close_scopes, open_scopes, organization_of
from .settings import Settings
from .shaping import field_problems, paging_facts, shape_list
from .spec import INTEGRATION_ID, Permission, ServiceSpec, ToolSpec

if TYPE_CHECKING:
    from mcp.server.lowlevel import Server
    from mcp.types import CallToolResult

    from .client import UnizoClient

__all__ = [
    "KeyView",
    "ServerState",
    "UnizoServer",
    "ViewPool",
    "prepare_server",
    "request_key",
    "server_instructions",
]

log = logging.getLogger("unizo_mcp.server")

Check = Callable[[Mapping[str, Any]], list[str]]
RECHECK_AFTER = 60.0  # seconds between key checks while the API answers but cannot decide


def server_instructions(services: Sequence[ServiceSpec]) -> str:
    lines = [f"Unizo {s.title}: {s.description.strip()}" for s in services]
    prefixes = ", ".join(f"{s.name}_list_integrations" for s in services)
    lines.append(
        "Data tools take integration_id; it is optional when the key sees one integration of the service or "
        f"one is configured. Find ids with {prefixes}. Lists page with offset/limit (max 100) and sort "
        "by comma-separated fields ('-' for descending)."
    )
    if any(t.fields is not None for s in services for t in s.tools):
        lines.append(
            'Lists answer a summary of each record; fields=["name", ...] adds fields, ["*"] whole records; '
            "get tools give whole records."
        )
    if any(p.resolvable for s in services for t in s.tools for p in t.params):
        lines.append("An optional parent id (organization_id, ...) is picked when only one exists.")
    return "\n".join(lines)


@attrs.frozen
class ToolEntry:
    service: ServiceSpec
    tool: ToolSpec
    check: Check


class KeyView:
    """What one key sees: its scopes (one per distinct key the services use), the policy decision for
    them, and its `tools/list`. The server has one view, or with per-request authentication one per key."""

    def __init__(self, state: ServerState, scopes: Sequence[KeyScope]) -> None:
        self.state = state
        self.scopes = tuple(scopes)
        self.by_service = {s.name: scope for scope in self.scopes for s in scope.services}
        self.decision = state.decide(self.scopes)
        self.exposed = frozenset(self.decision.exposed)
        self.late_hidden: dict[str, str] = {}  # hidden after a deferred verification
        self.listing: Any = None  # the ListToolsResult, built on first use
        self.checked_at = time.monotonic()

    def refusal(self, name: str) -> str | None:
        reason = self.decision.hidden.get(name) or self.late_hidden.get(name)
        return None if reason is None else refusal_text(name, reason)

    async def ensure_verified(self, scope: KeyScope) -> None:
        """Complete a key check that could not be decided when the view was made.

        Unreachable API: the error is raised (the call could not succeed either). The API answered but
        nothing could be decided (5xx, a probe it does not understand): the call goes ahead with the local
        policy, and the check is asked again at most every RECHECK_AFTER seconds, so a flaky API does not
        cost two extra requests per call.
        """
        if scope.key_info is not None or time.monotonic() < scope.next_check:
            return
        async with scope.lock:
            if scope.key_info is not None or time.monotonic() < scope.next_check:
                return
            try:
                info = await scope.client.verify_key(scope.services[0].category)
            except KeyCheckUnavailableError as exc:
                if exc.cause is None or isinstance(exc.cause, NetworkError):
                    raise
                scope.next_check = time.monotonic() + RECHECK_AFTER
                log.warning("%s Calls go ahead with the local tool policy.", exc.describe())
                return
            check_key(info, scope.settings)
            scope.key_info = info
            scope.resolver.organization = organization_of(info)
            late = self.state.decide(self.scopes)
            self.late_hidden = {n: r for n, r in late.hidden.items() if n not in self.decision.hidden}
            log.info("API key verified after startup; the key's permissions now apply to calls")
            for name, rule in sorted(self.late_hidden.items()):
                log.info("tool %s is refused from now on: hidden by %s", name, rule)

    async def aclose(self) -> None:
        await close_scopes(self.scopes)


class ViewPool:
    """Per-request authentication: one `KeyView` per key (by fingerprint, never by value past the request),
    each with its own client, rate limiter, verification and policy. The least recently used view is closed
    past `size`; a view's key is checked again after `ttl` seconds."""

    def __init__(self, state: ServerState, *, size: int = 256, ttl: float = 300.0) -> None:
        self.state = state
        self.size = size
        self.ttl = ttl
        self._views: OrderedDict[str, KeyView] = OrderedDict()
        self._lock = asyncio.Lock()

    async def view(self, key: str) -> KeyView:
        source = KeySource(value=key, origin="the request's Authorization header")
        label = fingerprint(key)
        async with self._lock:
            found = self._views.get(label)
            if found is not None and time.monotonic() - found.checked_at < self.ttl:
                self._views.move_to_end(label)
                return found
            settings = attrs.evolve(self.state.settings, api_key=source, service_keys=())
            scopes = await open_scopes(settings, self.state.services, package=self.state.package)
            view = KeyView(self.state, scopes)
            old = self._views.pop(label, None)
            self._views[label] = view
            while len(self._views) > self.size:
                _, evicted = self._views.popitem(last=False)
                await evicted.aclose()
        if old is not None:
            await old.aclose()
        return view

    async def aclose(self) -> None:
        for view in list(self._views.values()):
            await view.aclose()
        self._views.clear()


class ServerState:
    """What the tool handlers share: the tools, the key view(s), the call monitor."""

    def __init__(
        self,
        settings: Settings,
        services: Sequence[ServiceSpec],
        scopes: Sequence[KeyScope] | None,
        *,
        package: str | None = None,
    ) -> None:
        self.settings = settings
        self.services = tuple(services)
        self.package = package
        self.entries: dict[str, ToolEntry] = {}
        self.schemas: dict[str, dict[str, Any]] = {}
        for service in self.services:
            for tool in service.all_tools():
                schema = input_schema(tool)
                self.schemas[tool.name] = schema
                self.entries[tool.name] = ToolEntry(service, tool, argument_validator(schema))
        self.view = KeyView(self, scopes) if scopes is not None else None
        self.pool = ViewPool(self) if scopes is None else None
        self.monitor = CallMonitor(
            per_hour=settings.alert_requests_per_hour, per_session=settings.max_calls_per_session
        )
        self.calls = CallsInFlight()

    @property
    def per_request(self) -> bool:
        return self.pool is not None

    @property
    def decision(self) -> PolicyDecision:
        """The policy decision of the server's own key (not per-request servers)."""
        assert self.view is not None, "a per-request server has one decision per key"
        return self.view.decision

    def decide(self, scopes: Sequence[KeyScope]) -> PolicyDecision:
        permissions: dict[str, frozenset[str] | None] = {}
        for scope in scopes:
            permissions.update(scope.permissions())
        pairs = [(entry.service.name, entry.tool) for entry in self.entries.values()]
        return decide_tools(
            pairs,
            exclude=self.settings.exclude_tools,
            read_only=self.settings.read_only,
            permissions=permissions,
            allow=self.settings.tools,
        )

    async def view_for(self, request: Any) -> KeyView:
        """The caller's view: the server's own, or (per-request authentication) the request key's."""
        if self.view is not None:
            return self.view
        assert self.pool is not None
        key = request_key(request)
        if key is None:  # the HTTP gate refuses such requests before they get here
            raise ConfigError(
                "No Unizo API key in the request (Authorization: Bearer <key> or X-Unizo-Api-Key)"
            )
        return await self.pool.view(key)

    async def call(self, name: str, arguments: Any, view: KeyView) -> CallToolResult:
        """Validate, verify (when deferred), resolve the integration, call the API; always a result."""
        entry = self.entries.get(name)
        if entry is None or name not in view.exposed:
            refusal = view.refusal(name) if entry is not None else None
            if refusal:
                log.info("refused call to %s: %s", name, refusal)
                return refusal_result(refusal)
            return refusal_result(f"Unknown tool: {name}. The tools of this server are in tools/list.")
        tool = entry.tool
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, Mapping):
            return refusal_result(f"{tool.name} failed: invalid arguments: expected an object.")
        args = accept_lenient(tool_params(tool), dict(arguments))
        problems = entry.check(args)
        if tool.fields is not None and not problems:
            problems = field_problems(tool.fields, args.get("fields"))
        if problems:
            return refusal_result(
                f"{tool.name} failed: invalid arguments: {'; '.join(problems)}. Fix them and call again."
            )
        if tool.permission is Permission.READ:
            return await self._execute(entry, args, view)
        with self.calls.write():
            result = await self._execute(entry, args, view)
        if self.calls.client_gone:  # its answer may never be read: the log says how it ended
            outcome = "failed (see above)" if result.is_error else "succeeded"
            log.warning("%s answered after the client closed stdin: %s", tool.name, outcome)
        return result

    async def _execute(self, entry: ToolEntry, args: dict[str, Any], view: KeyView) -> CallToolResult:
        """A checked call: verify the key (when deferred), resolve the integration, call the API."""
        tool = entry.tool
        scope = view.by_service[entry.service.name]
        try:
            await view.ensure_verified(scope)
            refusal = view.refusal(tool.name)
            if refusal:
                return refusal_result(refusal)
            service = entry.service.name
            if tool.handler == "connectors":
                return success_result(await scope.resolver.connectors(service))
            if tool.handler == "integrations":
                return success_result(await scope.resolver.of_connector(service, str(args["connector"])))
            if tool.handler == "search":
                found, pagination = await scope.resolver.search(args)
                return success_result(found, pagination)
            integration_id = None
            if tool.needs_integration:
                explicit = args.get(INTEGRATION_ID.name)
                if explicit is not None:
                    explicit = check_value(INTEGRATION_ID.name, explicit, what="an integration id")
                integration_id = await scope.resolver.resolve(service, explicit)
            args = await scope.resolver.resolve_parents(entry.service, tool, args, integration_id)
            if tool.aggregate is not None:
                summary = await run_aggregate(scope.client, entry.service, tool, args, integration_id)
                return success_result(summary)
            data, pagination = await run_http_tool(scope.client, tool, args, integration_id)
            if tool.fields is not None and isinstance(data, list):
                data = shape_list(data, tool.fields, args.get("fields"))
                return success_result(data, paging_facts(pagination, len(data)), compacted=True)
            return success_result(data, pagination)
        except Exception as exc:  # every failure becomes a tool error; unexpected ones are logged
            return error_result(tool.name, exc)
        except asyncio.CancelledError:
            if tool.permission is not Permission.READ:  # no answer will say what happened: the log does
                log.warning(
                    "%s was cancelled before its answer (the client cancelled it or left, or the server is "
                    "stopping): it may have been applied; check before calling it again",
                    tool.name,
                )
            raise

    async def aclose(self) -> None:
        if self.view is not None:
            await self.view.aclose()
        if self.pool is not None:
            await self.pool.aclose()


async def _notify(session: Any, text: str) -> None:
    """An MCP log notification to the client: a courtesy, so nothing it raises stops the call. The SDK
    deprecates the logging capability from protocol 2026-07-28 on; the clients in use still read it."""
    with warnings.catch_warnings(), contextlib.suppress(Exception):
        warnings.simplefilter("ignore", UserWarning)  # MCPDeprecationWarning derives from it
        await session.send_log_message(level="warning", data=text, logger="unizo")


def session_key(request: Any) -> str:
    """Which client session a call belongs to: the streamable HTTP session id, or (stdio, in process,
    stateless HTTP) the server process itself, which serves one client."""
    headers = getattr(request, "headers", None)
    found = str(headers.get("mcp-session-id", "")) if headers is not None else ""
    return found or "process"


def request_key(request: Any) -> str | None:
    """The Unizo key an HTTP request carries: `Authorization: Bearer <key>`, else `X-Unizo-Api-Key`."""
    headers = getattr(request, "headers", None)
    if headers is None:
        return None
    authorization = str(headers.get("authorization", ""))
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    key = str(headers.get("x-unizo-api-key", "")).strip()
    return key or None


@attrs.define(eq=False)
class UnizoServer:
    """The ready server: `mcp` is the SDK's low-level `Server` (run it over any transport, or hand it
    to `mcp.Client` in process); `state` is what its handlers share."""

    mcp: Server[Any]
    state: ServerState

    async def aclose(self) -> None:
        """Close the HTTP clients the server created."""
        await self.state.aclose()


def _tool_definitions(state: ServerState, view: KeyView) -> list[Any]:
    from mcp.types import Tool, ToolAnnotations

    tools = []
    for name in view.decision.exposed:
        tool = state.entries[name].tool
        notes = tool.annotations
        tools.append(
            Tool(
                name=tool.name,
                title=tool.title,
                description=tool.description,
                input_schema=state.schemas[name],
                annotations=ToolAnnotations(
                    read_only_hint=notes.read_only,
                    destructive_hint=notes.destructive,
                    idempotent_hint=notes.idempotent,
                    open_world_hint=notes.open_world,
                ),
            )
        )
    return tools


def build_mcp_server(state: ServerState, *, name: str, version: str, instructions: str) -> Server[Any]:
    """The SDK's low-level server with our handlers; `tools/list` is built once."""
    from mcp.server.lowlevel import Server
    from mcp.shared.exceptions import MCPError
    from mcp.types import ListPromptsResult, ListResourcesResult, ListResourceTemplatesResult, ListToolsResult
    from mcp_types import INVALID_PARAMS

    def listing(view: KeyView) -> ListToolsResult:
        if view.listing is None:
            view.listing = ListToolsResult(tools=_tool_definitions(state, view))
        return cast(ListToolsResult, view.listing)

    # No resources or prompts; answering their lists empty (rather than "method not found") is what
    # clients that probe every capability expect.
    no_resources = ListResourcesResult(resources=[])
    no_templates = ListResourceTemplatesResult(resource_templates=[])
    no_prompts = ListPromptsResult(prompts=[])

    async def list_resources(ctx: Any, params: Any) -> ListResourcesResult:
        return no_resources

    async def list_templates(ctx: Any, params: Any) -> ListResourceTemplatesResult:
        return no_templates

    async def list_prompts(ctx: Any, params: Any) -> ListPromptsResult:
        return no_prompts

    # Reading a resource or getting a prompt names one that does not exist (none does): the spec's
    # "invalid params", as the SDK's own MCPServer answers, rather than "method not found" for a method
    # of a capability the server advertises. What the client named is not echoed (stdout carries it).
    async def read_resource(ctx: Any, params: Any) -> Any:
        raise MCPError(INVALID_PARAMS, "Unknown resource: this server has no resources.")

    async def get_prompt(ctx: Any, params: Any) -> Any:
        raise MCPError(INVALID_PARAMS, "Unknown prompt: this server has no prompts.")

    async def list_tools(ctx: Any, params: Any) -> ListToolsResult:
        return listing(await state.view_for(getattr(ctx, "request", None)))

    async def call_tool(ctx: Any, params: Any) -> CallToolResult:
        state.calls.begin()  # first: the end of stdin waits for every call read to get this far
        session = getattr(ctx, "session", None)
        if state.monitor.enabled:
            verdict = state.monitor.record(session_key(getattr(ctx, "request", None)))
            if verdict.alert:
                log.warning("%s", verdict.alert)
                if session is not None:
                    await _notify(session, verdict.alert)
            if verdict.refusal:
                return refusal_result(f"{params.name} is refused: {verdict.refusal}.")
        view = await state.view_for(getattr(ctx, "request", None))
        return await state.call(params.name, params.arguments, view)

    def tool_schema(tool: str) -> Mapping[str, Any] | None:
        return state.schemas.get(tool)

    return Server(
        name,
        version=version,
        instructions=instructions,
        get_tool_input_schema=tool_schema,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_list_prompts=list_prompts,
        on_read_resource=read_resource,
        on_get_prompt=get_prompt,
    )


def _ensure_logging(settings: Settings) -> None:
    """Configure logging (stderr, redacted) unless the host application already did."""
    if logging.getLogger().handlers:
        return
    from .redaction import configure_logging

    configure_logging(settings.log_level, log_auth=settings.log_auth)


async def prepare_server(
    settings: Settings,
    services: Sequence[ServiceSpec],
    *,
    client: UnizoClient | None = None,
    name: str | None = None,
    version: str | None = None,
    package: str | None = None,
    key_info: KeyInfoLike | Literal["verify"] | None = "verify",
    scopes: Sequence[KeyScope] | None = None,
) -> UnizoServer:
    """Verify the key(s), apply the tool policy, build the MCP server.

    Raises `UnizoError` subclasses for refusals (401, other environment, no permission): the CLI
    turns them into one stderr paragraph and the error's exit code. When `client` is None the server
    creates one client per key and closes them in `aclose()`. `scopes` are keys already verified
    (`scopes.open_scopes`); `client` (tests) serves every key, `key_info` skips verification.
    """
    if not services:
        raise ValueError("prepare_server needs at least one service")
    _ensure_logging(settings)
    per_request = settings.transport == "streamable-http" and settings.http_auth == "per-request"
    if scopes is None and not per_request:
        scopes = await open_scopes(
            settings, services, client=client, package=package, version=version, key_info=key_info
        )
    state = ServerState(settings, services, scopes, package=package)
    if state.view is not None:
        decision = state.view.decision
        for message in decision.warnings:
            log.warning("%s", message)
        for tool_name, rule in decision.hidden.items():
            log.info("tool %s hidden by %s", tool_name, rule)
        log.info("exposing %d tool(s): %s", len(decision.exposed), ", ".join(decision.exposed) or "none")
    else:
        log.info("per-request authentication: each request's own Unizo key decides what it sees")
    single = services[0] if len(services) == 1 else None
    try:
        mcp = build_mcp_server(
            state,
            name=name or server_name(single),
            version=version or (single.version if single else core_version),
            instructions=server_instructions(services),
        )
    except BaseException:
        await state.aclose()
        raise
    return UnizoServer(mcp, state)
