"""Everything `unizo` prints: results on stdout (a table, or JSON with `--json`), notes and errors on stderr.

Every line goes through the core's redaction (`unizo_mcp_core.redaction.scrub`) on its way out: known keys,
`apikey`/`Authorization` values and URL credentials never reach a terminal or a log. A key the user asked to
see once (`api-keys create` without `--output-file`) is not yet known to the redaction, so it passes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from unizo_mcp_core.redaction import scrub, write_scrubbed

SPARKS = "▁▂▃▄▅▆▇█"
ASCII_SPARKS = "_.-=+*#@"


def can_encode(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return " ".join(str(value).split())


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "", 1).replace("%", "").lstrip("-").isdigit()


def render_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Columns separated by two spaces; numbers right-aligned; empty values shown as '-'."""
    body = [[cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    right = [
        bool(body) and all(_numeric(row[i]) or row[i] == "-" for row in body) for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(list(headers)), line(["-" * w for w in widths]), *(line(row) for row in body)])


def render_fields(pairs: Iterable[tuple[str, Any]]) -> str:
    """A record as `label  value` lines."""
    items = [(label, cell(value)) for label, value in pairs]
    width = max((len(label) for label, _ in items), default=0)
    return "\n".join(f"{label.ljust(width)}  {value}".rstrip() for label, value in items)


def sparkline(values: Sequence[int], *, ascii_only: bool = False) -> str:
    marks = ASCII_SPARKS if ascii_only else SPARKS
    top = max(values, default=0)
    if top <= 0:
        return marks[0] * len(values)
    return "".join(marks[0] if v <= 0 else marks[max(1, round(v / top * (len(marks) - 1)))] for v in values)


class Console:
    """Where the CLI writes. Results go to stdout; `note` and `error` to stderr; each line is scrubbed."""

    def __init__(self, stdout: TextIO, stderr: TextIO, stdin: TextIO, *, json_mode: bool = False) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin
        self.json_mode = json_mode

    def _write(self, stream: TextIO, text: str) -> None:
        write_scrubbed(stream, "".join(f"{line}\n" for line in text.split("\n")))

    def out(self, text: str = "") -> None:
        self._write(self.stdout, text)

    def note(self, text: str) -> None:
        self._write(self.stderr, text)

    def json(self, value: Any) -> None:
        self.out(json.dumps(value, indent=2, ensure_ascii=False, default=str))

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        self.out(render_table(headers, rows))

    def fields(self, pairs: Iterable[tuple[str, Any]]) -> None:
        self.out(render_fields(pairs))

    @property
    def fancy(self) -> bool:
        """Whether stdout takes the non-ASCII marks (sparklines, ✓)."""
        return can_encode(self.stdout, SPARKS + "✓✗…")

    def confirm(self, question: str) -> bool:
        """Ask on stderr, read the answer from stdin; only `y`/`yes` agree."""
        self.stderr.write(scrub(question) + " [y/N] ")
        self.stderr.flush()
        answer = self.stdin.readline()
        return answer.strip().lower() in ("y", "yes")

    @property
    def interactive(self) -> bool:
        isatty = getattr(self.stdin, "isatty", None)
        return bool(isatty and isatty())


def error_json(exc: Any, exit_code: int) -> dict[str, Any]:
    """The `--json` form of a failure (printed on stdout, the message also on stderr)."""
    error: dict[str, Any] = {"message": getattr(exc, "message", str(exc)), "exitCode": exit_code}
    for name, field in (("hint", "hint"), ("status", "status"), ("error_code", "errorCode")):
        value = getattr(exc, name, None)
        if value:
            error[field] = value
    correlation = getattr(exc, "correlation_id", None)
    if correlation:
        error["correlationId"] = correlation
    return {"error": error}


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def percent(part: float, whole: float) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "0.0%"


def compact_permissions(permissions: Mapping[str, Any] | None) -> str:
    """{"a": ["read", "write"], "b": ["read"]} -> "a:read,write b:read"."""
    if not permissions:
        return "none"
    return " ".join(f"{scope}:{','.join(actions)}" for scope, actions in sorted(permissions.items()))
