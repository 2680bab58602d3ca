"""Arguments for any tool of any installed service, and a driver that calls every tool of a service.

Nothing here names a service or a tool. Two kinds of arguments:

- declared (`plain_args`): values that satisfy the tool's schema, for calls that must not reach the
  API or whose answer does not matter (hostile inputs, schema errors, hidden tools). They come from
  the service's own example table where it gives a plain value, else from the declaration (enum, type,
  bounds, pattern).
- real (`Driver.arguments`): what a successful call needs, found by servicekit's `Walker` in the seeded
  data, plus the write bodies of the service's example table (`packages/<svc>/tests/test_<svc>.py`,
  the same table the service's generated tests use).

Used by the security suite and the reliability suite (`from security.calls import ...`).
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from servicekit import Ref, Session, Walker, examples_of, is_write
from unizo_mcp_core.spec import Param, Permission, ServiceSpec, ToolSpec
from unizo_testkit import text_of

ROOT = Path(__file__).resolve().parents[2]
CALL_TIMEOUT = 60.0
MISSING = "does-not-exist-404"
ATTACHMENT = base64.b64encode(b"security suite attachment\n").decode()
_ABSENT = object()


# --- the services' own example tables ------------------------------------------------------------------


def _has_ref(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, list | tuple):
        return any(_has_ref(v) for v in value)
    if isinstance(value, Mapping):
        return any(_has_ref(v) for v in value.values())
    return False


# --- declared values ---------------------------------------------------------------------------------


@functools.cache
def _matching(pattern: str, low: int, high: int | None) -> str:
    """The simplest string that matches `pattern` (hypothesis shrinks to it), within the length bounds."""
    from hypothesis import find, settings
    from hypothesis import strategies as st

    strategy = st.from_regex(pattern, fullmatch=True)
    return find(
        strategy,
        lambda s: len(s) >= low and (high is None or len(s) <= high),
        settings=settings(database=None, max_examples=500),
    )


def declared_value(param: Param) -> Any:
    """A value that satisfies `param`'s declaration (what the schema checks)."""
    if param.enum:
        return param.enum[0]
    if param.base64:
        return ATTACHMENT
    if param.type == "boolean":
        return False
    if param.type in ("integer", "number"):
        value = param.minimum if param.minimum is not None else 1
        if param.maximum is not None:
            value = min(value, param.maximum)
        return int(value) if param.type == "integer" else value
    if param.type == "object":
        return {"origin": "security-suite"}
    if param.type == "array":
        if param.item_params:
            item: Any = {p.name: declared_value(p) for p in param.item_params if p.required}
        elif param.items == "object":
            item = {"origin": "security-suite"}
        else:
            item = declared_value(Param("item", param.items or "string", ""))
        return [item] * max(1, param.min_items or 1)
    low, high = param.min_length or 0, param.max_length
    if param.pattern:
        return _matching(param.pattern, low, high)
    text = f"security suite {param.name}"
    if high is not None:
        text = text[:high]
    return text.ljust(low, "x")


def plain_args(
    spec: ServiceSpec, tool: ToolSpec, *, path_value: str = "id-1", integration: str | None = None
) -> dict[str, Any]:
    """Schema-valid arguments for `tool` without looking at any data: every path id is `path_value`,
    every other required argument the example's plain value or a declared one."""
    example = examples_of(spec).get(tool.name)
    given = example.args if example is not None else {}
    args: dict[str, Any] = {p.name: path_value for p in tool.path_params()}
    for param in tool.params:
        if param.location == "path" or not param.required:
            continue
        value = given.get(param.name, _ABSENT)
        args[param.name] = value if value is not _ABSENT and not _has_ref(value) else declared_value(param)
    if tool.needs_integration and integration is not None:
        args["integration_id"] = integration
    return args


def marker_param(tool: ToolSpec) -> Param | None:
    """A required free-text body field of a write (a name or a title): a call can be recognised by it."""
    for param in tool.params:
        plain = param.type == "string" and not (param.enum or param.pattern or param.base64)
        if param.location == "body" and param.required and plain:
            return param
    return None


def discovery_tool(spec: ServiceSpec, handler: str) -> ToolSpec:
    """The service's core-provided `connectors` or `integrations` tool."""
    return next(t for t in spec.all_tools() if t.handler == handler)


def path_ids(tool: ToolSpec) -> list[str]:
    return [p.name for p in tool.path_params()]


# --- sessions that keep what they saw -----------------------------------------------------------------


