"""The pure screen of stdio lines: every malformed JSON-RPC message gets the error JSON-RPC 2.0
requires, valid messages pass unchanged."""

from __future__ import annotations

import io
import json
import os
import threading

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unizo_mcp_core.stdio import (
    INVALID_REQUEST,
    MAX_DEPTH,
    MAX_LINE_BYTES,
    PARSE_ERROR,
    LineReader,
    Rejection,
    ScreenedLines,
    read_line,
    screen,
)
from unizo_testkit import JSON_VALUES

VALID = [
    {"jsonrpc": "2.0", "id": 1, "method": "ping"},
    {"jsonrpc": "2.0", "id": "a-1", "method": "tools/list", "params": {}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 7, "result": {}},
    {"jsonrpc": "2.0", "id": 7, "error": {"code": -1, "message": "no"}},
    {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "x", "arguments": {"q": "😀 tab\\t"}},
    },
]


@pytest.mark.parametrize("message", VALID, ids=lambda m: str(m.get("method", "response")))
def test_valid_messages_pass_unchanged(message: dict[str, object]) -> None:
    line = json.dumps(message) + "\n"
    assert screen(line.encode()) == line


def test_paired_surrogate_escape_is_text() -> None:
    line = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"e":"\\ud83d\\ude00"}}'
    assert screen(line.encode()) == line


@pytest.mark.parametrize("line", [b"", b"\n", b"   \r\n"])
def test_blank_lines_need_no_answer(line: bytes) -> None:
    assert screen(line) is None


PARSE_ERRORS = {
    "not json": b"hello\n",
    "truncated": b'{"jsonrpc":"2.0","id":1,\n',
    "raw NUL in a string": b'{"jsonrpc":"2.0","id":1,"method":"p\x00ing"}\n',
    "raw tab in a string": b'{"jsonrpc":"2.0","id":1,"method":"p\ting"}\n',
    "invalid UTF-8": b'{"jsonrpc":"2.0","id":1,"method":"\xff"}\n',
    "encoded lone surrogate": b'{"jsonrpc":"2.0","id":1,"method":"\xed\xa0\x80"}\n',
    "escaped lone surrogate": b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"s":"\\ud800"}}\n',
    "lone surrogate in a key": b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"\\udc00":1}}\n',
    "NaN": b'{"jsonrpc":"2.0","id":NaN,"method":"ping"}\n',
    "byte order mark": b'\xef\xbb\xbf{"jsonrpc":"2.0","id":1,"method":"ping"}\n',
    "too deep": b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":'
    + b"[" * MAX_DEPTH
    + b"]" * MAX_DEPTH
    + b"}}\n",
    "far too deep": b"[" * 100_000 + b"]" * 100_000 + b"\n",
}


@pytest.mark.parametrize("line", PARSE_ERRORS.values(), ids=PARSE_ERRORS.keys())
def test_parse_errors_answer_32700_with_null_id(line: bytes) -> None:
    verdict = screen(line)
    assert isinstance(verdict, Rejection), verdict
    assert (verdict.code, verdict.id) == (PARSE_ERROR, None)
    assert verdict.message.startswith("Parse error: ")


def test_a_byte_order_mark_is_named() -> None:
    verdict = screen(b'\xef\xbb\xbf{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
    assert isinstance(verdict, Rejection) and "BOM" in verdict.message, verdict


def test_nesting_at_the_limit_is_accepted() -> None:
    depth = MAX_DEPTH - 2  # the message object and params are two levels
    line = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":' + "[" * depth + "]" * depth + "}}"
    assert screen(line.encode()) == line


def test_brackets_inside_strings_are_not_nesting() -> None:
    line = '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":"' + "[{" * MAX_DEPTH + '"}}'
    assert screen(line.encode()) == line


