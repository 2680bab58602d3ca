"""Multipart attachment uploads: a `file` part plus `fileName`, `mimeType`, `description`, `fileSize`."""

from __future__ import annotations

import re

import attrs
from aiohttp import BodyPartReader, web

from unizo_mcp_sandbox.errors import invalid
from unizo_mcp_sandbox.sandbox import Sandbox

MIME_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*")
TEXT_PARTS = ("fileName", "mimeType", "description", "fileSize")


@attrs.frozen
class Upload:
    file_name: str
    mime_type: str
    description: str
    content: bytes


def _check_file_name(name: str) -> str:
    # Stored only as metadata (the bytes are kept under the attachment id), but keep it printable and short.
    if not 1 <= len(name) <= 255 or any(ord(char) < 32 for char in name):
        raise invalid("fileName", "fileName must be 1 to 255 printable characters")
    return name


async def read_upload(request: web.Request) -> Upload:
    if not request.content_type.startswith("multipart/"):
        raise invalid("file", "send multipart/form-data with a 'file' part")
    reader = await request.multipart()
    fields: dict[str, str] = {}
    content: bytes | None = None
    part_name: str | None = None
    part_type: str | None = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise invalid("file", "nested multipart bodies are not supported")
        if part.name == "file":
            content = bytes(await part.read(decode=False))
            part_name, part_type = part.filename, part.headers.get("Content-Type")
        elif part.name in TEXT_PARTS:
            try:
                fields[part.name] = (await part.read(decode=False)).decode("utf-8").strip()
            except UnicodeDecodeError:
                raise invalid(part.name, f"{part.name} must be UTF-8 text") from None
        else:
            raise invalid(part.name or "body", f"unknown multipart field '{part.name}'")
    if content is None:
        raise invalid("file", "the 'file' part is required")
    file_name = _check_file_name(fields.get("fileName") or part_name or "")
    mime_type = fields.get("mimeType") or part_type or "application/octet-stream"
    if not MIME_TYPE.fullmatch(mime_type):
        raise invalid("mimeType", "mimeType must look like type/subtype")
    if "fileSize" in fields and fields["fileSize"] != str(len(content)):
        raise invalid("fileSize", f"fileSize says {fields['fileSize']} but the file has {len(content)} bytes")
    return Upload(file_name, mime_type, fields.get("description", ""), content)


def store(sandbox: Sandbox, attachment_id: str, content: bytes) -> None:
    sandbox.state_dir.prepare()
    (sandbox.state_dir.attachments / attachment_id).write_bytes(content)
