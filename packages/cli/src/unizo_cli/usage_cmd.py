"""`unizo logs api-usage --key-id ID --since 24h|7d [--by service|status|hour]`."""

from __future__ import annotations

import argparse
from typing import Any

from unizo_mcp_core.errors import ExitCode

from . import api
from .output import percent, sparkline
from .parsing import parse_duration
from .session import Context

BY = ("status", "service", "hour")


def since_parameter(seconds: float) -> str:
    """The API's `since`: the shortest exact duration, such as `7d`, `24h`, `90m`."""
    whole = int(seconds)
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def _hour(text: Any) -> str:
    """ "2026-11-30T13:00:00Z" -> "2026-11-30 13:00"."""
    return str(text).replace("T", " ")[:16]


async def api_usage(ctx: Context, args: argparse.Namespace) -> int:
    api.segment(args.key_id, "--key-id")
    seconds = parse_duration(args.since, what="--since", maximum=api.MAX_SINCE)
    if seconds < 60:
        seconds = 60.0
    settings = ctx.settings()
    ctx.configure_logging(settings)
    async with ctx.client(settings) as client:
        usage = await api.key_usage(client, args.key_id, since_parameter(seconds))
    console = ctx.console
    if console.json_mode:
        console.json(usage)
        return int(ExitCode.OK)
    requests, errors = int(usage.get("requests") or 0), int(usage.get("errors") or 0)
    hours: list[dict[str, Any]] = list(usage.get("byHour") or [])
    console.out(
        f"key {usage.get('keyId', args.key_id)}, last {args.since.strip()} "
        f"({usage.get('since')} to {usage.get('until')}, UTC)"
    )
    console.out(f"requests  {requests:,}")
    console.out(f"errors    {errors:,} ({percent(errors, requests)})")
    if args.by == "hour":
        console.out()
        top = max((int(h.get("requests") or 0) for h in hours), default=0)
        bars = [int(h.get("requests") or 0) for h in hours]
        width = 30
        mark = "█" if console.fancy else "#"
        console.table(
            ("hour (UTC)", "requests", "errors", ""),
            [
                (
                    _hour(h.get("hour")),
                    int(h.get("requests") or 0),
                    int(h.get("errors") or 0),
                    mark * round(b / top * width) if top else "",
                )
                for h, b in zip(hours, bars, strict=True)
            ],
        )
        return int(ExitCode.OK)
    counts = [int(h.get("requests") or 0) for h in hours]
    if hours:
        peak = max(counts)
        console.out(
            f"per hour  {sparkline(counts, ascii_only=not console.fancy)}  "
            f"(from {_hour(hours[0].get('hour'))}, peak {peak:,}/h)"
        )
    console.out()
    if args.by == "service":
        services = usage.get("byService") or {}
        rows = [
            (
                name,
                int(v.get("requests") or 0),
                int(v.get("errors") or 0),
                percent(v.get("errors") or 0, v.get("requests") or 0),
            )
            for name, v in sorted(services.items(), key=lambda item: -int(item[1].get("requests") or 0))
        ]
        console.table(("service", "requests", "errors", "error rate"), rows)
    else:
        statuses = usage.get("byStatus") or {}
        rows2 = [
            (status, int(count), percent(int(count), requests)) for status, count in sorted(statuses.items())
        ]
        console.table(("status", "requests", "share"), rows2)
    return int(ExitCode.OK)
