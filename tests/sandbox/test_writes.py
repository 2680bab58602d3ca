"""Request bodies: JSON objects only, unknown properties refused, odd but valid text stored as sent.

Each service's own writes (and their field validation) are tested in its package's tests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from unizo_mcp_sandbox.errors import dumps

from .support import WEBHOOKS, Api, hook_body

JSON = {"Content-Type": "application/json"}


async def test_non_json_bodies_are_refused(api: Api) -> None:
    for data in (b"{not json", b"", b"[1, 2]", b"\xff\xfe"):
        reply = await api.post(WEBHOOKS, data=data, headers=JSON)
        assert reply.status == 400, data
        assert reply.error["property"] == "body"


async def test_unknown_properties_are_refused_by_name(api: Api) -> None:
    reply = await api.post(WEBHOOKS, json=hook_body(colour="blue"))
    assert (reply.status, reply.error["property"]) == (400, "colour")
    assert "unknown property 'colour'" in reply.error["errorMessage"]


async def test_odd_but_valid_json_is_stored_and_served_back(api: Api) -> None:
    body = b'{"name": "lone \\ud800 surrogate \\u00e9 nul \\u0000", "url": "http://127.0.0.1:9/x",'
    body += b' "events": ["*"], "secret": "s3cret-value"}'
    created = await api.post(WEBHOOKS, data=body, headers=JSON)
    assert created.status == 201, created.text
    fetched = (await api.get(f"{WEBHOOKS}/{created.json['id']}")).json
    assert fetched["name"] == "lone \ud800 surrogate é nul \x00"
    deep = await api.post(WEBHOOKS, data=b"[" * 100_000 + b"]" * 100_000, headers=JSON)
    assert (deep.status, deep.error["property"]) == (400, "body")


@pytest.mark.parametrize(
    "payload",
    [
        {"data": [{"id": "a1", "n": 3, "risk": 7.5, "ok": True, "none": None}], "pagination": {"total": 1}},
        {"name": "Zoë 東京"},
        {"name": "lone \ud800 surrogate"},
        {"text": "control \x00\x1f and delete \x7f"},
    ],
)
def test_bodies_are_compact_ascii_json_of_what_is_served(payload: dict[str, Any]) -> None:
    text = dumps(payload)
    assert text.isascii() and ", " not in text and '": ' not in text
    assert json.loads(text) == payload
