"""Account administration, the `platform` permission scope: connectors (`/services`), integrations (the search
across categories, one by id), each integration's watches, and account-level webhooks with their actions.

Not a category: these endpoints take no `integrationId` header and no integration of their own is seeded,
so this module declares no `SandboxService` (`discover()` skips it); `routes/platform.py` and
`routes/webhooks.py` register its routes, in both profiles. `/webhooks` and `/services` are guarded by the
gateway (their first path segment is in `accounts.PLATFORM_PATHS`); `/integrations/...` shares its segment
with the search, which checks the permissions of the categories it searches, so the watch and integration
handlers check `platform` themselves.

Writes answer what they wrote, and later reads show it. JSON-Patch updates (RFC 6902 `add`, `remove`,
`replace`, `test`) are applied to the editable fields, then the result is validated as a create body would be.
Secrets (a webhook's `secret`, a watch's `resource.config.secret`) are write-only: no answer carries them.
"""

from __future__ import annotations

import copy
import functools
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from unizo_mcp_sandbox import auth
from unizo_mcp_sandbox.accounts import PLATFORM, all_services
from unizo_mcp_sandbox.context import caller, sandbox_of
from unizo_mcp_sandbox.data.common import Record
from unizo_mcp_sandbox.errors import (
    INTEGRATION_NOT_FOUND,
    MISSING_PERMISSION,
    ApiError,
    invalid,
    json_response,
    not_found,
)
from unizo_mcp_sandbox.filters import Filter, narrow
from unizo_mcp_sandbox.listing import page, pagination, parse_list_query
from unizo_mcp_sandbox.services import SandboxService, discover, events
from unizo_mcp_sandbox.timeutil import iso
from unizo_mcp_sandbox.validation import (
    Check,
    Field,
    boolean,
    integer,
    json_body,
    one_of,
    text,
    text_list,
    text_map,
    validate,
)
from unizo_mcp_sandbox.webhooks import Webhook, event_pattern_valid, is_loopback_url

API = "/api/v1"
_NAMESPACE = uuid.UUID("0d7c4b1e-93a2-4f6e-8c55-2b1f7e9a3c40")

# ---- the integrations search ------------------------------------------------------------------------------

SEARCH_PROPERTIES = {
    "/type": ("type",),
    "/serviceProfile/name": ("serviceProfile", "name"),
    "/organization/id": ("organization", "id"),
    "/id": ("id",),
    "/name": ("name",),
    "/state": ("state",),
}
SEARCH_MAX_LIMIT = 1000
PAGINATION_FIELDS = (Field("offset", integer(0, 10**9)), Field("limit", integer(1, SEARCH_MAX_LIMIT)))


def _search_terms(body: dict[str, Any]) -> list[tuple[str, tuple[str, ...], set[str]]]:
    filter_ = body.get("filter")
    if filter_ is None:
        return []
    if (
        not isinstance(filter_, dict)
        or set(filter_) - {"and"}
        or not isinstance(filter_.get("and", []), list)
    ):
        raise invalid("filter", 'filter must be {"and": [{"property", "operator", "values"}]}')
    terms = []
    for index, term in enumerate(filter_.get("and", [])):
        where = f"filter.and[{index}]"
        if not isinstance(term, dict):
            raise invalid(where, f"{where} must be an object")
        property_ = term.get("property")
        if property_ not in SEARCH_PROPERTIES:
            raise invalid(
                f"{where}.property", f"cannot filter on {property_!r}; use {', '.join(SEARCH_PROPERTIES)}"
            )
        if term.get("operator", "=") != "=":
            raise invalid(f"{where}.operator", "the only supported operator is '='")
        values = term.get("values")
        if not isinstance(values, list) or not values or not all(isinstance(value, str) for value in values):
            raise invalid(f"{where}.values", "values must be a non-empty list of strings")
        terms.append((property_, SEARCH_PROPERTIES[property_], {value.lower() for value in values}))
    return terms


def _value(record: dict[str, Any], path: tuple[str, ...]) -> str:
    value: Any = record
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return str(value).lower() if value is not None else ""


