"""Declarative tool specs: what a service package writes, and all it writes.

A service is a `ServiceSpec` holding `ToolSpec`s. The core turns them into MCP tools, JSON
Schemas, HTTP requests, policy decisions and README tables. Annotations are derived from the
permission a tool needs, so they cannot disagree with what the tool does.
This module imports only attrs: the fast CLI paths load it without the MCP SDK.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

import attrs

ParamType = Literal["string", "integer", "number", "boolean", "array", "object"]
# "local": an argument the core itself uses (never sent), such as a list tool's `fields`
Location = Literal["path", "query", "body", "file", "header", "local"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
TOOL_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


class Permission(StrEnum):
    READ = "read"
    WRITE = "write"
    DELETE = "delete"


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


@attrs.frozen
class Param:
    """One tool argument: snake_case for the model, camelCase (or `wire`) on the wire.

    Constraints that a model needs (type, enum, bounds, pattern, item schema) are advertised in the
    JSON Schema. `local_max_length` is a guard checked by `invoke.build_call` only: it keeps absurd
    values away from the API without costing context in every `tools/list`.
    """

    name: str
    type: ParamType
    description: str
    location: Location = "query"
    required: bool = False
    default: Any = NO_DEFAULT
    wire: str | None = None
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    items: ParamType | None = None  # element type of an array
    min_items: int | None = None
    max_items: int | None = None
    base64: bool = False  # a string of base64 that is decoded to bytes before sending (file uploads)
    # An array of objects (`items="object"`): the fields of each item, snake_case for the model and
    # mapped to their wire names (defaults filled) like top-level body params.
    item_params: tuple[Param, ...] | None = None
    # A path value that may contain '/' (branch names such as feature/x): sent as %2F inside its one
    # segment. Every other path check still applies ('..', empty segments, '?', '#', '%', control chars).
    slash_ok: bool = False
    local_max_length: int | None = None  # checked before sending, not advertised in the schema
    # A body field the core fills with the byte size of the (decoded) file param named here; not an
    # argument (Unizo's attachment model requires `fileSize`).
    size_of: str | None = None
    # A path id that may be left out: when it is, the core lists its records (`ServiceSpec.id_source`)
    # and uses the only one; with several, the tool error lists them (as for integration_id).
    resolvable: bool = False
    # The whole JSON body is this argument's value (a JSON-Patch list of operations), not one field of it.
    as_body: bool = False
    # A value that must never be shown again (a webhook secret): registered with the redaction before it
    # is sent, so no log, error or echoed result can carry it.
    secret: bool = False

    def __attrs_post_init__(self) -> None:
        if self.item_params is not None:
            if self.type != "array" or self.items != "object":
                raise ValueError(f"{self.name}: item_params needs type='array' and items='object'")
            names = [p.name for p in self.item_params]
            if not names or len(set(names)) != len(names):
                raise ValueError(f"{self.name}: item_params must be non-empty with distinct names")
            if any(p.location not in ("body", "query") or p.base64 for p in self.item_params):
                raise ValueError(f"{self.name}: item_params are plain fields (no path, file or header)")
        if self.slash_ok and self.location != "path":
            raise ValueError(f"{self.name}: slash_ok applies to path params only")
        if self.resolvable and self.location != "path":
            raise ValueError(f"{self.name}: resolvable applies to path params only")
        if self.size_of is not None and (self.location != "body" or self.required):
            raise ValueError(f"{self.name}: size_of fills an optional body field")
        if self.as_body and self.location != "body":
            raise ValueError(f"{self.name}: as_body is a body param")

    @property
    def wire_name(self) -> str:
        return self.wire or camel_case(self.name)

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


def path_param(name: str, description: str = "", **kw: Any) -> Param:
    """A required path segment. No `minLength` in the schema: `paths` refuses empty values, naming them.

    No description is needed when the name says where the value comes from (`ticket_id` of a
    ticketing tool comes from `ticketing_list_tickets`): every word here is paid on every turn.
    """
    return Param(name, "string", description, location="path", required=True, **kw)


def query_param(name: str, type: ParamType, description: str, **kw: Any) -> Param:
    return Param(name, type, description, location="query", **kw)


def body_param(name: str, type: ParamType, description: str, **kw: Any) -> Param:
    return Param(name, type, description, location="body", **kw)


MAX_OFFSET = 10_000_000  # a bound for every integer: `offset: 1e308` must not pass as an integer
# offset/limit need no description: name, bounds and default say it all (each word costs context).
PAGING: tuple[Param, ...] = (
    Param("offset", "integer", "", minimum=0, maximum=MAX_OFFSET),  # 0 when left out (the API's default)
    Param("limit", "integer", "", default=20, minimum=1, maximum=100),
    Param("sort", "string", "", local_max_length=200),  # explained once, in the server instructions
)

# The parameter every data tool takes; optional when the core can resolve it (env or single integration).
# No description: the server instructions and <service>_list_integrations explain it once, and a call
# that needs it anyway fails listing the choices. Empty, hostile and over-long values are refused by
# `invoke` (`paths.check_value` and `local_max_length`), not by a schema repeated in every tool.
INTEGRATION_ID = Param(
    "integration_id",
    "string",
    "",
    location="header",
    wire="integrationId",
    local_max_length=200,
)


@attrs.frozen
class Fields:
    """What a list tool shows of each record, and what else the model may ask for.

    `summary`: the fields a list answers with, enough to say "which ones, and which to look at next"
    (dotted paths reach into nested objects: "platform.name"). `more`: the record's other top-level
    fields, which `fields=[...]` adds; `fields=["*"]` gives whole records. A get tool always gives the
    whole record. Every byte a list returns is paid for in the model's context on every later turn.
    """

    summary: tuple[str, ...]
    more: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        if not self.summary or "id" not in self.summary:
            raise ValueError("a summary names its records: include 'id'")

    @property
    def names(self) -> tuple[str, ...]:
        """Every name `fields` accepts: the summary's top-level names and `more`, in order."""
        top = [entry.rpartition("=")[2].split(".", 1)[0] for entry in self.summary]
        return tuple(dict.fromkeys([*top, *self.more]))


