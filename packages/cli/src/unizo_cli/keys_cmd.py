"""`unizo api-keys create | list | describe | revoke`."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unizo_mcp_core.errors import ConfigError, ExitCode, UnizoError

from . import api, files
from .output import compact_permissions
from .parsing import parse_expiry, parse_networks, parse_permissions
from .session import Context

if TYPE_CHECKING:
    from unizo_mcp_core.client import UnizoClient


def when(value: Any, now: datetime | None = None) -> str:
    """An API time with how far it is: "2027-01-31T00:00:00Z (in 62 days)"."""
    moment = api.parse_time(value)
    if moment is None:
        return "never" if value is None else str(value)
    days = (moment - (now or datetime.now(UTC))).total_seconds() / 86_400
    text = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if days >= 1:
        return f"{text} (in {int(days)} days)"
    if days >= 0:
        return f"{text} (in {int(days * 24)} hours)"
    return f"{text} ({int(-days)} days ago)"


def key_fields(key: Mapping[str, Any]) -> list[tuple[str, Any]]:
    organization = key.get("organization") or {}
    return [
        ("id", key.get("id")),
        ("name", key.get("name")),
        ("prefix", key.get("prefix")),
        ("environment", key.get("environment")),
        ("permissions", compact_permissions(key.get("permissions"))),
        ("organization", organization.get("name") or organization.get("id")),
        ("status", api.key_status(key)),
        ("created", key.get("createdAt")),
        ("expires", when(key.get("expiresAt"))),
        ("revoked at", key.get("revokedAt")),
        ("ip allowlist", ", ".join(key.get("ipAllowlist") or []) or "any address"),
        ("last used", key.get("lastUsedAt") or "never"),
    ]


def output_path(raw: str) -> Path:
    path = Path(raw).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def check_writable(path: Path, *, force: bool, flag: str) -> None:
    """Refuse before anything is created: an existing file without --force, a missing or unusable folder."""
    if path.is_dir():
        raise ConfigError(f"{flag} {path} is a directory; name a file")
    if path.exists() and not force:
        raise ConfigError(f"{flag} {path} exists: refusing to overwrite it (pass --force to replace it)")
    folder = files.target_of(path).parent
    if not folder.is_dir():
        raise ConfigError(f"{flag} {path}: the folder {folder} does not exist")


async def revoke_unused(client: UnizoClient, key_id: str) -> str:
    """Revoke a key whose secret went nowhere; the sentence that says what became of it."""
    try:
        await api.revoke_key(client, key_id)
    except UnizoError as exc:
        return (
            f"the new key {key_id} could NOT be revoked ({exc.message.rstrip('.')}): nobody holds its "
            f"secret, revoke it with: unizo api-keys revoke --key-id {key_id} --yes"
        )
    return f"the new key {key_id} was revoked again (its secret was never stored)"


async def create(ctx: Context, args: argparse.Namespace) -> int:
    name = args.name.strip()
    if not name:
        raise ConfigError("--name is empty: name the key after its use, e.g. --name MCP-$(date +%Y%m%d)")
    permissions = parse_permissions(args.permissions)
    expires = parse_expiry(args.expires) if args.expires else None
    networks = parse_networks(args.ip_allow or [])
    output = output_path(args.output_file) if args.output_file else None
    if output is not None:
        check_writable(output, force=args.force, flag="--output-file")
    settings = ctx.settings()
    ctx.configure_logging(settings)
    body = api.key_body(
        name, permissions, environment=args.key_environment, expires_at=expires, ip_allowlist=networks
    )
    async with ctx.client(settings) as client:
        created = await api.create_key(client, body)
        secret = str(created.pop("key"))
        if output is not None:
            from unizo_mcp_core.keys import remember_secret

            remember_secret(secret)  # it is never printed from here on
            try:
                files.write_private(output, (secret + "\n").encode(), replace=args.force)
            except OSError as exc:
                what = await revoke_unused(client, str(created["id"]))
                raise ConfigError(
                    f"The key was created but {output} could not be written ({exc.strerror or exc}); {what}"
                ) from None
    console = ctx.console
    if console.json_mode:
        console.json({**created, **({"keyFile": str(output)} if output else {"key": secret})})
    else:
        shown = key_fields(created)
        shown.append(("key file", f"{output} (mode 600)") if output else ("key", secret))
        console.fields(shown)
    if output is None:
        console.note(
            "note: the key is shown this once: store it now (a secret manager, or a file of mode 600 that a "
            "server reads through UNIZO_API_KEY_FILE; --output-file writes one)."
        )
    else:
        console.note(f"note: point the server at the key with UNIZO_API_KEY_FILE={output}")
    return int(ExitCode.OK)


async def list_keys(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings()
    ctx.configure_logging(settings)
    async with ctx.client(settings) as client:
        keys = await api.list_keys(client)
    if ctx.console.json_mode:
        ctx.console.json(keys)
        return int(ExitCode.OK)
    rows = [
        (
            key.get("id"),
            key.get("name"),
            key.get("environment"),
            api.key_status(key),
            compact_permissions(key.get("permissions")),
            (key.get("expiresAt") or "never"),
            key.get("lastUsedAt") or "never",
        )
        for key in keys
    ]
    ctx.console.table(("id", "name", "environment", "status", "permissions", "expires", "last used"), rows)
    return int(ExitCode.OK)


async def describe(ctx: Context, args: argparse.Namespace) -> int:
    api.segment(args.key_id, "--key-id")
    settings = ctx.settings()
    ctx.configure_logging(settings)
    async with ctx.client(settings) as client:
        key = await api.get_key(client, args.key_id)
    if ctx.console.json_mode:
        ctx.console.json(key)
    else:
        ctx.console.fields(key_fields(key))
    return int(ExitCode.OK)


def confirmed(ctx: Context, question: str, assume_yes: bool) -> None:
    """Raise ConfigError unless --yes, or the user agrees on a terminal."""
    if assume_yes:
        return
    if not ctx.console.interactive:
        raise ConfigError(
            f"{question.rstrip('?')}: this needs confirmation; pass --yes (stdin is not a terminal)"
        )
    if not ctx.console.confirm(question):
        raise ConfigError("Not confirmed: nothing was changed")


async def revoke(ctx: Context, args: argparse.Namespace) -> int:
    api.segment(args.key_id, "--key-id")
    settings = ctx.settings()
    ctx.configure_logging(settings)
    async with ctx.client(settings) as client:
        key = await api.get_key(client, args.key_id)
        if key.get("revoked"):
            ctx.console.note(
                f"note: key {key['id']} ({key.get('name')}) was already revoked at {key.get('revokedAt')}"
            )
        else:
            confirmed(
                ctx,
                f"Revoke key {key['id']} ({key.get('name')}, {compact_permissions(key.get('permissions'))})? "
                "Everything using it stops working",
                args.yes,
            )
            key = await api.revoke_key(client, args.key_id)
    if ctx.console.json_mode:
        ctx.console.json(key)
    else:
        ctx.console.fields(
            [("revoked", f"{key.get('id')} ({key.get('name')})"), ("at", key.get("revokedAt"))]
        )
    return int(ExitCode.OK)
