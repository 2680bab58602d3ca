"""Build the MCP server from settings, service declarations and the verified key.

Tools are registered with their explicit JSON Schema: each is a `SpecTool`, a subclass of the SDK's
`mcp.server.mcpserver.tools.Tool` whose `parameters` is the schema from `schema.input_schema()` and
whose `run()` hands the raw arguments to the core (which validates them itself), passed to
`MCPServer(tools=[...])`. Nothing is inferred from a Python signature.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import ConfigDict

from . import __version__ as core_version
from .auth import KeyInfoLike, check_key, permissions_for, verify_at_startup
from .integrations import IntegrationResolver
from .invoke import build_call
from .policy import PolicyDecision, decide_tools
from .registry import server_name, user_agent
from .results import error_result, refusal_result, split_envelope, success_result
from .schema import argument_validator, input_schema
from .settings import Settings
from .spec import ServiceSpec, ToolSpec

if TYPE_CHECKING:
    from mcp.server.mcpserver.context import Context

    from .client import UnizoClient

__all__ = ["SpecTool", "UnizoMCPServer", "prepare_server"]

log = logging.getLogger("unizo_mcp.server")


def server_instructions(services: Sequence[ServiceSpec]) -> str:
    lines = [f"Unizo {s.title}: {s.description.strip()}" for s in services]
    prefixes = ", ".join(f"{s.name}_list_integrations" for s in services)
    lines.append(
        "Data tools take integration_id; it is optional when the key sees one integration of the service or "
        f"one is configured. Find ids with {prefixes}. Lists page with offset/limit (max 100)."
    )
    return "\n".join(lines)


class SpecTool(Tool):
    """An SDK tool whose input schema is given, not inferred; `run()` passes raw arguments through."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    async def run(self, arguments: dict[str, Any], context: Any, convert_result: bool = False) -> Any:
        return await self.fn(arguments)


class ServerState:
    """What the tool handlers share: client, resolver, key verification and the policy decision."""

    def __init__(
        self,
        settings: Settings,
        services: Sequence[ServiceSpec],
        client: UnizoClient,
        *,
        owns_client: bool,
        key_info: KeyInfoLike | None,
    ) -> None:
        self.settings = settings
        self.services = tuple(services)
        self.client = client
        self.owns_client = owns_client
        self.key_info = key_info
        self.resolver = IntegrationResolver(
            client, {s.name: settings.integration_id_for(s.name) for s in self.services}
        )
        self.pairs = tuple((s.name, t) for s in self.services for t in s.all_tools())
        self.decision = self._decide(key_info)
        self.late_hidden: dict[str, str] = {}  # hidden after a deferred verification
        self._verify_lock = asyncio.Lock()

    def _decide(self, info: KeyInfoLike | None) -> PolicyDecision:
        return decide_tools(
            self.pairs,
            exclude=self.settings.exclude_tools,
            read_only=self.settings.read_only,
            permissions=permissions_for(info, [s.name for s in self.services]),
            allow=self.settings.tools,
        )

    def refusal(self, name: str) -> str | None:
        reason = self.decision.hidden.get(name) or self.late_hidden.get(name)
        return None if reason is None else f"{name} is not available: hidden by {reason}."

    async def ensure_verified(self) -> None:
        """Complete a key verification that could not happen at startup (API unreachable)."""
        if self.key_info is not None:
            return
        async with self._verify_lock:
            if self.key_info is not None:
                return
            info = await self.client.verify_key()
            check_key(info, self.settings)
            self.key_info = info
            late = self._decide(info)
            self.late_hidden = {n: r for n, r in late.hidden.items() if n not in self.decision.hidden}
            log.info("API key verified after startup; the key's permissions now apply to calls")
            for name, rule in sorted(self.late_hidden.items()):
                log.info("tool %s is refused from now on: hidden by %s", name, rule)

    async def call(
        self,
        service: ServiceSpec,
        tool: ToolSpec,
        check: Callable[[Mapping[str, Any]], list[str]],
        arguments: Any,
    ) -> Any:
        """Validate, verify (when deferred), resolve the integration, call the API; always a result."""
        args: dict[str, Any] = dict(arguments) if isinstance(arguments, Mapping) else {}
        if not isinstance(arguments, Mapping):
            return refusal_result(f"{tool.name} failed: invalid arguments: expected an object.")
        problems = check(args)
        if problems:
            return refusal_result(
                f"{tool.name} failed: invalid arguments: {'; '.join(problems)}. Fix them and call again."
            )
        try:
            await self.ensure_verified()
            refusal = self.refusal(tool.name)
            if refusal:
                return refusal_result(refusal)
            if tool.handler == "connectors":
                return success_result(await self.resolver.connectors(service.name))
            if tool.handler == "integrations":
                return success_result(await self.resolver.of_connector(service.name, str(args["connector"])))
            call = build_call(tool, args)
            integration_id = await self.resolver.resolve(service.name, call.integration_id)
            response = await self.client.request(
                call.method,
                call.path,
                integration_id=integration_id,
                params=call.params,
                json=call.json,
                multipart=call.multipart,
            )
            data, pagination = split_envelope(response.data)
            return success_result(data, pagination)
        except Exception as exc:  # every failure becomes a tool error; unexpected ones are logged
            return error_result(tool.name, exc)

    async def aclose(self) -> None:
        if self.owns_client:
            await self.client.close()


