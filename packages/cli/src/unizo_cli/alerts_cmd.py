"""`unizo alerts create | list | describe | delete`."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from unizo_mcp_core.errors import ConfigError, ExitCode

from . import api
from .conditions import parse_condition
from .keys_cmd import confirmed
from .session import Context


def parse_notify(values: list[str]) -> list[str]:
    """`--notify webhook:URL` (repeatable) -> the URLs."""
    urls = []
    for value in values:
        kind, separator, target = value.partition(":")
        if not separator or kind.strip().lower() != "webhook":
            raise ConfigError(
                f"--notify {value!r}: expected webhook:URL, e.g. --notify "
                "webhook:https://hooks.example.com/unizo (webhooks are the only channel)"
            )
        url = target.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"--notify {value!r}: the webhook URL must be an http(s) URL with a host")
        if parts.username or parts.password:
            raise ConfigError("--notify: the webhook URL must not carry credentials (use the signing secret)")
        urls.append(url)
    return urls


def read_secret(raw: str | None) -> str | None:
    if raw is None:
        return None
    path = Path(raw).expanduser()
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"--webhook-secret-file {path}: cannot read it ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    if len(secret) < 8:
        raise ConfigError(f"--webhook-secret-file {path}: the secret must be at least 8 characters")
    from unizo_mcp_core.keys import remember_secret

    remember_secret(secret)
    return secret


def _targets(alert: Mapping[str, Any]) -> str:
    return ", ".join(str(t.get("url")) for t in alert.get("notify") or []) or "-"


def alert_fields(alert: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("id", alert.get("id")),
        ("name", alert.get("name")),
        ("condition", alert.get("expression")),
        ("key", alert.get("keyId") or "every key of the organization"),
        ("notify", _targets(alert)),
        ("state", alert.get("state")),
        ("last value", alert.get("lastValue")),
        ("last evaluated", alert.get("lastEvaluatedAt")),
        ("last fired", alert.get("lastFiredAt") or "never"),
        ("fired", alert.get("firedCount")),
        ("created", alert.get("createdAt")),
    ]


async def create(ctx: Context, args: argparse.Namespace) -> int:
    condition = parse_condition(args.condition)
    if args.key_id:
        api.segment(args.key_id, "--key-id")
    urls = parse_notify(args.notify or [])
    secret = read_secret(args.webhook_secret_file)
    if secret and not urls:
        raise ConfigError("--webhook-secret-file signs webhooks: add --notify webhook:URL")
    settings = ctx.settings()
    ctx.configure_logging(settings)
    body = api.alert_body(
        condition.body(), name=args.name, key_id=args.key_id, webhooks=[(url, secret) for url in urls]
    )
    async with ctx.client(settings) as client:
        alert = await api.create_alert(client, body)
    console = ctx.console
    if console.json_mode:
        console.json(alert)
    else:
        console.fields(alert_fields(alert))
    generated = [t for t in alert.get("notify") or [] if t.get("secret")]
    for target in generated if not console.json_mode else []:
        console.out(f"webhook secret for {target.get('url')}: {target['secret']}")
    if generated:
        console.note(
            "note: each generated webhook signing secret is shown this once; your receiver checks "
            "x-unizo-signature with it (unizo_mcp_core.webhooks.verify_webhook)."
        )
    return int(ExitCode.OK)


async def list_alerts(ctx: Context, args: argparse.Namespace) -> int:
    settings = ctx.settings()
    ctx.configure_logging(settings)
    async with ctx.client(settings) as client:
        alerts = await api.list_alerts(client)
    if ctx.console.json_mode:
        ctx.console.json(alerts)
        return int(ExitCode.OK)
    rows = [
        (
            a.get("id"),
            a.get("name"),
            a.get("expression"),
            a.get("keyId") or "all keys",
            a.get("state"),
            a.get("lastValue"),
            a.get("firedCount"),
            _targets(a),
        )
        for a in alerts
    ]
    ctx.console.table(("id", "name", "condition", "key", "state", "value", "fired", "notify"), rows)
    return int(ExitCode.OK)


async def describe(ctx: Context, args: argparse.Namespace) -> int:
    api.segment(args.alert_id, "--alert-id")
    settings = ctx.settings()
    ctx.configure_logging(settings)
    async with ctx.client(settings) as client:
        alert = await api.get_alert(client, args.alert_id)
    if ctx.console.json_mode:
        ctx.console.json(alert)
    else:
        ctx.console.fields(alert_fields(alert))
    return int(ExitCode.OK)


async def delete(ctx: Context, args: argparse.Namespace) -> int:
    api.segment(args.alert_id, "--alert-id")
    settings = ctx.settings()
    ctx.configure_logging(settings)
    async with ctx.client(settings) as client:
        alert = await api.get_alert(client, args.alert_id)
        confirmed(ctx, f"Delete alert {alert['id']} ({alert.get('expression')})?", args.yes)
        await api.delete_alert(client, args.alert_id)
    if ctx.console.json_mode:
        ctx.console.json({"deleted": alert["id"]})
    else:
        ctx.console.fields([("deleted", f"{alert['id']} ({alert.get('name')})")])
    return int(ExitCode.OK)