async def search_integrations(request: web.Request) -> web.Response:
    """`POST /integrations/search`: `read` on the filtered category's service, any `read` when unfiltered."""
    sandbox = sandbox_of(request)
    key = caller(request)
    raw = await request.read()
    body = await json_body(request) if raw.strip() else {}  # an empty body lists everything
    if not isinstance(body, dict):
        raise invalid("body", "body must be a JSON object")
    for name in sorted(set(body) - {"filter", "pagination"}):
        raise invalid(name, f"unknown property '{name}'")
    terms = _search_terms(body)
    paging = validate(body.get("pagination") or {}, PAGINATION_FIELDS, prefix="pagination.")
    types = next((values for name, _, values in terms if name == "/type"), None)
    if types is None:
        if not any(key.allows(service, "read") for service in all_services()):
            raise ApiError(403, MISSING_PERMISSION, f"API key {key.id} has no read permission on any service")
    else:
        filtered = sorted(service.name for service in discover() if service.category.lower() in types)
        for name in filtered:
            auth.require(key, name, "read")
    matches = [
        integration
        for integration in sandbox.integrations_of(key.organization_id)
        if all(_value(integration, path) in values for _, path, values in terms)
    ]
    offset, limit = paging.get("offset", 0), paging.get("limit", 20)
    return json_response(
        {"pagination": pagination(len(matches), offset, limit), "data": matches[offset : offset + limit]}
    )


# ---- what every handler here shares -----------------------------------------------------------------------


# No import from unizo_mcp_sandbox.routes: its package imports this module (routes/webhooks.py), so importing
# it from here would make the first import of this module, by `discover()`, circular.
def list_response(request: web.Request, records: Sequence[Record], sortable: frozenset[str]) -> web.Response:
    return json_response(page(records, parse_list_query(request.query, sortable)))


def record_response(record: Any, status: int = 200) -> web.Response:
    return json_response(record, status=status)


def _require(request: web.Request, action: str) -> None:
    """The `platform` permission, for the paths the gateway cannot tell from the search's."""
    auth.require(caller(request), PLATFORM, action)


def _now() -> str:
    return iso(time.time())


def _actor(request: web.Request) -> Record:
    key = caller(request)
    return {"id": key.id, "firstName": key.name, "lastName": "(API key)"}


def webhook_url(value: Any, path: str) -> str:
    url = str(text(1, 2048)(value, path))
    if not is_loopback_url(url):
        raise invalid(
            path, "the sandbox delivers only to loopback http(s) URLs such as http://127.0.0.1:8080/hook"
        )
    return url


def _object(fields: Sequence[Field]) -> Check:
    """A nested object, validated like a body: properties are named `parent.child`."""

    def check(value: Any, path: str) -> dict[str, Any]:
        return validate(value, fields, prefix=f"{path}.")

    return check


# ---- JSON-Patch (RFC 6902) ---------------------------------------------------------------------------------

PATCH_OPS = ("add", "remove", "replace", "test")


def _pointer(path: Any, where: str) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise invalid(where, f"{where} must be a JSON pointer such as /name")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _patched(
    document: dict[str, Any], operations: Any, editable: Callable[[list[str]], bool]
) -> dict[str, Any]:
    """`document` with the operations applied in order (list elements addressable: `/events/0`, `/events/-`);
    a bad operation is a 400 naming `[i].op`, `[i].path` or `[i].value`. Only paths `editable` accepts may be
    touched."""
    if not isinstance(operations, list) or not operations:
        raise invalid("body", "the body must be a non-empty JSON-Patch list of operations")
    result = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        where = f"[{index}]"
        if not isinstance(operation, dict):
            raise invalid(where, f"{where} must be an object")
        for name in sorted(set(operation) - {"op", "path", "value"}):
            raise invalid(f"{where}.{name}", f"unknown property '{name}'")
        op = operation.get("op")
        if op not in PATCH_OPS:
            raise invalid(f"{where}.op", f"op must be one of {', '.join(PATCH_OPS)}")
        parts = _pointer(operation.get("path"), f"{where}.path")
        path = operation["path"]
        if not editable(parts):
            raise invalid(f"{where}.path", f"{path} cannot be changed")
        if op != "remove" and "value" not in operation:
            raise invalid(f"{where}.value", f"{op} needs a value")
        value = copy.deepcopy(operation.get("value"))
        target: Any = result
        for part in parts[:-1]:
            target = _child(target, part, where, path)
        _edit(target, parts[-1], op, value, where, path)
    return result


