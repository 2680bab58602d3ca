"""`unizo doctor`: each installed server's `--verify-connection` (the core's `diagnostics.verify_connection`,
with the settings and key that server would use here), summed up in one table."""

from __future__ import annotations

import argparse
import io
import re
from dataclasses import dataclass, field
from typing import Any

from unizo_mcp_core.errors import ConfigError, ExitCode

from .session import Context

MARKS = {"✓": "ok", "✗": "fail", "!": "warn", "-": "skip"}
_KEY = re.compile(r"key (\S+ \(sha256:[0-9a-f]+\)) from (\S+?)[,;)]?(?:\s|$)")


class Capture(io.StringIO):
    """The checklist of one service, kept to be summed up (UTF-8, so the core writes its ✓/✗ marks)."""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


@dataclass
class Check:
    mark: str
    label: str
    detail: str

    @property
    def finding(self) -> str:
        return self.detail.split(" Remedy: ", 1)[0]

    @property
    def remedy(self) -> str:
        return self.detail.split(" Remedy: ", 1)[1] if " Remedy: " in self.detail else ""


@dataclass
class ServiceResult:
    service: str
    package: str
    command: str | None
    exit_code: int
    checks: list[Check] = field(default_factory=list)

    @property
    def key(self) -> str:
        for check in self.checks:
            if check.label == "settings":
                match = _KEY.search(check.detail)
                if match:
                    return f"{match[1]} from {match[2]}"
        return "none"

    @property
    def first_failure(self) -> Check | None:
        return next((c for c in self.checks if c.mark == "fail"), None)

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.mark == "warn"]

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "package": self.package,
            "command": self.command,
            "exitCode": self.exit_code,
            "checks": [{"result": c.mark, "check": c.label, "detail": c.detail} for c in self.checks],
        }


def parse_checklist(text: str) -> list[Check]:
    checks = []
    for line in text.splitlines():
        mark, _, rest = line.partition(" ")
        if mark not in MARKS:
            continue
        label, _, detail = rest.partition(": ")
        checks.append(Check(MARKS[mark], label, detail.strip()))
    return checks


async def doctor(ctx: Context, args: argparse.Namespace) -> int:
    from unizo_mcp_core.cli import command_path
    from unizo_mcp_core.diagnostics import verify_connection
    from unizo_mcp_core.redaction import configure_logging
    from unizo_mcp_core.registry import discover_services

    installed = discover_services()
    wanted = set(args.service or []) or set(installed)
    unknown = sorted(wanted - set(installed))
    if unknown:
        present = ", ".join(sorted(installed)) or "none"
        raise ConfigError(f"--service {', '.join(unknown)}: not installed here (installed: {present})")
    if not installed:
        raise ConfigError(
            "No Unizo service package is installed", hint="Install one: pip install unizo-mcp-<service>."
        )
    configure_logging("warning")
    results = []
    for name, spec in installed.items():
        if name not in wanted:
            continue
        capture = Capture()

        def load(service: str = name) -> tuple[Any, list[Any]]:
            return ctx.service_settings(service), [installed[service]]

        code = await verify_connection(
            load, out=capture, package=spec.package, version=spec.version, environ=dict(ctx.environ)
        )
        results.append(
            ServiceResult(
                name, spec.package, command_path(spec.package), code, parse_checklist(capture.getvalue())
            )
        )
        if args.verbose and not ctx.console.json_mode:
            ctx.console.out(f"{spec.package}:")
            ctx.console.out("\n".join(f"  {line}" for line in capture.getvalue().splitlines()))
            ctx.console.out()
    worst = next((r.exit_code for r in results if r.exit_code), int(ExitCode.OK))
    console = ctx.console
    if console.json_mode:
        console.json({"services": [r.as_json() for r in results], "exitCode": worst})
        return worst
    rows = []
    for result in results:
        failure = result.first_failure
        if failure is not None:
            outcome, detail = f"FAILED (exit {result.exit_code})", f"{failure.label}: {failure.finding}"
        elif result.warnings:
            outcome = "ok, warnings"
            detail = "; ".join(f"{w.label}: {w.finding}" for w in result.warnings)
        else:
            outcome, detail = "ok", f"{sum(c.mark == 'ok' for c in result.checks)} checks passed"
        rows.append((result.service, result.command or "not found", result.key, outcome, detail))
    console.table(("service", "command", "key", "result", "detail"), rows)
    remedies = [
        (r.service, r.first_failure.remedy) for r in results if r.first_failure and r.first_failure.remedy
    ]
    if remedies:
        console.out()
        console.out("\n".join(f"{service}: {remedy}" for service, remedy in remedies))
    if worst and not args.verbose:
        console.note("note: unizo doctor --verbose shows every check and its remedy.")
    return worst
