"""The HTTP gate ends every response the app started: an event stream left open at shutdown is ended."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import pytest
from unizo_mcp_core.httpgate import HttpGate

TOKEN = "gate-test-token-0123456789abcdef"
START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
CHUNK = {"type": "http.response.body", "body": b"event: message\n\n", "more_body": True}
LAST = {"type": "http.response.body", "body": b"", "more_body": False}


def app_sending(*messages: dict[str, Any]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        for message in messages:
            await send(dict(message))

    return app


async def through_the_gate(app: Any) -> list[MutableMapping[str, Any]]:
    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    scope = {"type": "http", "headers": [(b"authorization", f"Bearer {TOKEN}".encode())]}
    await HttpGate(app, token=TOKEN)(scope, receive, send)
    return sent


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        # the SDK's GET stream at shutdown: started, a chunk, then the app returned
        ((START, CHUNK), [START, CHUNK, LAST]),
        ((START,), [START, LAST]),
        # ended by the app: nothing added
        ((START, CHUNK, LAST), [START, CHUNK, LAST]),
        (
            (START, {"type": "http.response.body", "body": b"{}"}),
            [START, {"type": "http.response.body", "body": b"{}"}],
        ),
        # nothing started: nothing to end (the server answers the missing response itself)
        ((), []),
    ],
)
async def test_a_response_left_open_is_ended(
    messages: tuple[dict[str, Any], ...], expected: list[dict[str, Any]]
) -> None:
    assert await through_the_gate(app_sending(*messages)) == expected


async def test_an_app_that_fails_is_not_answered_for() -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        await send(dict(START))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await through_the_gate(failing)
