"""Stdio serving that answers every line: malformed JSON-RPC gets the error JSON-RPC 2.0 requires.

The SDK's stdio transport drops a line it cannot validate (the client then waits for its own
timeout). Lines are read here instead, bounded in size, and screened by the pure `screen()`:
accepted lines go on to the SDK unchanged, rejected ones are answered with -32700 (parse error,
`id: null`) or -32600 (invalid request, echoing the id when one can be read) and serving goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import anyio
from attrs import frozen

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

    from .server import UnizoServer

__all__ = [
    "INVALID_REQUEST",
    "MAX_DEPTH",
    "MAX_LINE_BYTES",
    "PARSE_ERROR",
    "Rejection",
    "screen",
    "serve_stdio",
]

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
MAX_LINE_BYTES = 4 * 1024 * 1024  # far above any tool call; bounds memory for one line
MAX_DEPTH = 64  # below the SDK parser's own limit, so an accepted line always reaches a handler
log = logging.getLogger("unizo_mcp.stdio")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


@frozen
class Rejection:
    """The answer owed to a line the server cannot take."""

    code: int
    message: str
    id: str | int | None = None


OVERSIZED = Rejection(PARSE_ERROR, f"Parse error: message longer than {MAX_LINE_BYTES} bytes")


def screen(line: bytes) -> str | Rejection | None:
    """The line's text if it is one valid JSON-RPC 2.0 message, the error to answer if not,
    None for a blank line (nothing to answer)."""
    return _screen(line)[0]


def _screen(line: bytes) -> tuple[str | Rejection | None, Any]:
    """`screen`'s verdict, and the message decoded from an accepted line (None otherwise)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(PARSE_ERROR, f"Parse error: invalid UTF-8 at byte {exc.start}"), None
    if not text.strip():
        return None, None
    if text.startswith("\ufeff"):  # as json.loads says it
        return Rejection(PARSE_ERROR, "Parse error: Unexpected UTF-8 BOM (decode using utf-8-sig)"), None
    try:
        message = _STRICT_JSON.decode(text)  # no raw control chars, no NaN or Infinity
    except RecursionError:
        return Rejection(PARSE_ERROR, f"Parse error: nested deeper than {MAX_DEPTH} levels"), None
    except ValueError as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        column = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        return Rejection(PARSE_ERROR, f"Parse error: {detail}{column}"), None
    check_text = _SURROGATE_ESCAPE.search(text) is not None
    # no deeper nesting than brackets in the text: most lines need no walk through the message
    if check_text or text.count("{") + text.count("[") > MAX_DEPTH:
        problem = _structure_problem(message, check_text=check_text)
        if problem:
            return Rejection(PARSE_ERROR, f"Parse error: {problem}"), None
    rejection = _invalid_request(message)
    return (rejection, None) if rejection is not None else (text, message)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# built once: json.loads with an argument builds a decoder for every line
_STRICT_JSON = json.JSONDecoder(parse_constant=_refuse_constant)


def _structure_problem(value: Any, *, check_text: bool) -> str | None:
    """Nesting deeper than MAX_DEPTH, or a lone surrogate escape (text that is not Unicode)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
            for key, child in children:
                if check_text and isinstance(key, str) and not _is_unicode(key):
                    return "a lone UTF-16 surrogate escape in a key"
                stack.append((child, depth + 1))
        elif check_text and isinstance(item, str) and not _is_unicode(item):
            return "a lone UTF-16 surrogate escape in a string"
    return None


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _readable_id(message: dict[str, Any]) -> str | int | None:
    value = message.get("id")
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def _invalid_request(message: Any) -> Rejection | None:
    if isinstance(message, list):
        if not message:
            return Rejection(INVALID_REQUEST, "Invalid Request: empty batch")
        return Rejection(
            INVALID_REQUEST, "Invalid Request: batches are not supported; send one message per line"
        )
    if not isinstance(message, dict):
        return Rejection(INVALID_REQUEST, "Invalid Request: a message is a JSON object")
    request_id = _readable_id(message)

    def invalid(why: str) -> Rejection:
        return Rejection(INVALID_REQUEST, f"Invalid Request: {why}", request_id)

    if message.get("jsonrpc") != "2.0":
        return invalid('"jsonrpc" must be "2.0"')
    if "id" in message and request_id is None:
        return invalid('"id" must be a string or an integer')
    if "method" in message:
        if not isinstance(message["method"], str):
            return invalid('"method" must be a string')
        if "result" in message or "error" in message:
            return invalid('a request has no "result" or "error"')
        if not isinstance(message.get("params", {}), dict):
            return invalid('"params" must be an object')
        # a request or notification with these checks passed is one the SDK's model takes (tested in
        # tests/core/test_core_stdio_screen.py): only responses need the model's own verdict
        return None
    elif "id" not in message:
        return invalid('a request needs "method"; a response needs "id"')
    elif ("result" in message) == ("error" in message):
        return invalid('a response has exactly one of "result" and "error"')
    elif "error" in message and not _is_error_object(message["error"]):
        return invalid('"error" needs an integer "code" and a string "message"')
    return _sdk_refusal(message, request_id)


def _is_error_object(error: Any) -> bool:
    return (
        isinstance(error, dict)
        and isinstance(error.get("code"), int)
        and not isinstance(error.get("code"), bool)
        and isinstance(error.get("message"), str)
    )


def _sdk_refusal(message: dict[str, Any], request_id: str | int | None) -> Rejection | None:
    """Whatever else the SDK's message model refuses: it would drop the line, so answer here."""
    import mcp_types
    from pydantic import ValidationError

    try:
        mcp_types.jsonrpc_message_adapter.validate_python(message, by_name=False)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "message"
        return Rejection(INVALID_REQUEST, f"Invalid Request: {where}: {first['msg']}", request_id)
    return None


