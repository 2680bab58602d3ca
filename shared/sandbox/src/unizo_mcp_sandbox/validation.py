"""Request body validation: small declarative field rules that answer 400 AP-4000001 naming the property."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
from aiohttp import web

from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.timeutil import parse_iso

Check = Callable[[Any, str], Any]  # (value, property path) -> cleaned value, or raise ApiError

COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@attrs.frozen
class Field:
    name: str
    check: Check
    required: bool = False


async def json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        raise invalid("body", "a JSON request body is required")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise invalid("body", "the request body is not valid JSON") from None


def validate(body: Any, fields: Sequence[Field], prefix: str = "") -> dict[str, Any]:
    """Check an object against `fields`; unknown properties are refused so client mapping bugs show up."""
    where = prefix or "body"
    if not isinstance(body, Mapping):
        raise invalid(where, f"{where} must be a JSON object")
    known = {field.name: field for field in fields}
    for name in body:
        if name not in known:
            raise invalid(f"{prefix}{name}", f"unknown property '{name}'")
    cleaned: dict[str, Any] = {}
    for field in fields:
        value = body.get(field.name)
        path = f"{prefix}{field.name}"
        if value is None:
            if field.required:
                raise invalid(path, f"{field.name} is required")
            continue
        cleaned[field.name] = field.check(value, path)
    return cleaned


def text(min_length: int = 1, max_length: int = 10_000) -> Check:
    def check(value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise invalid(path, f"{path} must be a string")
        if len(value.strip()) < min_length or len(value) > max_length:
            raise invalid(path, f"{path} must be {min_length} to {max_length} characters")
        return value

    return check


def one_of(*choices: str) -> Check:
    def check(value: Any, path: str) -> str:
        if value not in choices:
            raise invalid(path, f"{path} must be one of {', '.join(choices)}")
        return str(value)

    return check


def boolean() -> Check:
    def check(value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise invalid(path, f"{path} must be true or false")
        return value

    return check


def text_list(max_items: int = 100, item: Check | None = None) -> Check:
    item_check = item or text(1, 500)

    def check(value: Any, path: str) -> list[str]:
        if not isinstance(value, list) or len(value) > max_items:
            raise invalid(path, f"{path} must be a list of at most {max_items} strings")
        return [item_check(entry, f"{path}[{index}]") for index, entry in enumerate(value)]

    return check


def text_map(max_items: int = 50) -> Check:
    def check(value: Any, path: str) -> dict[str, str]:
        if not isinstance(value, Mapping) or len(value) > max_items:
            raise invalid(path, f"{path} must be an object of at most {max_items} string values")
        for key, entry in value.items():
            if not isinstance(entry, str):
                raise invalid(f"{path}.{key}", f"{path}.{key} must be a string")
        return dict(value)

    return check


def color() -> Check:
    def check(value: Any, path: str) -> str:
        if not isinstance(value, str) or not COLOR.fullmatch(value):
            raise invalid(path, f"{path} must be a color like #1d76db")
        return value

    return check


def date_or_datetime() -> Check:
    def check(value: Any, path: str) -> str:
        if isinstance(value, str):
            try:
                parse_iso(value)
            except ValueError:
                pass
            else:
                return value
        raise invalid(path, f"{path} must be a date (YYYY-MM-DD) or an ISO-8601 date-time")

    return check


def future_datetime(now: Callable[[], float]) -> Check:
    def check(value: Any, path: str) -> float:
        try:
            moment = parse_iso(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None:
            raise invalid(path, f"{path} must be an ISO-8601 date-time")
        if moment <= now():
            raise invalid(path, f"{path} must be in the future")
        return moment

    return check


def integer(low: int, high: int) -> Check:
    def check(value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(path, f"{path} must be an integer between {low} and {high}")
        return value

    return check


def object_list(fields: Sequence[Field], min_items: int, max_items: int) -> Check:
    def check(value: Any, path: str) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not min_items <= len(value) <= max_items:
            raise invalid(path, f"{path} must be a list of {min_items} to {max_items} objects")
        return [validate(entry, fields, prefix=f"{path}[{index}].") for index, entry in enumerate(value)]

    return check
