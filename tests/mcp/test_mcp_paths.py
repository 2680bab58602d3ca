"""Path rendering: no argument can steer a request to another endpoint."""

from __future__ import annotations

import pytest
from unizo_mcp_core.errors import ToolInputError
from unizo_mcp_core.paths import MAX_VALUE_LENGTH, check_value, render_path

TEMPLATE = "/widgets/items/{item_id}/parts/{part_id}"

HOSTILE = [
    ("", "cannot be empty"),
    ("   ", "cannot be empty"),
    (".", "'.'"),
    ("..", "'.'"),
    ("a..b", "'..'"),
    ("../admin", "'..'"),
    ("a/b", "'/'"),
    ("/", "'/'"),
    ("a\\b", "'\\'"),
    ("x?y=1", "'?'"),
    ("x#frag", "'#'"),
    ("%2e%2e", "'%'"),
    ("dev%2Fice", "'%'"),
    ("a\nb", "U+000A"),
    ("a\rb", "U+000D"),
    ("a\x00b", "U+0000"),
    ("a\x7fb", "U+007F"),
    ("a\u200bb", "U+200B"),  # zero-width space (Cf)
    ("a\u202eb", "U+202E"),  # right-to-left override (Cf)
    ("a\u2028b", "U+2028"),  # line separator
    ("-rf", "start with '-'"),
    ("--help", "start with '-'"),
    (" dev", "whitespace"),
    ("x" * (MAX_VALUE_LENGTH + 1), f"limited to {MAX_VALUE_LENGTH}"),
    (True, "must be a string"),
    (["a"], "must be a string"),
]


@pytest.mark.parametrize(("value", "reason"), HOSTILE, ids=[repr(v)[:30] for v, _ in HOSTILE])
def test_hostile_values_refused_naming_the_parameter(value: object, reason: str) -> None:
    with pytest.raises(ToolInputError) as caught:
        render_path(TEMPLATE, {"item_id": "ok", "part_id": value})
    message = caught.value.describe()
    assert message.startswith("Refused part_id: ")
    assert reason in message


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("dev-1", "dev-1"),
        ("a b", "a%20b"),
        ("ü", "%C3%BC"),
        ("a:b@c", "a%3Ab%40c"),
        ("a+b&c=d", "a%2Bb%26c%3Dd"),
        ("x.y_z~", "x.y_z~"),
        ("\uff21\uff22", "AB"),  # fullwidth letters are sent as what they normalise to (NFKC)
        (42, "42"),
    ],
)
def test_values_are_percent_encoded(value: object, encoded: str) -> None:
    assert render_path(TEMPLATE, {"item_id": value, "part_id": "z"}) == f"/widgets/items/{encoded}/parts/z"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("\uff0e\uff0e", "'..'"),  # fullwidth full stops
        ("\u2024\u2024", "'..'"),  # one dot leaders
        ("\uff0fevil", "'/'"),  # fullwidth solidus
        ("a\ufe68b", "'\\'"),  # small reverse solidus
    ],
)
def test_lookalikes_are_checked_as_a_normalising_gateway_sees_them(value: str, reason: str) -> None:
    """NFKC first: a gateway that normalises Unicode must never see '..' or '/' the checks did not."""
    with pytest.raises(ToolInputError) as caught:
        render_path(TEMPLATE, {"item_id": "ok", "part_id": value})
    assert reason in caught.value.describe()


def test_missing_value_is_refused() -> None:
    with pytest.raises(ToolInputError, match="Missing required path parameter part_id"):
        render_path(TEMPLATE, {"item_id": "a"})


def test_check_value_names_what() -> None:
    with pytest.raises(ToolInputError, match="Refused integration_id: an integration id cannot contain"):
        check_value("integration_id", "a\r\nX-Evil: 1", what="an integration id")


# --- slash_ok: one segment that may hold '/' (branch names) ------------------------------------------

BRANCH = "/gadgets/repositories/{repository_id}/branches/{branch_id}"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("main", "main"),
        ("feature/x", "feature%2Fx"),
        ("users/me/fix-1", "users%2Fme%2Ffix-1"),
        ("release/2.4", "release%2F2.4"),
        ("feat/ü", "feat%2F%C3%BC"),
    ],
)
def test_slash_ok_values_stay_one_segment(value: str, encoded: str) -> None:
    path = render_path(BRANCH, {"repository_id": "r", "branch_id": value}, slash_ok={"branch_id"})
    assert path == f"/gadgets/repositories/r/branches/{encoded}"
    assert path.count("/") == BRANCH.count("/")


SLASH_HOSTILE = [
    ("/main", "start or end with '/'"),
    ("main/", "start or end with '/'"),
    ("a//b", "'//'"),
    ("a/./b", "'.' segment"),
    ("./a", "'.' segment"),
    ("a/..", "'..'"),
    ("../a", "'..'"),
    ("a/../b", "'..'"),
    ("/", "start or end with '/'"),
    ("a/b%2Fc", "'%'"),
    ("a/b?x", "'?'"),
    ("a/b#x", "'#'"),
    ("a\\b", "'\\'"),
    ("a/\nb", "U+000A"),
    ("a/\u202eb", "U+202E"),
    ("-a/b", "start with '-'"),
    ("", "cannot be empty"),
]


@pytest.mark.parametrize(("value", "reason"), SLASH_HOSTILE, ids=[repr(v)[:30] for v, _ in SLASH_HOSTILE])
def test_slash_ok_still_refuses_everything_else(value: str, reason: str) -> None:
    with pytest.raises(ToolInputError) as caught:
        render_path(BRANCH, {"repository_id": "r", "branch_id": value}, slash_ok={"branch_id"})
    message = caught.value.describe()
    assert message.startswith("Refused branch_id: ") and reason in message


def test_slash_ok_is_per_parameter() -> None:
    with pytest.raises(ToolInputError, match=r"Refused repository_id: .*'/'"):
        render_path(BRANCH, {"repository_id": "a/b", "branch_id": "x/y"}, slash_ok={"branch_id"})
    with pytest.raises(ToolInputError, match=r"Refused branch_id: .*'/'"):
        render_path(BRANCH, {"repository_id": "r", "branch_id": "x/y"})
