"""Fault injection: parse a fault spec, decide per request (seeded, so runs repeat), and apply the effect.

Grammar (see README): rules separated by `;` or newlines,
    [METHOD ] PATTERN = KIND[:PARAM[,PARAM...]] [@PROBABILITY] [#COUNT]
e.g. `GET /api/v1/edr/*=503@0.3; POST */tickets=drop_after#1; */logs=latency:250; *=429:retry_after=2@0.5`.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import re

import attrs
from aiohttp import web

from unizo_mcp_sandbox.errors import INTERNAL_ERROR, ApiError, TooManyRequests

STATUS_MESSAGES = {
    500: "Internal server error",
    502: "Bad gateway: the upstream provider answered with an invalid response",
    503: "The service is temporarily unavailable",
    504: "Gateway timeout: the upstream provider did not answer in time",
}
KINDS = ("500", "502", "503", "504", "429", "latency", "drop", "drop_after", "truncate", "nonjson")
POST_HANDLER_KINDS = frozenset({"drop_after", "truncate", "nonjson"})
PARAMETERS = {"429": ("retry_after",), "latency": ("ms",)}
NON_JSON_BODY = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
_RULE = re.compile(r"^(?:(?P<method>[A-Za-z*]+)\s+)?(?P<pattern>[^\s=]+)\s*=\s*(?P<action>.+)$")
_ACTION = re.compile(
    r"^(?P<kind>[a-z_0-9]+)(?::(?P<params>[^@#]*))?(?:@(?P<prob>[^#]+))?(?:#(?P<count>.+))?$"
)


class FaultSpecError(ValueError):
    pass


@attrs.frozen
class FaultRule:
    method: str  # upper case, or "*"
    pattern: str
    kind: str
    params: dict[str, float] = attrs.field(factory=dict)
    probability: float = 1.0
    count: int | None = None  # fire at most this many times

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and fnmatch.fnmatchcase(path, self.pattern)


def _parse_params(kind: str, text: str | None, rule: str) -> dict[str, float]:
    allowed = PARAMETERS.get(kind, ())
    params: dict[str, float] = {}
    for index, item in enumerate(filter(None, (part.strip() for part in (text or "").split(",")))):
        name, _, value = item.rpartition("=")
        if not name:
            if index >= len(allowed):
                raise FaultSpecError(f"{kind} takes no positional parameter here: {rule!r}")
            name = allowed[index]
        if name not in allowed:
            raise FaultSpecError(f"unknown parameter {name!r} for {kind} in {rule!r}")
        try:
            params[name] = float(value)
        except ValueError:
            raise FaultSpecError(f"parameter {name} must be a number in {rule!r}") from None
        if params[name] < 0:
            raise FaultSpecError(f"parameter {name} must not be negative in {rule!r}")
    if kind == "latency" and "ms" not in params:
        raise FaultSpecError(f"latency needs milliseconds, e.g. latency:250, in {rule!r}")
    return params


def parse_rule(text: str) -> FaultRule:
    rule_match = _RULE.match(text.strip())
    if rule_match is None:
        raise FaultSpecError(f"expected '[METHOD ]PATTERN=KIND', got {text!r}")
    pattern = rule_match["pattern"]
    if not pattern.startswith(("/", "*")):
        raise FaultSpecError(f"pattern must start with '/' or '*': {text!r}")
    action_match = _ACTION.match(rule_match["action"].replace(" ", ""))
    if action_match is None or action_match["kind"] not in KINDS:
        raise FaultSpecError(f"unknown fault kind in {text!r}; kinds are {', '.join(KINDS)}")
    kind = action_match["kind"]
    try:
        probability = float(action_match["prob"]) if action_match["prob"] else 1.0
        count = int(action_match["count"]) if action_match["count"] else None
    except ValueError:
        raise FaultSpecError(f"bad @probability or #count in {text!r}") from None
    if not 0.0 <= probability <= 1.0:
        raise FaultSpecError(f"probability must be between 0 and 1 in {text!r}")
    if count is not None and count < 1:
        raise FaultSpecError(f"#count must be at least 1 in {text!r}")
    return FaultRule(
        method=(rule_match["method"] or "*").upper(),
        pattern=pattern,
        kind=kind,
        params=_parse_params(kind, action_match["params"], text),
        probability=probability,
        count=count,
    )


def parse_spec(spec: str | None) -> list[FaultRule]:
    if not spec:
        return []
    return [parse_rule(part) for part in re.split(r"[;\n]", spec) if part.strip()]


@attrs.define
class FaultPlan:
    """What happens to one request: added latency, then at most one failure."""

    latency_ms: float = 0.0
    rule: FaultRule | None = None

    @property
    def name(self) -> str | None:
        if self.rule is not None:
            return self.rule.kind
        return "latency" if self.latency_ms else None


class FaultInjector:
    def __init__(self, seed: int, spec: str | None = None) -> None:
        self.seed = seed
        self.spec: str | None = None
        self.rules: list[FaultRule] = []
        self._fired: dict[int, int] = {}
        self._rng = random.Random()
        self.configure(spec)

    def configure(self, spec: str | None) -> None:
        """Replace the rules and restart the random sequence: same spec and traffic, same faults."""
        self.rules = parse_spec(spec)
        self.spec = spec or None
        self._fired = {}
        self._rng = random.Random(f"unizo-sandbox-faults:{self.seed}")

    def plan(self, method: str, path: str) -> FaultPlan:
        plan = FaultPlan()
        for index, rule in enumerate(self.rules):
            if not rule.matches(method, path):
                continue
            if rule.count is not None and self._fired.get(index, 0) >= rule.count:
                continue
            if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                continue
            self._fired[index] = self._fired.get(index, 0) + 1
            if rule.kind == "latency":
                plan.latency_ms += rule.params["ms"]
                continue
            plan.rule = rule
            break
        return plan


async def apply_before(plan: FaultPlan, request: web.Request) -> bool:
    """Latency, injected statuses (raised) and dropped connections. True when the connection was dropped."""
    if plan.latency_ms:
        await asyncio.sleep(plan.latency_ms / 1000)
    rule = plan.rule
    if rule is None or rule.kind in POST_HANDLER_KINDS:
        return False
    if rule.kind == "drop":
        _close(request)
        return True
    if rule.kind == "429":
        raise TooManyRequests(
            "rate_limit_exceeded", "Rate limit exceeded, slow down", rule.params.get("retry_after", 1.0)
        )
    status = int(rule.kind)
    raise ApiError(status, INTERNAL_ERROR, STATUS_MESSAGES[status])


async def apply_after(plan: FaultPlan, request: web.Request, response: web.Response) -> web.StreamResponse:
    """Faults that hit after the handler ran (its writes are kept): lost, truncated or non-JSON answers."""
    rule = plan.rule
    if rule is None or rule.kind not in POST_HANDLER_KINDS:
        return response
    if rule.kind == "drop_after":
        _close(request)
        return response
    if rule.kind == "nonjson":
        broken = web.Response(body=NON_JSON_BODY, status=response.status, content_type="text/html")
        _copy_headers(response, broken)
        return broken
    body = response.body if isinstance(response.body, bytes) else b""
    truncated = web.StreamResponse(status=response.status)
    _copy_headers(response, truncated)
    truncated.content_type = response.content_type
    truncated.content_length = len(body)
    await truncated.prepare(request)
    await truncated.write(body[: len(body) // 2])
    _close(request)
    return truncated


def _copy_headers(source: web.StreamResponse, target: web.StreamResponse) -> None:
    for name, value in source.headers.items():
        if name.lower() not in ("content-type", "content-length"):
            target.headers[name] = value


def _close(request: web.Request) -> None:
    """Close the connection; aiohttp then quietly gives up on writing the pending answer."""
    if request.transport is not None:
        request.transport.close()