def _child(target: Any, part: str, where: str, path: str) -> Any:
    if isinstance(target, dict) and isinstance(target.get(part), dict | list):
        return target[part]
    if isinstance(target, list) and part.isdigit() and int(part) < len(target):
        return target[int(part)]
    raise invalid(f"{where}.path", f"nothing at {path}")


def _edit(target: Any, leaf: str, op: str, value: Any, where: str, path: str) -> None:
    if isinstance(target, list):
        if op == "add" and leaf == "-":
            target.append(value)
            return
        if not leaf.isdigit() or int(leaf) > len(target) or (op != "add" and int(leaf) == len(target)):
            raise invalid(f"{where}.path", f"nothing at {path}")
        position = int(leaf)
        if op == "add":
            target.insert(position, value)
        elif op == "remove":
            del target[position]
        elif op == "replace":
            target[position] = value
        elif target[position] != value:
            raise invalid(f"{where}.value", f"test failed: {path} has another value")
        return
    if not isinstance(target, dict):
        raise invalid(f"{where}.path", f"nothing at {path}")
    exists = target.get(leaf) is not None
    if op == "test":
        if target.get(leaf) != value:
            raise invalid(f"{where}.value", f"test failed: {path} has another value")
    elif op in ("remove", "replace") and not exists:
        raise invalid(f"{where}.path", f"nothing at {path}")
    elif op == "remove":
        del target[leaf]
    else:
        target[leaf] = value


def _top_level(*names: str) -> Callable[[list[str]], bool]:
    return lambda parts: parts[0] in names


# ---- connectors: GET /services -----------------------------------------------------------------------------

SERVICE_SORT_FIELDS = frozenset({"id", "name", "displayName", "type", "state", "integrationCount"})
ACCESS_TYPES = ("OAUTH_FLW", "APIKEY_FLW")


def _categories() -> dict[str, SandboxService]:
    return {service.category: service for service in discover()}


def connectors_of(sandbox: Any, organization_id: str) -> list[Record]:
    """The connectors configured for the organization, one per category and vendor of its integrations (the
    console's `/services`, documented by Unizo's console guide): derived from the seeded integrations."""
    categories = _categories()
    grouped: dict[tuple[str, str], list[Record]] = {}
    for integration in sandbox.integrations_of(organization_id):
        grouped.setdefault((integration["type"], integration["serviceProfile"]["name"]), []).append(
            integration
        )
    found = []
    for (category, connector), integrations in grouped.items():
        service = categories.get(category)
        display = service.display_name(connector) if service is not None else connector
        first = integrations[0]
        service_id = str(uuid.uuid5(_NAMESPACE, f"{organization_id}:{category}:{connector}"))
        image = f"https://assets.unizo.ai/connectors/{connector}"
        found.append(
            {
                "id": service_id,
                "type": category,
                "name": connector,
                "displayName": display,
                "state": "ACTIVE",
                "versions": [{"id": "v1", "name": "v1", "state": "ACTIVE"}],
                "accessPointsSummary": {"total": 1, "types": [ACCESS_TYPES[len(connector) % 2]]},
                "serviceProfile": {
                    "id": first["serviceProfile"]["id"],
                    "name": connector,
                    "image": {
                        size: f"{image}/{size}.png"
                        for size in ("original", "xSmall", "small", "medium", "large")
                    },
                    "isBeta": False,
                },
                "organization": {"id": organization_id},
                "attributes": [],
                "tags": [category.lower()],
                "integrationCount": len(integrations),
                "changeLog": first["changeLog"],
            }
        )
    return found


async def list_services(request: web.Request) -> web.Response:
    found = connectors_of(sandbox_of(request), caller(request).organization_id)
    return list_response(request, found, SERVICE_SORT_FIELDS)


async def get_service(request: web.Request) -> web.Response:
    service_id = request.match_info["serviceId"]
    for record in connectors_of(sandbox_of(request), caller(request).organization_id):
        if record["id"] == service_id:
            return record_response(record)
    raise not_found("service", service_id)


# ---- integrations: GET /integrations/{integrationId} -------------------------------------------------------


def _integration(request: web.Request) -> Record:
    """The integration of the path, of the caller's organization (any category), else 404."""
    integration_id = request.match_info["integrationId"]
    integration = sandbox_of(request).integrations.get(integration_id)
    if integration is None or integration["organization"]["id"] != caller(request).organization_id:
        raise ApiError(404, INTEGRATION_NOT_FOUND, f"integration '{integration_id}' was not found")
    return integration