class UnizoMCPServer(MCPServer[Any]):
    """`MCPServer` that refuses tools hidden by the policy by name, with the rule that hid them."""

    unizo: ServerState

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> Any:
        state = getattr(self, "unizo", None)
        if state is not None:
            refusal = state.refusal(name)
            if refusal:
                log.info("refused call to %s: %s", name, refusal)
                return refusal_result(refusal)
        return await super().call_tool(name, arguments, context)

    async def aclose(self) -> None:
        """Close the HTTP client when the server created it."""
        await self.unizo.aclose()


def _spec_tool(state: ServerState, service: ServiceSpec, tool: ToolSpec) -> SpecTool:
    schema = input_schema(tool)
    check = argument_validator(schema)

    async def handler(arguments: dict[str, Any]) -> CallToolResult:
        result: CallToolResult = await state.call(service, tool, check, arguments)
        return result

    notes = tool.annotations
    return SpecTool(
        fn=handler,
        name=tool.name,
        title=tool.title,
        description=tool.description,
        parameters=schema,
        fn_metadata=FuncMetadata(arg_model=ArgModelBase),
        is_async=True,
        context_kwarg=None,
        annotations=ToolAnnotations(
            read_only_hint=notes.read_only,
            destructive_hint=notes.destructive,
            idempotent_hint=notes.idempotent,
            open_world_hint=notes.open_world,
        ),
    )


def _ensure_logging(settings: Settings) -> None:
    """Configure logging (stderr, redacted) unless it already is; must run before `MCPServer()`."""
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
) -> UnizoMCPServer:
    """Verify the key, apply the tool policy, register the tools; return the ready `MCPServer`.

    Raises `UnizoError` subclasses for refusals (401, other environment, no permission): the CLI
    turns them into one stderr paragraph and the error's exit code. When `client` is None the
    server creates one and closes it in `aclose()`. `key_info` skips the verification when the
    caller already did it (`auth.verify_at_startup`; None = the API was unreachable).
    """
    if not services:
        raise ValueError("prepare_server needs at least one service")
    _ensure_logging(settings)
    owns_client = client is None
    if client is None:
        from .client import UnizoClient

        client = UnizoClient(settings, user_agent=user_agent(services, package, version))
    try:
        info = await verify_at_startup(settings, services, client) if key_info == "verify" else key_info
        state = ServerState(settings, services, client, owns_client=owns_client, key_info=info)
    except BaseException:
        if owns_client:
            await client.close()
        raise
    decision = state.decision
    for message in decision.warnings:
        log.warning("%s", message)
    for tool_name, rule in decision.hidden.items():
        log.info("tool %s hidden by %s", tool_name, rule)
    log.info("exposing %d tool(s): %s", len(decision.exposed), ", ".join(decision.exposed) or "none")
    by_name = {tool.name: (service, tool) for service in state.services for tool in service.all_tools()}
    tools: list[Tool] = [_spec_tool(state, *by_name[n]) for n in decision.exposed]
    single = services[0] if len(services) == 1 else None
    server = UnizoMCPServer(
        name or server_name(single),
        version=version or (single.version if single else core_version),
        instructions=server_instructions(services),
        tools=tools,
        log_level=settings.log_level.upper(),  # type: ignore[arg-type]
    )
    server.unizo = state
    return server
