"""A proxy that echoes the credentials in its refusal: no command prints them.

Issue: `--verify-connection` printed the proxy's status line unfiltered (user, password and the Basic
header). The proxy here answers CONNECT with 407 or 502 and puts everything it received into the
status line, the headers and the body; a third case points at a closed port. Every output of
`--test-auth`, `--verify-connection` and a server start is searched for the credentials.
"""

from __future__ import annotations

import asyncio
import base64
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from servicekit import a_service

from .support import assert_no_leaks, base_env, listable, script, secret_values, server_of
from .test_transport import run

USER = "proxy-user"
PASSWORD = "pr0xy-Pa55-echoed"


@asynccontextmanager
async def echoing_proxy(status: int) -> AsyncIterator[int]:
    """A proxy on 127.0.0.1 that refuses every CONNECT with `status`, echoing the request back."""

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        head = request.decode("latin-1").strip().replace("\r\n", " | ")
        basic = re.search(r"Basic (\S+)", head)
        if basic:  # echo the decoded user and password too, as some proxies do
            user, _, password = base64.b64decode(basic.group(1)).decode("latin-1").partition(":")
            head += f" | user {user} password {password}"
        body = f"refused: {head}".encode("latin-1")
        writer.write(
            f"HTTP/1.1 {status} Refused {head}\r\n"
            f"X-Echo: {head}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1")
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def secrets(sandbox: Any) -> dict[str, str]:
    found = secret_values(sandbox.keys.values(), [(USER, PASSWORD)])
    found["user:password"] = f"{USER}:{PASSWORD}"
    found["password"] = PASSWORD
    found["basic credentials"] = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    return found


async def outputs_through(sandbox: Any, proxy_port: int, tmp_path: Path) -> dict[str, str]:
    env = base_env(
        tmp_path,
        {**sandbox.env("full"), "HTTPS_PROXY": f"http://{USER}:{PASSWORD}@127.0.0.1:{proxy_port}"},
    )
    texts: dict[str, str] = {}
    for argv in (["--verify-connection"], ["--test-auth"], []):
        code, out, err = await run([script(server_of(a_service(listable))), *argv], env, tmp_path, timeout=60)
        label = " ".join(argv) or "server start"
        # the checks fail; the server starts anyway (the API may come back) and ends at stdin's EOF
        assert (code != 0) == bool(argv), f"{label} exited {code}: {out}{err}"
        texts[f"{label} stdout"], texts[f"{label} stderr"] = out, err
    return texts


@pytest.mark.parametrize("status", [407, 502])
async def test_a_refusal_echoing_the_credentials_is_not_printed(
    status: int, sandbox: Any, tmp_path: Path
) -> None:
    async with echoing_proxy(status) as port:
        texts = await outputs_through(sandbox, port, tmp_path)
    shown = texts["--verify-connection stdout"] + texts["--verify-connection stderr"]
    assert str(status) in shown and "proxy" in shown.lower(), shown  # the refusal is still reported
    assert_no_leaks(texts, secrets(sandbox))


async def test_a_closed_proxy_port_does_not_print_the_credentials(sandbox: Any, tmp_path: Path) -> None:
    texts = await outputs_through(sandbox, closed_port(), tmp_path)
    shown = texts["--verify-connection stdout"] + texts["--verify-connection stderr"]
    assert "proxy" in shown.lower(), shown
    assert_no_leaks(texts, secrets(sandbox))