async def get_integration(request: web.Request) -> web.Response:
    _require(request, "read")
    return record_response(_integration(request))


# ---- watches: /integrations/{integrationId}/watches --------------------------------------------------------

WATCH_TYPES = ("HOOK", "WEBHOOK", "EVENT")
RESOURCE_TYPES = (
    "REPOSITORY", "PROJECT", "ORGANIZATION", "USER", "TEAM", "ISSUE", "PULL_REQUEST", "BRANCH", "TAG",
    "COMMIT", "RELEASE",
)  # fmt: skip
WATCH_SORT_FIELDS = frozenset(
    {
        "id",
        "name",
        "type",
        "state",
        "resource.type",
        "changeLog.createdDateTime",
        "changeLog.lastUpdatedDateTime",
    }
)
WATCHES = "platform_watches"  # the record kind, scoped by integration id


def _any_url(value: Any, path: str) -> str:
    url = str(text(1, 2048)(value, path))
    if not url.startswith(("https://", "http://")):
        raise invalid(path, f"{path} must be an http(s) URL")
    return url


def _reference(value: Any, path: str) -> dict[str, Any]:
    return validate(value, (Field("id", text(1, 128), required=True),), prefix=f"{path}.")


CONFIG_FIELDS = (
    Field("url", _any_url, required=True),
    Field("securedSSLRequired", boolean()),
    Field("contentType", one_of("application/json", "application/x-www-form-urlencoded")),
    Field("secret", text(8, 256)),
    Field("retryCount", integer(0, 10)),
    Field("timeout", integer(1, 300)),
    Field("headers", text_map(20)),
)
RESOURCE_FIELDS = (
    Field("type", one_of(*RESOURCE_TYPES), required=True),
    Field("repository", _reference),
    Field("organization", _reference),
    Field("config", _object(CONFIG_FIELDS)),
)
WATCH_FIELDS = (
    Field("name", text(1, 200), required=True),
    Field("description", text(0, 1000)),
    Field("type", one_of(*WATCH_TYPES), required=True),
    Field("resource", _object(RESOURCE_FIELDS), required=True),
)
WATCH_EDITABLE = _top_level("name", "description", "type", "resource")


def _watch_view(record: Record) -> Record:
    """The watch as served: never its secret."""
    shown = copy.deepcopy(record)
    config = shown.get("resource", {}).get("config")
    if isinstance(config, dict):
        config.pop("secret", None)
    return shown


def _watch_document(record: Record) -> dict[str, Any]:
    """The editable part of a stored watch (secret included), as a create body would give it."""
    return {
        name: copy.deepcopy(record[name])
        for name in ("name", "description", "type", "resource")
        if name in record
    }


def _find_watch(request: web.Request, integration: Record) -> Record:
    watch_id = request.match_info["watchId"]
    record = sandbox_of(request).records.get(WATCHES, (integration["id"],), watch_id)
    if record is None:
        raise not_found("watch", watch_id)
    return record


async def list_watches(request: web.Request) -> web.Response:
    _require(request, "read")
    integration = _integration(request)
    records = sandbox_of(request).records.items(WATCHES, (integration["id"],))
    return list_response(request, [_watch_view(record) for record in records], WATCH_SORT_FIELDS)


async def get_watch(request: web.Request) -> web.Response:
    _require(request, "read")
    return record_response(_watch_view(_find_watch(request, _integration(request))))


async def create_watch(request: web.Request) -> web.Response:
    _require(request, "write")
    integration = _integration(request)
    fields = validate(await json_body(request), WATCH_FIELDS)
    now, who = _now(), _actor(request)
    record = {
        "id": str(uuid.uuid4()),
        **fields,
        "description": fields.get("description", ""),
        "state": "ACTIVE",
        "integration": {"id": integration["id"], "type": integration["type"], "name": integration["name"]},
        "changeLog": {
            "createdDateTime": now,
            "lastUpdatedDateTime": now,
            "createdBy": who,
            "lastUpdatedBy": who,
        },
    }
    sandbox = sandbox_of(request)
    sandbox.records.insert(WATCHES, (integration["id"],), record)
    sandbox.changed()
    return record_response(_watch_view(record), status=201)


