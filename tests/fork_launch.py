"""The stand-in for a console script that tests/forkserver.py runs (see there); standard library only.

Run with `python -IS` so it starts in milliseconds: hands argv, environment, working directory and
fds 0-2 to the fork server, passes on the signals it gets, and ends as the forked server ended.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def main(socket_path: str, real: str) -> None:
    argv = [real, *sys.argv[1:]]
    request = json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    data = struct.pack("!I", len(request)) + request
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(socket_path)
        sent = socket.send_fds(conn, [data], [0, 1, 2])
        conn.sendall(data[sent:])
    except OSError as exc:
        sys.stderr.write(f"fork_launch: the tests' fork server is not there ({socket_path}): {exc}\n")
        os._exit(127)
    reader = conn.makefile("rb")
    pid = json.loads(reader.readline())["pid"]

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    line = reader.readline()
    if not line:
        sys.stderr.write("fork_launch: the tests' fork server left before the server ended\n")
        os._exit(125)
    status = json.loads(line)["status"]
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)
