"""The tool policy as a pure function: every precedence case."""

from __future__ import annotations

import pytest
from mcp_specs import CREATE_GADGET, DELETE_TOOL, GADGETS, WIDGETS
from unizo_mcp_core.policy import (
    RULE_ALLOW,
    RULE_EXCLUDE,
    RULE_READ_ONLY,
    decide_tools,
    permission_reason,
    refusal_text,
)
from unizo_mcp_core.spec import Permission

READ = "gadgets_list_gadgets"
WRITE = CREATE_GADGET.name
DELETE = DELETE_TOOL.name
TOOLS = [("gadgets", t) for t in (*GADGETS.all_tools(), DELETE_TOOL)] + [
    ("widgets", t) for t in WIDGETS.all_tools()
]
ALL = frozenset({"read", "write", "delete"})


def hidden(**kw: object) -> dict[str, str]:
    return dict(decide_tools(TOOLS, **kw).hidden)  # type: ignore[arg-type]


def test_no_rule_exposes_everything_in_order() -> None:
    decision = decide_tools(TOOLS)
    assert decision.exposed == tuple(t.name for _, t in TOOLS)
    assert decision.hidden == {}


@pytest.mark.parametrize(
    ("kwargs", "tool", "rule"),
    [
        # 1. --exclude-tools always wins, over an allow-list naming the tool and full permissions
        (
            {"exclude": frozenset({READ}), "allow": frozenset({READ}), "permissions": {"gadgets": ALL}},
            READ,
            RULE_EXCLUDE,
        ),
        ({"exclude": frozenset({WRITE}), "read_only": True}, WRITE, RULE_EXCLUDE),
        # 2. --read-only beats permissions and the allow-list
        ({"read_only": True, "allow": frozenset({WRITE})}, WRITE, RULE_READ_ONLY),
        ({"read_only": True, "permissions": {"gadgets": frozenset()}}, DELETE, RULE_READ_ONLY),
        # 3. key permissions beat the allow-list
        (
            {"permissions": {"gadgets": frozenset({"read"})}, "allow": frozenset({WRITE})},
            WRITE,
            permission_reason("gadgets", Permission.WRITE),
        ),
        (
            {"permissions": {"gadgets": frozenset({"read", "write"})}},
            DELETE,
            permission_reason("gadgets", "delete"),
        ),
        # write does not imply read
        ({"permissions": {"gadgets": frozenset({"write"})}}, READ, permission_reason("gadgets", "read")),
        # a service missing from known permissions hides all its tools
        (
            {"permissions": {"gadgets": ALL}},
            "widgets_list_items",
            "the API key's permissions: the key has no permission on widgets",
        ),
        # 4. the allow-list
        ({"allow": frozenset({WRITE})}, READ, RULE_ALLOW),
    ],
)
def test_precedence(kwargs: dict[str, object], tool: str, rule: str) -> None:
    assert hidden(**kwargs)[tool] == rule


def test_unknown_permissions_hide_nothing() -> None:
    assert hidden(permissions=None) == {}
    assert hidden(permissions={"gadgets": None, "widgets": None}) == {}


def test_read_only_keeps_reads_and_hides_writes_and_deletes() -> None:
    decision = decide_tools(TOOLS, read_only=True)
    assert set(decision.hidden) == {WRITE, DELETE, "gadgets_add_attachment"}
    assert READ in decision.exposed and "gadgets_list_connectors" in decision.exposed


def test_allow_list_with_full_permissions() -> None:
    decision = decide_tools(
        TOOLS, allow=frozenset({READ, WRITE}), permissions={"gadgets": ALL, "widgets": ALL}
    )
    assert decision.exposed == (READ, WRITE)


def test_unknown_names_warn_with_valid_names() -> None:
    decision = decide_tools(TOOLS, allow=frozenset({"nope", READ}), exclude=frozenset({"gone"}))
    assert decision.unknown == ("nope", "gone")
    assert len(decision.warnings) == 2
    assert "nope" in decision.warnings[0] and READ in decision.warnings[0]
    assert decision.warnings[1].startswith(RULE_EXCLUDE + " names unknown tool(s) gone; valid names: ")


def test_refusal_text() -> None:
    decision = decide_tools(TOOLS, read_only=True)
    assert refusal_text(WRITE, decision.hidden[WRITE]) == (
        f"{WRITE} is not available: hidden by --read-only (UNIZO_READ_ONLY)."
    )
    assert READ not in decision.hidden