def read_line(source: BinaryIO) -> bytes | Rejection | None:
    """One line from `source` (None at end of input); a line over MAX_LINE_BYTES is read to its
    end without being kept, and answered as OVERSIZED."""
    line = source.readline(MAX_LINE_BYTES + 1)
    if not line:
        return None
    if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
        return line
    while True:
        rest = source.readline(1024 * 1024)
        if not rest or rest.endswith(b"\n"):
            return OVERSIZED


class LineReader:
    """`read_line` of `source` on a daemon thread of its own, one line per `read()`.

    A worker thread (`anyio.to_thread`) blocked on stdin is joined when the interpreter exits, so a
    server stopped by Ctrl-C would stay alive until stdin closed; a daemon thread is not waited for."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._wanted: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._ended = False  # the end of input was read: the thread is done

    async def read(self) -> bytes | Rejection | None:
        if self._ended:
            return None
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bytes | Rejection | None] = loop.create_future()
        self._wanted.put((loop, answer))
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="unizo-mcp stdin", daemon=True)
            self._thread.start()
        return await answer

    def _serve(self) -> None:
        while True:
            loop, answer = self._wanted.get()
            try:
                line, error = read_line(self._source), None
            except BaseException as exc:  # whatever it is, the reader raises it
                line, error = None, exc
            ended = line is None and error is None
            self._ended = ended  # before the answer: a read() after it returns at once
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, answer, line, error)
            if ended:
                return


def _settle(answer: asyncio.Future[Any], line: Any, error: BaseException | None) -> None:
    if answer.done():  # the reader was cancelled
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(line)


class ScreenedLines:
    """The stdin the SDK iterates: valid lines only; rejections go to `rejections`. At the end of input
    `at_end(calls)` is awaited before the SDK sees it (it then cancels every call in flight); `calls` is
    how many `tools/call` requests were passed on."""

    def __init__(
        self,
        source: BinaryIO,
        rejections: MemoryObjectSendStream[Rejection],
        at_end: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._reader = LineReader(source)
        self._rejections = rejections
        self._at_end = at_end
        self._calls = 0

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        async with self._rejections:
            while True:
                line = await self._reader.read()
                if line is None:
                    if self._at_end is not None:
                        await self._at_end(self._calls)
                    return
                message: Any = None
                if isinstance(line, Rejection):
                    verdict: str | Rejection | None = line
                else:
                    verdict, message = _screen(line)
                if isinstance(verdict, str):  # `message` is the object decoded from it
                    self._calls += message.get("method") == "tools/call" and "id" in message
                    yield verdict
                elif verdict is not None:
                    log.warning("answered a malformed message with %s: %s", verdict.code, verdict.message)
                    await self._rejections.send(verdict)


async def _answer(rejections: MemoryObjectReceiveStream[Rejection], write_stream: Any) -> None:
    from mcp.shared.message import SessionMessage
    from mcp_types import ErrorData, JSONRPCError

    async with rejections:
        async for rejection in rejections:
            error = ErrorData(code=rejection.code, message=rejection.message)
            try:
                await write_stream.send(
                    SessionMessage(JSONRPCError(jsonrpc="2.0", id=rejection.id, error=error))
                )
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return


async def serve_stdio(server: UnizoServer, source: BinaryIO | None = None) -> None:
    """Serve over this process's stdin/stdout until the client closes stdin (or its end of stdout)."""
    from mcp.server.stdio import stdio_server

    send, receive = anyio.create_memory_object_stream[Rejection](64)
    # a reader of its own on fd 0, not sys.stdin's: the daemon thread may still be blocked in it when
    # the interpreter shuts down, and closing a reader another thread holds is a fatal error
    state = server.state
    lines = ScreenedLines(
        source or open(0, "rb", closefd=False),  # noqa: SIM115 - never closed
        send,
        at_end=lambda calls: state.calls.drain(calls, state.settings.timeout),  # writes get their answers
    )
    # stdout stays the SDK's: it moves fd 1 to stderr while serving, so stray output misses the wire.
    stdin = cast("anyio.AsyncFile[str]", lines)
    try:
        async with (
            stdio_server(stdin=stdin) as (read_stream, write_stream),
            anyio.create_task_group() as tasks,
        ):
            tasks.start_soon(_answer, receive, write_stream)
            await server.mcp.run(read_stream, write_stream, server.mcp.create_initialization_options())
    except* (BrokenPipeError, ConnectionResetError):
        # the client is gone (it quit or crashed) with an answer still to write: nobody is left to serve
        log.info("stopping: the client closed its end of stdout")
