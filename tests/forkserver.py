"""Server processes for the tests, forked from a warm interpreter instead of started cold.

A server started cold spends about 1.5 s of CPU importing the MCP SDK before it serves, and the suite
starts about a hundred. `launcher(name, real)` gives an executable that stands in for the console script
`name` installed at `real` (tests/fork_launch.py): it hands its argv, environment, working directory and
stdin/stdout/stderr to a fork server (one per test process, which has imported every installed server's
modules once), waits for the forked child, passes it the signals it gets, and exits as the child did (its
code, or killed by its signal). When the launcher is killed outright, the fork server kills the child
(SIGKILL), as the end of a real process would end the server.

What a forked server does not share with a cold one, so the tests that depend on it run the real
console script (tests/servers/test_stdio.py starts each one cold): its modules were imported before
its environment was set (the core reads none at import), and its /proc cmdline and environ are the
fork server's. `served_child(cwd)` finds a forked server's pid for tests that read its /proc entry.

`python forkserver.py SOCKET`: serve; started by `launcher()`, stops when its stdin closes.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVED = "unizo-mcp-"  # the console scripts the fork server preloads and stands in for
_HEADER = struct.Struct("!I")

_server: subprocess.Popen[bytes] | None = None
_socket: Path | None = None


# --- the test side ---------------------------------------------------------------------------------


def launcher(name: str, real: str) -> str:
    """An executable named `name` that runs the console script at `real` through the fork server."""
    socket_path = _ensure_server()
    path = socket_path.parent / "bin" / name
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(
            f"#!{sys.executable} -IS\n"
            "import sys\n"
            f"sys.path.insert(0, {str(HERE)!r})\n"
            "from fork_launch import main\n"
            f"main({str(socket_path)!r}, {real!r})\n"
        )
        path.chmod(0o755)
    return str(path)


def served_child(cwd: Path) -> int | None:
    """The pid of a server this test process's fork server runs in `cwd`, if one runs there."""
    if _server is None:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == _server.pid and Path(os.readlink(entry / "cwd")) == cwd:
                return int(entry.name)
    return None


def _ensure_server() -> Path:
    global _server, _socket
    if _server is not None and _server.poll() is None and _socket is not None:
        return _socket
    work = Path(tempfile.mkdtemp(prefix="unizo-forkserver-"))
    _socket = work / "socket"
    _server = subprocess.Popen(
        [sys.executable, "-u", str(Path(__file__).resolve()), str(_socket)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=work,
    )
    assert _server.stdout is not None
    ready = _server.stdout.readline()
    if ready != b"ready\n":
        raise RuntimeError(f"the tests' fork server did not start (exit code {_server.wait()}): {ready!r}")
    atexit.register(_stop_server, _server, work)
    return _socket


def _stop_server(server: subprocess.Popen[bytes], work: Path) -> None:
    assert server.stdin is not None
    server.stdin.close()  # its signal to kill what it still runs and stop
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
    shutil.rmtree(work, ignore_errors=True)


# --- the fork server ---------------------------------------------------------------------------------


def _preload() -> None:
    """Import what every installed server imports: the core, the SDK and each console script's module."""
    import importlib
    import pkgutil
    from importlib.metadata import entry_points

    import unizo_mcp_core

    for module in pkgutil.walk_packages(unizo_mcp_core.__path__, "unizo_mcp_core."):
        importlib.import_module(module.name)
    for entry in entry_points(group="console_scripts"):
        if entry.name.startswith(SERVED):
            entry.load()


def _read_request(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    """A stand-in's request (length-prefixed JSON) and the three fds sent with it."""
    data, fds, _flags, _address = socket.recv_fds(conn, 1 << 16, 3)
    try:
        while len(data) < _HEADER.size or len(data) < _HEADER.size + _HEADER.unpack_from(data)[0]:
            more = conn.recv(1 << 16)
            if not more:
                raise ConnectionError("launcher left mid-request")
            data += more
        (size,) = _HEADER.unpack_from(data)
        if len(fds) != 3:
            raise ConnectionError(f"expected fds 0-2, got {len(fds)}")
        return json.loads(data[_HEADER.size : _HEADER.size + size]), list(fds)
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def _send(conn: socket.socket, message: dict[str, int]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode() + b"\n")


def _run_child(request: dict[str, object], fds: list[int]) -> int:
    """In the forked child: become the console script the launcher stands for; its exit code."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for fd in fds:
        if fd > 2:
            os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])  # type: ignore[arg-type]
    os.chdir(str(request["cwd"]))
    sys.argv = list(request["argv"])  # type: ignore[call-overload]
    from importlib.metadata import entry_points

    (entry,) = entry_points(group="console_scripts", name=Path(sys.argv[0]).name)
    try:
        code = entry.load()()
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:
        _flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    _flush()
    return code


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()


def serve(socket_path: str) -> None:
    _preload()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_read, selectors.EVENT_READ, "child")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "stop")
    children: dict[int, socket.socket | None] = {}  # pid → its launcher's connection, None once gone
    sys.stdout.write("ready\n")
    while True:
        for key, _events in selector.select():
            if key.data == "accept":
                conn, _ = listener.accept()
                try:
                    request, fds = _read_request(conn)
                except (OSError, ValueError):
                    conn.close()
                    continue
                pid = os.fork()
                if pid == 0:  # never returns: a child that came back here would serve as a second fork server
                    code = 1
                    try:
                        signal.set_wakeup_fd(-1)
                        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                        selector.close()
                        for fd in (listener.fileno(), wake_read, wake_write, conn.fileno()):
                            os.close(fd)
                        for other in children.values():
                            if other is not None:
                                other.close()
                        code = _run_child(request, fds)
                    except BaseException:
                        traceback.print_exc()
                    finally:
                        os._exit(code)
                for fd in fds:
                    os.close(fd)
                children[pid] = conn
                selector.register(conn, selectors.EVENT_READ, pid)
                _send(conn, {"pid": pid})
            elif key.data == "child":
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_read, 4096)
                while children:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                    if pid == 0:
                        break
                    launcher_conn = children.pop(pid, None)
                    if launcher_conn is not None:
                        selector.unregister(launcher_conn)
                        _send(launcher_conn, {"status": status})
                        launcher_conn.close()
            elif key.data == "stop":
                if not os.read(sys.stdin.fileno(), 4096):
                    for pid in children:
                        with contextlib.suppress(OSError):
                            os.kill(pid, signal.SIGKILL)
                    # nothing is left to flush: tearing the preloaded interpreter down would only keep
                    # the test process that waits for this one waiting at its end
                    os._exit(0)
            else:  # a launcher's connection: it sends nothing more, so readable means it is gone
                pid = key.data
                if children.get(pid) is not key.fileobj:
                    continue  # reaped in this same round
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                selector.unregister(key.fileobj)
                children[pid] = None
                key.fileobj.close()  # type: ignore[union-attr]


if __name__ == "__main__":
    serve(sys.argv[1])