async def update_watch(request: web.Request) -> web.Response:
    _require(request, "write")
    integration = _integration(request)
    record = _find_watch(request, integration)
    document = _patched(_watch_document(record), await json_body(request), WATCH_EDITABLE)
    fields = validate(document, WATCH_FIELDS)
    changed = {
        **{k: v for k, v in record.items() if k not in ("name", "description", "type", "resource")},
        **fields,
    }
    changed["changeLog"] = {
        **record["changeLog"],
        "lastUpdatedDateTime": _now(),
        "lastUpdatedBy": _actor(request),
    }
    sandbox = sandbox_of(request)
    sandbox.records.replace(WATCHES, (integration["id"],), changed)
    sandbox.changed()
    return record_response(_watch_view(changed))


async def delete_watch(request: web.Request) -> web.Response:
    _require(request, "delete")
    integration = _integration(request)
    record = _find_watch(request, integration)
    sandbox = sandbox_of(request)
    sandbox.records.remove(WATCHES, (integration["id"],), record["id"])
    sandbox.changed()
    return web.Response(status=204)


# ---- webhooks: /webhooks -----------------------------------------------------------------------------------

WEBHOOK_SORT_FIELDS = frozenset({"id", "name", "url", "createdAt"})
WEBHOOK_EDITABLE = _top_level("name", "url", "events", "secret", "active", "description")
ACTIONS = ("test", "ping", "redeliver")


def _event(value: Any, path: str) -> str:
    if not isinstance(value, str) or not event_pattern_valid(value):
        raise invalid(path, f"unknown event; use '*', '<noun>:*' or one of {', '.join(events())}")
    return value


@functools.cache
def _webhook_fields() -> tuple[Field, ...]:
    return (
        Field("name", text(1, 100)),
        Field("url", webhook_url, required=True),
        Field("events", text_list(len(events()) + 10, _event), required=True),
        Field("secret", text(8, 256), required=True),
        Field("active", boolean()),
        Field("description", text(0, 1000)),
    )


def _wanted_by(patterns: Sequence[str], event: str) -> bool:
    noun = event.split(":", 1)[0]
    return any(pattern in ("*", event, f"{noun}:*") for pattern in patterns)


def _event_sample(record: Mapping[str, Any]) -> str | None:
    return next((event for event in events() if _wanted_by(record.get("events") or [], event)), None)


