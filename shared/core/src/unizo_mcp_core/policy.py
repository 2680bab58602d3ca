"""The tool policy: one pure function decides which tools a server exposes, the same for every server.

Precedence, first match hides the tool:

1. `--exclude-tools` (UNIZO_EXCLUDE_TOOLS): always wins.
2. `--read-only` (UNIZO_READ_ONLY): hides every tool that needs `write` or `delete`.
3. The key's permissions on the tool's service (from `/v1/auth/verify`). Unknown permissions
   (`None`) hide nothing; a service missing from known permissions hides all its tools.
4. `--tools` (UNIZO_TOOLS) allow-list: when set, hides every tool not named in it.

This module imports only the standard library, attrs and `spec`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from .spec import Permission, ToolSpec

__all__ = [
    "RULE_ALLOW",
    "RULE_EXCLUDE",
    "RULE_PERMISSION",
    "RULE_READ_ONLY",
    "PolicyDecision",
    "decide_tools",
    "permission_reason",
    "refusal_text",
]

RULE_EXCLUDE = "--exclude-tools (UNIZO_EXCLUDE_TOOLS)"
RULE_READ_ONLY = "--read-only (UNIZO_READ_ONLY)"
RULE_PERMISSION = "the API key's permissions"
RULE_ALLOW = "--tools (UNIZO_TOOLS): not in the allow-list"


def refusal_text(name: str, rule: str) -> str:
    """What a call to a hidden tool answers: the tool and the rule that hid it."""
    return f"{name} is not available: hidden by {rule}."


def permission_reason(service: str, needed: Permission | str) -> str:
    return f"{RULE_PERMISSION}: the key lacks {service}:{Permission(needed).value}"


@attrs.frozen
class PolicyDecision:
    """What a server exposes, and for each hidden tool the rule that hid it."""

    exposed: tuple[str, ...]
    hidden: Mapping[str, str]  # tool name -> human-readable rule ("--read-only (UNIZO_READ_ONLY)")
    unknown: tuple[str, ...] = ()  # names in --tools/--exclude-tools that match no tool
    warnings: tuple[str, ...] = ()  # ready-to-log sentences about `unknown`


def decide_tools(
    tools: Sequence[tuple[str, ToolSpec]],
    *,
    exclude: frozenset[str] = frozenset(),
    read_only: bool = False,
    permissions: Mapping[str, frozenset[str] | None] | None = None,
    allow: frozenset[str] | None = None,
) -> PolicyDecision:
    """Apply the policy to `(service, tool)` pairs; the order of `exposed` follows `tools`."""
    exposed: list[str] = []
    hidden: dict[str, str] = {}
    for service, tool in tools:
        reason = _hidden_by(service, tool, exclude, read_only, permissions, allow)
        if reason is None:
            exposed.append(tool.name)
        else:
            hidden[tool.name] = reason
    valid = [tool.name for _, tool in tools]
    known = set(valid)
    warnings: list[str] = []
    unknown: list[str] = []
    for flag, names in (("--tools (UNIZO_TOOLS)", allow or frozenset()), (RULE_EXCLUDE, exclude)):
        bad = sorted(n for n in names if n not in known)
        if bad:
            unknown += [n for n in bad if n not in unknown]
            warnings.append(
                f"{flag} names unknown tool(s) {', '.join(bad)}; valid names: {', '.join(valid) or 'none'}"
            )
    return PolicyDecision(tuple(exposed), hidden, tuple(unknown), tuple(warnings))


def _hidden_by(
    service: str,
    tool: ToolSpec,
    exclude: frozenset[str],
    read_only: bool,
    permissions: Mapping[str, frozenset[str] | None] | None,
    allow: frozenset[str] | None,
) -> str | None:
    if tool.name in exclude:
        return RULE_EXCLUDE
    if read_only and tool.permission is not Permission.READ:
        return RULE_READ_ONLY
    if permissions is not None:
        if service not in permissions:
            return f"{RULE_PERMISSION}: the key has no permission on {service}"
        actions = permissions[service]
        if actions is not None and tool.permission.value not in actions:
            return permission_reason(service, tool.permission)
    if allow is not None and tool.name not in allow:
        return RULE_ALLOW
    return None
