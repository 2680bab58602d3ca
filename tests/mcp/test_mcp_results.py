"""Tool results: `compact()` drops nulls everywhere; the text copy is the structured content, compact."""

from __future__ import annotations

import datetime
import decimal
import json
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

from unizo_mcp_core.results import compact, success_result


def reference(value: Any) -> Any:
    """The definition: None dropped from every mapping and sequence, keys as strings, tuples as lists."""
    if isinstance(value, dict | MappingProxyType | OrderedDict):
        return {str(k): reference(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [reference(v) for v in value if v is not None]
    return value


PAGE: dict[str, Any] = {
    "data": [
        {
            "id": "d-1",
            "name": "laptop",
            "owner": None,
            "tags": ["a", None, "b"],
            "os": {"name": "linux", "version": None, "flags": [True, False, 0, 0.0, ""]},
            "alerts": [],
            "meta": {},
            "nested": [[None, {"x": None, "y": [None]}], []],
        },
        None,
        {"id": "d-2", "score": 1.5, "count": 0, "ok": False},
    ],
    "pagination": {"offset": 0, "limit": 20, "total": None},
}


def test_compact_drops_nulls_at_every_depth() -> None:
    assert compact(PAGE) == reference(PAGE)
    assert compact(PAGE)["data"][0] == {
        "id": "d-1",
        "name": "laptop",
        "tags": ["a", "b"],
        "os": {"name": "linux", "flags": [True, False, 0, 0.0, ""]},
        "alerts": [],
        "meta": {},
        "nested": [[{"y": []}], []],
    }
    assert len(compact(PAGE)["data"]) == 2


def test_compact_keeps_falsy_scalars_and_their_types() -> None:
    out = compact({"a": 0, "b": False, "c": "", "d": 0.0})
    assert out == {"a": 0, "b": False, "c": "", "d": 0.0}
    assert [type(v) for v in out.values()] == [int, bool, str, float]


def test_compact_general_mappings_sequences_and_keys() -> None:
    value = MappingProxyType({1: ("x", None, OrderedDict(k=None, j=(1, None)))})
    assert compact(value) == {"1": ["x", {"j": [1]}]} == reference(value)
    assert compact({2: None, 3: {4: "v"}}) == {"3": {"4": "v"}}
    assert compact("text") == "text" and compact(5) == 5 and compact(None) is None


def test_compact_returns_new_containers() -> None:
    source = {"a": [1, {"b": 2}]}
    out = compact(source)
    assert out == source
    assert out is not source and out["a"] is not source["a"] and out["a"][1] is not source["a"][1]


def test_success_result_text_is_the_structured_content_as_compact_json() -> None:
    result = success_result(PAGE["data"], PAGE["pagination"])
    structured = result.structured_content
    assert structured == {"data": compact(PAGE["data"]), "pagination": {"offset": 0, "limit": 20}}
    (text,) = [c.text for c in result.content]
    assert json.loads(text) == structured
    assert text == json.dumps(structured, separators=(",", ":"), ensure_ascii=False)
    assert "\n" not in text and ": " not in text and ", " not in text


def test_success_result_writes_values_json_has_no_form_for_as_text() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "opaque"

    when = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.UTC)
    result = success_result({"at": when, "n": decimal.Decimal("1.50"), "o": Opaque()})
    (text,) = [c.text for c in result.content]
    assert json.loads(text) == {"data": {"at": "2026-12-01T10:00:00Z", "n": "1.50", "o": "opaque"}}


def test_success_result_keeps_non_ascii_text_as_is() -> None:
    result = success_result([{"name": "Zoë 東京"}])
    (text,) = [c.text for c in result.content]
    assert text == '{"data":[{"name":"Zoë 東京"}]}'