class Recorder:
    """An MCP client whose tool results are all kept (the no-leak suite searches every one of them)."""

    def __init__(self, client: Any, timeout: float = CALL_TIMEOUT) -> None:
        self.client = client
        self.timeout = timeout
        self.results: list[tuple[str, dict[str, Any], Any]] = []

    async def call_tool(self, name: str, arguments: Mapping[str, Any] | None = None, **_: Any) -> Any:
        args = dict(arguments or {})
        result = await self.client.call_tool(name, args, read_timeout_seconds=self.timeout)
        self.results.append((name, args, result))
        return result

    async def list_tools(self, *args: Any, **kwargs: Any) -> Any:
        return await self.client.list_tools(*args, **kwargs)


class CachedSession(Session):
    """servicekit's `Session` whose successful reads are asked once: the walk lists the same parents
    for every tool of a service. `forget()` after a write (a delete would make a cached id stale)."""

    def __init__(self, client: Any, sandbox: Any, key_file: Path | None = None) -> None:
        super().__init__(client, sandbox, key_file)
        self._seen: dict[tuple[str, str], Any] = {}

    async def data(self, tool: str, args: Mapping[str, Any] | None = None) -> Any:
        key = (tool, json.dumps(dict(args or {}), sort_keys=True, default=str))
        if key not in self._seen:
            self._seen[key] = await super().data(tool, args)
        return self._seen[key]

    def forget(self) -> None:
        self._seen.clear()


# --- real arguments and every tool of a service ---------------------------------------------------------


def call_order(tools: Iterable[ToolSpec]) -> list[ToolSpec]:
    """Creates first (an account with nothing seeded, webhooks say, then has something to read), reads,
    the other writes, deletes last (nothing else needs what they remove)."""

    def rank(tool: ToolSpec) -> int:
        if tool.permission is Permission.DELETE:
            return 3
        if tool.permission is Permission.READ:
            return 1
        creates = tool.method == "POST" and not tool.path.endswith("}")
        return 0 if creates else 2

    return sorted(tools, key=rank)


class Driver:
    """Finds real arguments for any tool (servicekit's `Walker` and the example tables) and calls every
    exposed tool of a service: once with valid arguments (must succeed), then with failing ones."""

    def __init__(self, session: CachedSession) -> None:
        self.session = session
        self._walkers: dict[str, Walker] = {}

    def walker(self, spec: ServiceSpec) -> Walker:
        if spec.name not in self._walkers:
            self._walkers[spec.name] = Walker(self.session, spec, examples_of(spec))
        return self._walkers[spec.name]

    async def arguments(self, spec: ServiceSpec, tool: ToolSpec) -> dict[str, Any]:
        """Everything a successful call of a data tool needs."""
        args = await self.walker(spec).arguments(tool)
        for param in tool.params:
            if param.required and param.name not in args:
                args[param.name] = declared_value(param)
        body = [p for p in tool.params if p.location in ("body", "file")]
        if body and not any(p.name in args for p in body):  # an update: change one plain field
            field = marker_param(tool) or next((p for p in body if p.type == "string"), body[0])
            args[field.name] = declared_value(field)
        return args

    async def call(self, tool: str, args: Mapping[str, Any]) -> Any:
        return await self.session.call(tool, args)

    async def exercise(self, spec: ServiceSpec, exposed: Iterable[str]) -> None:
        """Every exposed tool of `spec`: the discovery tools, then each data tool with real ids (success)
        and with an unknown id, a traversal, an unknown sort field and an unknown argument (failures)."""
        if spec.discovery:  # a category: its integrations first (an account-level service has none)
            integrations = discovery_tool(spec, "integrations").name
            await self.session.integration(spec.name)
            assert await self.session.data(integrations, {"connector": "no-such-vendor"}) == []
        shown = set(exposed)
        for tool in call_order(t for t in spec.tools if t.name in shown):
            args = await self.arguments(spec, tool)
            result = await self.call(tool.name, args)
            assert not result.is_error, f"{tool.name}({args}) failed: {text_of(result)}"
            if is_write(tool):
                self.session.forget()
            if tool.path_params():
                last = path_ids(tool)[-1]
                missing = await self.call(tool.name, {**args, last: MISSING})
                assert missing.is_error, f"{tool.name} with an unknown {last} did not fail"
                refused = await self.call(tool.name, {**args, last: "../escape"})
                assert refused.is_error, f"{tool.name} accepted {last}='../escape'"
            if tool.paginated:
                bad_sort = await self.call(tool.name, {**args, "sort": "no_such_field"})
                assert bad_sort.is_error, f"{tool.name} with an unknown sort field did not fail"
            schema = await self.call(tool.name, {**args, "no_such_argument": 1})
            assert schema.is_error, f"{tool.name} accepted an unknown argument"