FIELDS = Param(
    "fields",
    "array",
    'More fields of each record, or ["*"] for whole records.',
    location="local",
    items="string",
    max_items=50,
)


@attrs.frozen
class Aggregate:
    """A tool the core computes from a list (Unizo computes some tools client-side): it pages through the
    list tool `source` (at most `max_records` records, every request within the key's rate limiter) and
    answers counts, figures and top records instead of the records themselves.

    The tool's own arguments that the source also takes (path ids, filters) are passed on to it; the
    mappings below filter records in the core (param name -> record field, dotted paths allowed):
    `match` keeps records whose field equals the value or one of a list of values (case-insensitive),
    `at_least` a minimum of a numeric field, `since`/`until` a date range on an ISO-8601 field.
    """

    source: str
    count_by: tuple[str, ...] = ()  # fields whose values are counted: "by_severity": {"High": 12}
    stats: tuple[str, ...] = ()  # numeric fields: min, max, mean
    top: str | None = None  # a numeric field: the top records by it, descending, as the source summarises
    top_n: str | None = None  # the param giving how many top records (default 10)
    group_by: str | None = None  # the param naming one `count_by` field to report alone
    match: tuple[tuple[str, str], ...] = ()
    at_least: tuple[tuple[str, str], ...] = ()
    since: tuple[tuple[str, str], ...] = ()
    until: tuple[tuple[str, str], ...] = ()
    max_records: int = 1000

    def filter_params(self) -> frozenset[str]:
        """The params the core applies itself (never passed to the source)."""
        mapped = (*self.match, *self.at_least, *self.since, *self.until)
        own = [self.top_n, self.group_by]
        return frozenset([name for name, _ in mapped] + [name for name in own if name])


@attrs.frozen
class Annotations:
    """MCP tool hints. readOnly/destructive/idempotent are always stated: their MCP defaults
    (false/true/false) would be wrong for most tools. `open_world` None leaves openWorldHint out,
    which MCP defines as true: every tool here reaches a third-party vendor through Unizo."""

    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool | None = None


