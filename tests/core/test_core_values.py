"""Header lookups (`values.header_value`, `values.header_values`): any case, plain dicts and multidicts."""

from __future__ import annotations

from multidict import CIMultiDict, CIMultiDictProxy
from unizo_mcp_core.values import header_value, header_values

NAMES = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset-After", "correlationId")


def test_several_headers_are_found_in_any_case_and_stripped() -> None:
    headers = {"x-ratelimit-limit": " 100 ", "X-RATELIMIT-REMAINING": "7", "Content-Type": "application/json"}
    assert header_values(headers, *NAMES) == ("100", "7", None, None)


def test_each_lookup_agrees_with_the_one_at_a_time_lookup() -> None:
    plain = {"X-RateLimit-Limit": "100", "x-ratelimit-reset-after": "0.5", "CorrelationID": "c-1"}
    multi = CIMultiDictProxy(CIMultiDict(plain))
    for headers in (plain, multi):
        assert header_values(headers, *NAMES) == tuple(header_value(headers, n) for n in NAMES)
        assert header_values(headers, *NAMES) == ("100", None, "0.5", "c-1")


def test_the_first_of_repeated_headers_counts_and_non_text_is_ignored() -> None:
    multi = CIMultiDict([("X-RateLimit-Remaining", "3"), ("x-ratelimit-remaining", "9")])
    assert header_values(multi, "X-RateLimit-Remaining") == ("3",)
    assert header_values({"X-RateLimit-Limit": 5}, "X-RateLimit-Limit") == (None,)  # type: ignore[dict-item]
