"""Safe rendering of path templates: no tool argument can steer a request to another endpoint.

A path value is normalised to NFKC first (a lookalike such as U+FF0E, the fullwidth full stop,
becomes what a normalising gateway sees), then refused (with `ToolInputError` naming the parameter)
when it is empty, `.` or contains `..`, contains `/` or `\\`, `?`, `#` or `%` (encoded input is
refused rather than decoded twice), contains control, format or line-separator characters, starts
with `-`, or is too long.
Accepted values are percent-encoded with nothing left unescaped but RFC 3986 unreserved characters.

A parameter declared `slash_ok` (branch names such as `feature/x`) may contain `/` between non-empty
segments other than `.`: the value stays one path segment, its slashes sent as `%2F`. Everything
else above still applies.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from urllib.parse import quote

from .errors import ToolInputError

__all__ = ["MAX_VALUE_LENGTH", "check_value", "placeholders", "render_path"]

MAX_VALUE_LENGTH = 256
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_FORBIDDEN_CHARS = {
    "/": "'/'",
    "\\": "'\\'",
    "?": "'?'",
    "#": "'#'",
    "%": "'%' (send the value decoded, not percent-encoded)",
}
# Cc control, Cf format (zero-width, bidi), Cs surrogates, Zl/Zp line and paragraph separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def placeholders(template: str) -> tuple[str, ...]:
    """The `{name}` placeholders of a path template, in order."""
    return tuple(_PLACEHOLDER.findall(template))


def check_value(name: str, value: object, *, what: str = "a path parameter", slash_ok: bool = False) -> str:
    """Return `value` as a string if it is safe as one path segment (or header value); else raise.

    `slash_ok`: '/' is accepted between non-empty segments that are not '.' (it is encoded as %2F).
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ToolInputError(f"Refused {name}: {what} must be a string")
    # Checked and sent in NFKC form: a gateway that normalises Unicode must never see '..' or '/' where
    # the checks saw lookalikes (fullwidth dots and solidus, the one-dot leader).
    text = unicodedata.normalize("NFKC", str(value))
    if not text or not text.strip():
        raise ToolInputError(f"Refused {name}: {what} cannot be empty")
    if len(text) > MAX_VALUE_LENGTH:
        raise ToolInputError(f"Refused {name}: {what} is limited to {MAX_VALUE_LENGTH} characters")
    if text in (".", "..") or ".." in text:
        raise ToolInputError(f"Refused {name}: {what} cannot be '.' or contain '..'")
    if slash_ok and "/" in text:
        segments = text.split("/")
        if any(not segment or segment == "." for segment in segments):
            raise ToolInputError(
                f"Refused {name}: {what} cannot start or end with '/', contain '//' or a '.' segment"
            )
    for char, shown in _FORBIDDEN_CHARS.items():
        if char == "/" and slash_ok:
            continue
        if char in text:
            raise ToolInputError(f"Refused {name}: {what} cannot contain {shown}")
    # printable ASCII (ids nearly always) holds none of those categories: only other text is walked
    for char in () if text.isascii() and text.isprintable() else text:
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
            raise ToolInputError(
                f"Refused {name}: {what} cannot contain control or invisible characters (U+{ord(char):04X})"
            )
    if text.startswith("-"):
        raise ToolInputError(f"Refused {name}: {what} cannot start with '-'")
    if text != text.strip():
        raise ToolInputError(f"Refused {name}: {what} cannot start or end with whitespace")
    return text


def render_path(
    template: str, values: Mapping[str, object], *, slash_ok: Collection[str] = frozenset()
) -> str:
    """Fill `template` ("/edr/devices/{device_id}") with checked, percent-encoded values.

    Placeholders named in `slash_ok` may hold '/' (see `check_value`); it is encoded as %2F, so each
    value still fills exactly one segment.
    """
    names = placeholders(template)
    missing = [n for n in names if values.get(n) is None]
    if missing:
        raise ToolInputError(f"Missing required path parameter {', '.join(missing)}")
    encoded = {n: quote(check_value(n, values[n], slash_ok=n in slash_ok), safe="") for n in names}
    return _PLACEHOLDER.sub(lambda m: encoded[m.group(1)], template)
