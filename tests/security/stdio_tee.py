"""Run a command with stdin passed through; copy its stdout to ours and to a file, its stderr to a file.

`python stdio_tee.py OUT_FILE ERR_FILE -- COMMAND [ARGS...]`: lets a test see every byte an MCP server
wrote on stdout (the protocol stream, notifications included) and on stderr, while an MCP client talks to it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys


def main() -> int:
    out_path, err_path, separator, *command = sys.argv[1:]
    assert separator == "--" and command, __doc__
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err)

        def forward(signum: int, _frame: object) -> None:
            if process.poll() is None:
                process.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        assert process.stdout is not None
        fd = process.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out.write(chunk)
            out.flush()
            view = memoryview(chunk)
            try:
                while view:
                    view = view[os.write(1, view) :]
            except BrokenPipeError:
                pass
        return process.wait()


if __name__ == "__main__":
    sys.exit(main())