@attrs.frozen
class ToolSpec:
    """One MCP tool backed by one HTTP call under /api/v1 (or a core-provided discovery handler)."""

    name: str = attrs.field()
    description: str
    method: Method
    path: str  # template with snake_case placeholders: "/edr/devices/{device_id}"
    permission: Permission
    params: tuple[Param, ...] = ()
    # Only when it says more than the name: without one, MCP clients display the name, and a title
    # that restates it ("List tickets" for ticketing_list_tickets) costs bytes in every tools/list.
    title: str | None = None
    body_format: Literal["json", "multipart"] = "json"
    # "http": an API call (or, with `aggregate`, a list paged through and summarised by the core);
    # "connectors"/"integrations": the core's discovery handlers; "search": the integrations search
    # across categories (arguments `category`, `connector`, offset/limit), for account administration.
    handler: Literal["http", "connectors", "integrations", "search"] = "http"
    # False for account-level tools (webhooks, integrations themselves): no integration_id is taken or sent.
    integration: bool = True
    # An update that replaces what it names (a file's content, a whole record): destructiveHint true.
    overwrites: bool = False
    # An update the API takes as a whole record (PUT): the core reads the record first (GET on the same
    # path) and sends its current value of every body field, with the arguments merged in.
    read_before_write: bool = False
    # A list tool's record summary (see `Fields`); the core adds the `fields` argument.
    fields: Fields | None = None
    # A tool the core computes from a list (see `Aggregate`); `method` is GET and `path` the source's.
    aggregate: Aggregate | None = None

    @name.validator
    def _check_name(self, _: attrs.Attribute[str], value: str) -> None:
        if not TOOL_NAME.match(value):
            raise ValueError(f"tool name {value!r} must match {TOOL_NAME.pattern}")

    @property
    def needs_integration(self) -> bool:
        return self.handler == "http" and self.integration

    @property
    def paginated(self) -> bool:
        return any(p.name == "limit" for p in self.params)

    @property
    def annotations(self) -> Annotations:
        if self.permission is Permission.READ:
            return Annotations(read_only=True, destructive=False, idempotent=True)
        if self.permission is Permission.DELETE:
            return Annotations(read_only=False, destructive=True, idempotent=True)
        return Annotations(read_only=False, destructive=self.overwrites, idempotent=self.method == "PUT")

    def path_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "path")

    def arguments(self) -> tuple[Param, ...]:
        """The params a caller gives: all but the ones the core fills itself (`size_of`)."""
        return tuple(p for p in self.params if p.size_of is None)


def list_tool(
    name: str,
    description: str,
    path: str,
    *params: Param,
    title: str | None = None,
    fields: Fields | None = None,
    integration: bool = True,
) -> ToolSpec:
    """A paged GET: `params` (path ids, then filters as query params), then offset/limit/sort.
    `integration=False` for an account-level tool (no integration_id)."""
    return ToolSpec(
        name,
        description,
        "GET",
        path,
        Permission.READ,
        (*params, *PAGING),
        title=title,
        fields=fields,
        integration=integration,
    )


def get_tool(
    name: str, description: str, path: str, *params: Param, title: str | None = None, integration: bool = True
) -> ToolSpec:
    return ToolSpec(
        name, description, "GET", path, Permission.READ, tuple(params), title=title, integration=integration
    )


@attrs.frozen
class ServiceSpec:
    """A Unizo service (category) and the tools its server exposes."""

    name: str  # "edr": tool prefix, permission scope, env infix (UNIZO_EDR_API_KEY)
    title: str  # "EDR / XDR"
    description: str  # one paragraph for the server's MCP instructions and README
    tools: tuple[ToolSpec, ...]
    package: str  # "unizo-mcp-edr"
    version: str
    connectors: tuple[str, ...] = ()  # examples for docs: ("crowdstrike", "sentinelone")
    # False for an account-level service (platform administration): no integrations of its own, so no
    # <service>_list_connectors / <service>_list_integrations discovery tools.
    discovery: bool = True

    @property
    def category(self) -> str:
        return self.name.upper()

    @property
    def key_variable(self) -> str:
        return f"UNIZO_{self.name.upper()}_API_KEY"

    def all_tools(self) -> tuple[ToolSpec, ...]:
        """The discovery tools every category has (an account-level service has none), then its own."""
        if not self.discovery:
            return self.tools
        return (*discovery_tools(self.name, self.title), *self.tools)

    def id_source(self, param: str) -> ToolSpec | None:
        """The list tool whose records' ids are the values of path parameter `param`, or None.

        Derived from the paths alone: the get tool whose path ends in `/{param}` names its record,
        and the list tool at that path without the last segment lists them
        (`ticketing_get_organization` at `/ticketing/organizations/{organization_id}` →
        `ticketing_list_organizations` at `/ticketing/organizations`). Used to resolve parent ids
        that exist only once, and by tests and the demo to walk the data.
        """
        suffix = "/{" + param + "}"
        lists = {t.path: t for t in self.tools if t.method == "GET" and t.paginated and t.aggregate is None}
        for tool in self.tools:
            computed = tool.aggregate is not None
            if tool.method == "GET" and tool.path.endswith(suffix) and not tool.paginated and not computed:
                found = lists.get(tool.path[: -len(suffix)])
                if found is not None:
                    return found
        return None


def discovery_tools(service: str, title: str) -> tuple[ToolSpec, ...]:
    return (
        ToolSpec(
            f"{service}_list_connectors",
            f"List the {title} connectors (vendors) of this Unizo account.",
            "POST",
            "/integrations/search",
            Permission.READ,
            handler="connectors",
        ),
        ToolSpec(
            f"{service}_list_integrations",
            "List a connector's integrations (id, name); use an id as integration_id.",
            "POST",
            "/integrations/search",
            Permission.READ,
            (Param("connector", "string", f"From {service}_list_connectors.", required=True, min_length=1),),
            handler="integrations",
        ),
    )
