"""`CommandParser`: the argparse of every command in the family (the servers and `unizo`).

Three differences from argparse, each about the key:

* no abbreviated options: argparse would read `--api-key KEY` as `--api-key-file KEY`, and then name the
  key in the error about a missing file;
* a usage error is one line, exit code 2, and never echoes a value: one could be a key typed in the
  wrong place. An option that looks meant for a key says how a key is given instead;
* what it prints (help, usage, errors) goes through the redaction like every other line.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .errors import ExitCode
from .redaction import write_scrubbed

__all__ = ["CommandParser", "usage_error"]

_UNRECOGNIZED = "unrecognized arguments: "
_KEY_OPTIONS = frozenset({"--api-key", "--apikey", "--key", "--token", "--api-token", "--secret"})
_KEY_ON_THE_COMMAND_LINE = (
    "a key is never taken on the command line, where other users of the machine can read it (ps): "
    "set UNIZO_API_KEY in the environment, or pass --api-key-file PATH"
)


# argparse's "invalid choice: 'v' (choose from ...)" and "invalid int value: 'v'"
_QUOTED_VALUE = re.compile(r"(invalid choice|invalid [\w.]+ value): .*?( \(choose from |$)")


def _names_a_key(flag: str) -> bool:
    return flag.lower().replace("_", "-") in _KEY_OPTIONS


def usage_error(message: str) -> str:
    """argparse's `message` with every value typed left out."""
    if not message.startswith(_UNRECOGNIZED):
        return _QUOTED_VALUE.sub(lambda m: f"{m.group(1)} (not shown){m.group(2)}", message, count=1)
    words = message[len(_UNRECOGNIZED) :].split()
    flags = [word.split("=", 1)[0] for word in words if word.startswith("-")]
    hidden = len(words) - len(flags)
    text = _UNRECOGNIZED + " ".join(flags) + (f" (and {hidden} value(s), not shown)" if hidden else "")
    if any(map(_names_a_key, flags)):
        text += f"; {_KEY_ON_THE_COMMAND_LINE}"
    return text


class CommandParser(argparse.ArgumentParser):
    """argparse without abbreviations, with one-line usage errors (exit code 2) that echo no value, and
    every printed line scrubbed. Sub-commands' parsers are of the same class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]  # one signature for argparse's overloads
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # before argparse, which could take the key for a sub-command's name and quote it
        for word in sys.argv[1:] if args is None else args:
            if word == "--":
                break
            flag = word.split("=", 1)[0]
            if _names_a_key(flag):
                self.error(f"{_UNRECOGNIZED}{flag}")
        return super().parse_known_args(args, namespace)

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            write_scrubbed(file or sys.stderr, message)

    def error(self, message: str) -> NoReturn:
        write_scrubbed(sys.stderr, f"{self.prog}: error: {usage_error(message)} (see {self.prog} --help)\n")
        sys.exit(int(ExitCode.CONFIG))
