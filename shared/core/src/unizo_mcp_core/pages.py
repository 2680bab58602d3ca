"""Decode a list page keeping only what the list shows of its records.

A list tool answers each record's summary fields (`shaping`), a small part of each record (figure 6 of
`nox -s bench`). Building Python objects for the rest only to drop them is most of what decoding a page
costs, so a page is decoded by pydantic-core against a schema of the top-level fields the
summary (and any `fields` asked for) reads: `{"data": [record...], "pagination": ...}` with nothing else
at the top, records objects whose other fields are skipped, values kept exactly as `json.loads` gives
them. Any other body (another envelope, a record that is not an object, JSON that is not valid) does not
fit and is decoded whole by the client, as every body was before: what the list answers is the same
either way (tests/servers/test_list_pages.py checks it on every service's pages, tests/mcp/test_mcp_shaping.py
on generated ones).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from .shaping import ALL, top_level_keys
from .spec import Fields

__all__ = ["page_decoder"]


def page_decoder(fields: Fields, wanted: Sequence[str] | None) -> Callable[[bytes], Any] | None:
    """A decoder of a page for a list showing `fields` (plus `wanted`); None for whole records ("*").
    It raises ValueError for a body that does not fit: the caller then decodes it whole."""
    if wanted and ALL in wanted:
        return None
    return _decoder(top_level_keys(fields, wanted))


@functools.lru_cache(maxsize=256)
def _decoder(keys: frozenset[str]) -> Callable[[bytes], Any]:
    record = cs.typed_dict_schema(
        {key: cs.typed_dict_field(cs.any_schema(), required=False) for key in sorted(keys)},
        extra_behavior="ignore",
    )
    page = cs.typed_dict_schema(
        {
            "data": cs.typed_dict_field(cs.list_schema(record)),
            "pagination": cs.typed_dict_field(cs.any_schema(), required=False),
        },
        extra_behavior="forbid",
    )
    # keys are cached (every record repeats them), values not: as the client decodes whole bodies
    return SchemaValidator(page, cs.CoreConfig(cache_strings="keys")).validate_json