INVALID = {
    # name: (message, id the answer echoes, words the answer names)
    "jsonrpc 1.0": ({"jsonrpc": "1.0", "id": 3, "method": "ping"}, 3, '"jsonrpc"'),
    "no jsonrpc": ({"id": "x", "method": "ping"}, "x", '"jsonrpc"'),
    "no method": ({"jsonrpc": "2.0", "id": 4}, 4, "exactly one"),
    "neither method nor id": ({"jsonrpc": "2.0", "params": {}}, None, '"method"'),
    "method not a string": ({"jsonrpc": "2.0", "id": 5, "method": 12}, 5, '"method"'),
    "object id": ({"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}, None, '"id"'),
    "float id": ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, None, '"id"'),
    "boolean id": ({"jsonrpc": "2.0", "id": True, "method": "ping"}, None, '"id"'),
    "null id": ({"jsonrpc": "2.0", "id": None, "method": "ping"}, None, '"id"'),
    "array params": ({"jsonrpc": "2.0", "id": 6, "method": "ping", "params": [1]}, 6, '"params"'),
    "result and error": (
        {"jsonrpc": "2.0", "id": 8, "result": {}, "error": {"code": 1, "message": "m"}},
        8,
        "exactly one",
    ),
    "error without code": ({"jsonrpc": "2.0", "id": 9, "error": {"message": "m"}}, 9, '"code"'),
    "method with result": ({"jsonrpc": "2.0", "id": 10, "method": "ping", "result": {}}, 10, '"result"'),
    "empty batch": ([], None, "batch"),
    "batch": ([{"jsonrpc": "2.0", "id": 1, "method": "ping"}], None, "batch"),
    "a string": ("ping", None, "object"),
    "a number": (1, None, "object"),
}


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_invalid_requests_answer_32600_echoing_a_readable_id(case: tuple[object, object, str]) -> None:
    message, answer_id, words = case
    verdict = screen(json.dumps(message).encode())
    assert isinstance(verdict, Rejection), verdict
    assert (verdict.code, verdict.id) == (INVALID_REQUEST, answer_id)
    assert verdict.message.startswith("Invalid Request: ") and words in verdict.message, verdict.message


def test_a_line_over_the_limit_is_read_to_its_end_and_refused() -> None:
    source = io.BytesIO(b"x" * (MAX_LINE_BYTES + 10) + b"\n" + b'{"next":1}\n')
    verdict = read_line(source)
    assert isinstance(verdict, Rejection) and verdict.code == PARSE_ERROR and verdict.id is None
    assert read_line(source) == b'{"next":1}\n'  # the next message is intact
    assert read_line(source) is None


def test_a_line_of_exactly_the_limit_is_kept() -> None:
    line = b"y" * (MAX_LINE_BYTES - 1) + b"\n"
    assert read_line(io.BytesIO(line)) == line


# messages shaped like requests and notifications (the lines a client sends), each member of any JSON
# type or missing, plus stray members; responses included, as a client answers the server's requests
MESSAGES = st.fixed_dictionaries(
    {},
    optional={
        "jsonrpc": st.sampled_from(["2.0", "1.0"]) | JSON_VALUES,
        "id": st.integers() | st.text(max_size=6) | JSON_VALUES,
        "method": st.sampled_from(["ping", "tools/call", "notifications/initialized"]) | JSON_VALUES,
        "params": st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=3) | JSON_VALUES,
        "result": st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=2) | JSON_VALUES,
        "error": st.fixed_dictionaries({"code": st.integers(), "message": st.text(max_size=6)}) | JSON_VALUES,
        "extra": JSON_VALUES,
    },
)


@settings(max_examples=400, deadline=None)
@given(message=MESSAGES)
def test_a_line_the_screen_passes_is_one_the_sdk_takes(message: dict[str, object]) -> None:
    """The screen answers every line the SDK's message model would drop: what it passes, the model takes."""
    import mcp_types
    from pydantic import ValidationError

    line = json.dumps(message)
    verdict = screen(line.encode())
    try:
        mcp_types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValidationError:
        assert isinstance(verdict, Rejection), f"passed, yet the SDK drops it: {line}"
        return
    assert verdict == line or isinstance(verdict, Rejection)  # stricter than the model is allowed


async def test_lines_are_read_on_a_daemon_thread_that_ends_with_the_input() -> None:
    """A daemon thread: a read still blocked on stdin cannot keep the process alive at exit (Ctrl-C)."""
    read_end, write_end = os.pipe()
    with open(read_end, "rb") as source, open(write_end, "wb") as sink:
        before = set(threading.enumerate())  # other tests' servers may have readers of their own
        reader = LineReader(source)
        sink.write(b'{"jsonrpc": "2.0", "method": "ping"}\n')
        sink.flush()
        assert await reader.read() == b'{"jsonrpc": "2.0", "method": "ping"}\n'
        (thread,) = [t for t in set(threading.enumerate()) - before if t.name == "unizo-mcp stdin"]
        assert thread.daemon
        sink.close()
        assert await reader.read() is None
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert await reader.read() is None  # the end, again, without a thread
        assert not [t for t in set(threading.enumerate()) - before if t.name == "unizo-mcp stdin"]


async def test_the_end_of_input_is_held_back_with_the_number_of_tool_calls_passed_on() -> None:
    """The end of stdin waits on `at_end(calls)` before the SDK sees it (it cancels every call in flight
    then): `calls` counts the `tools/call` requests passed on, not lines that merely mention one."""
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "a", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"cursor": "tools/call"}},
        {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "a"}},  # a notification: no answer owed
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "b", "arguments": {"q": "x"}}},
    ]
    escaped = b'{"jsonrpc": "2.0", "id": 4, "method": "tools\\/call", "params": {"name": "c"}}\n'
    text = b"".join(json.dumps(line).encode() + b"\n" for line in lines) + escaped + b"not json\n"
    source = io.BytesIO(text)
    send, receive = anyio.create_memory_object_stream[Rejection](8)
    ends: list[tuple[int, int]] = []
    passed: list[str] = []

    async def at_end(calls: int) -> None:
        ends.append((calls, len(passed)))  # every line was passed on before the end is announced

    async with receive:
        async for text in ScreenedLines(source, send, at_end=at_end):
            passed.append(text)
        rejected = [r.code async for r in receive]
    assert [json.loads(text) for text in passed] == [*lines, json.loads(escaped)]
    assert ends == [(3, len(lines) + 1)]
    assert rejected == [PARSE_ERROR]