# `webhookEventType` (the parameter Unizo's server sends; its meaning here is ours): the webhooks that would
# receive that event.
def _event_type(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


EVENT_TYPE_FILTER = Filter(
    parse=_event_type,
    matches=lambda record, wanted, _: _wanted_by(record.get("events") or [], wanted),
    sample=_event_sample,
)
WEBHOOK_FILTERS = {"webhookEventType": EVENT_TYPE_FILTER}


def _hook_in_organization(request: web.Request) -> Webhook:
    webhook_id = request.match_info["webhookId"]
    hook = sandbox_of(request).webhooks.hooks.get(webhook_id)
    if hook is None or hook.organization_id != caller(request).organization_id:
        raise not_found("webhook", webhook_id)
    return hook


async def create_webhook(request: web.Request) -> web.Response:
    fields = validate(await json_body(request), _webhook_fields())
    if not fields["events"]:
        raise invalid("events", "events must name at least one event")
    hook = Webhook(
        id=str(uuid.uuid4()),
        name=fields.get("name", "webhook"),
        url=fields["url"],
        events=fields["events"],
        secret=fields["secret"],
        organization_id=caller(request).organization_id,
        created_at=time.time(),
        active=fields.get("active", True),
        description=fields.get("description", ""),
    )
    sandbox = sandbox_of(request)
    sandbox.webhooks.hooks[hook.id] = hook
    sandbox.changed()
    return record_response(hook.public_view(), status=201)


async def list_webhooks(request: web.Request) -> web.Response:
    sandbox = sandbox_of(request)
    hooks = sandbox.webhooks.of_organization(caller(request).organization_id)
    shown = narrow(
        [hook.public_view() for hook in hooks], WEBHOOK_FILTERS, request.query, sandbox.clock.time()
    )
    return list_response(request, shown, WEBHOOK_SORT_FIELDS)


async def get_webhook(request: web.Request) -> web.Response:
    return record_response(_hook_in_organization(request).public_view())


async def update_webhook(request: web.Request) -> web.Response:
    hook = _hook_in_organization(request)
    document = {
        "name": hook.name, "url": hook.url, "events": list(hook.events), "secret": hook.secret,
        "active": hook.active, "description": hook.description,
    }  # fmt: skip
    fields = validate(_patched(document, await json_body(request), WEBHOOK_EDITABLE), _webhook_fields())
    if not fields["events"]:
        raise invalid("events", "events must name at least one event")
    hook.name = fields.get("name", "webhook")
    hook.url, hook.events, hook.secret = fields["url"], fields["events"], fields["secret"]
    hook.active, hook.description = fields.get("active", True), fields.get("description", "")
    sandbox_of(request).changed()
    return record_response(hook.public_view())


async def delete_webhook(request: web.Request) -> web.Response:
    hook = _hook_in_organization(request)
    sandbox = sandbox_of(request)
    del sandbox.webhooks.hooks[hook.id]
    sandbox.changed()
    return web.Response(status=204)


ACTION_FIELDS = (Field("action", one_of(*ACTIONS), required=True), Field("delivery_id", text(1, 64)))


def _action_payload(sandbox: Any, hook: Webhook, action: str) -> dict[str, Any]:
    """`ping`: a `webhook:ping` about the webhook itself; `test`: a sample of the first event it receives."""
    payload: dict[str, Any] = {"id": str(uuid.uuid4()), "createdAt": _now()}
    if action == "ping":
        return {**payload, "type": "webhook:ping", "data": {"webhook": {"id": hook.id, "name": hook.name}}}
    event = next((event for event in events() if hook.wants(event)), "webhook:ping")
    emitting = next((s for s in discover() if event in s.events), None)
    integrations = sandbox.integrations_of(hook.organization_id, emitting.name if emitting else None)
    if integrations:
        first = integrations[0]
        payload["integration"] = {"id": first["id"], "type": first["type"], "name": first["name"]}
    return {**payload, "type": event, "data": {"id": "test-" + uuid.uuid4().hex[:8], "test": True}}


async def webhook_action(request: web.Request) -> web.Response:
    """`test`, `ping` or `redeliver` (the same payload and delivery id again), delivered before answering
    (ours): the answer says whether the receiver took it."""
    hook = _hook_in_organization(request)
    fields = validate(await json_body(request), ACTION_FIELDS)
    sandbox = sandbox_of(request)
    if fields["action"] == "redeliver":
        if "delivery_id" not in fields:
            raise invalid("delivery_id", "delivery_id is required to redeliver")
        earlier = sandbox.webhooks.sent_payload(hook.id, fields["delivery_id"])
        if earlier is None:
            raise not_found("delivery", fields["delivery_id"])
        payload = earlier
    else:
        payload = _action_payload(sandbox, hook, fields["action"])
    delivery = await sandbox.webhooks.deliver(hook, payload)
    return record_response({"action": fields["action"], "delivery": delivery.public_view()})


# ---- routes ------------------------------------------------------------------------------------------------


def add_search_route(router: web.UrlDispatcher) -> None:
    router.add_post(API + "/integrations/search", search_integrations)


def add_routes(router: web.UrlDispatcher) -> None:
    """Everything account-level but the search (`routes/platform.py` adds that one first)."""
    router.add_get(API + "/webhooks", list_webhooks)
    router.add_post(API + "/webhooks", create_webhook)
    router.add_get(API + "/webhooks/{webhookId}", get_webhook)
    router.add_patch(API + "/webhooks/{webhookId}", update_webhook)
    router.add_delete(API + "/webhooks/{webhookId}", delete_webhook)
    router.add_post(API + "/webhooks/{webhookId}/actions", webhook_action)
    router.add_get(API + "/services", list_services)
    router.add_get(API + "/services/{serviceId}", get_service)
    router.add_get(API + "/integrations/{integrationId}", get_integration)
    watches = API + "/integrations/{integrationId}/watches"
    router.add_get(watches, list_watches)
    router.add_post(watches, create_watch)
    router.add_get(watches + "/{watchId}", get_watch)
    router.add_patch(watches + "/{watchId}", update_watch)
    router.add_delete(watches + "/{watchId}", delete_watch)
