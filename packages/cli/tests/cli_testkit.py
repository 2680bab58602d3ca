"""What the `unizo` tests share besides fixtures (conftest.py): a command's result, a fake terminal."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    @property
    def text(self) -> str:
        return self.out + self.err


class Terminal(io.StringIO):
    """A stdin that says it is a terminal, holding the user's answers."""

    def isatty(self) -> bool:
        return True
