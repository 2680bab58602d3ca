"""`unizo api-keys rotate --key-id OLD --key-file PATH [--grace 10m]`: replace a key under running servers.

1. describe the old key (name, permissions, environment, IP allowlist, lifetime);
2. read the key file, and check with the API that it holds the old key (or no usable key);
3. create the successor: the old key's name dated today, its permissions, environment and allowlist, the same
   lifetime (or `--expires`);
4. write it to the key file atomically, mode 600: servers reading it through UNIZO_API_KEY_FILE use it from
   their next request on, without a restart;
5. verify the new key against the API, read from the key file itself;
6. wait the grace period (requests in flight with the old key finish), then revoke the old key.

Until step 6 the old key is never revoked. If step 4 or 5 fails, the key file is put back as it was and the
successor (whose secret was stored nowhere else) is revoked; whatever happens, the command ends by saying what
state each key and the file are in, and what to run next.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unizo_mcp_core.errors import (
    INTERRUPTED,
    AuthenticationError,
    ConfigError,
    ExitCode,
    InvalidResponseError,
    NetworkError,
    UnizoError,
)

from . import api, files
from .keys_cmd import output_path
from .output import compact_permissions, error_json
from .parsing import format_duration, parse_duration, parse_expiry
from .session import Context

if TYPE_CHECKING:
    from unizo_mcp_core.client import UnizoClient

STEPS = (
    "describe the old key",
    "read the key file",
    "create the successor",
    "write the key file",
    "verify the new key",
    "revoke the old key",
)
MAX_GRACE = 86_400.0
_DATED = re.compile(r"(.*[-_ ])[0-9]{8}")
NAME_LIMIT = 100


def dated_name(name: str, today: datetime) -> str:
    """`MCP-20260101` -> `MCP-<today>`; a name without a date gets `-<today>` appended."""
    stamp = today.strftime("%Y%m%d")
    match = _DATED.fullmatch(name)
    base = match[1] if match else f"{name}-"
    return base[: NAME_LIMIT - len(stamp)] + stamp


def successor_expiry(old: dict[str, Any], now: datetime) -> datetime | None:
    """The old key's lifetime, from now; None when it never expired."""
    created, expires = api.parse_time(old.get("createdAt")), api.parse_time(old.get("expiresAt"))
    if created is None or expires is None or expires <= created:
        return None
    return now + (expires - created)


@dataclass
class State:
    """What is true now, for the final report."""

    key_file: Path
    old_id: str
    old_name: str = ""
    old: str = "active"  # active | revoked
    new_id: str | None = None
    new_name: str = ""
    new: str = "none"  # none | maybe | active | revoked | orphaned
    file: str = "unchanged"  # unchanged | new | restored | removed | stuck
    file_existed: bool = True
    detail: str = ""

    def lines(self) -> list[str]:
        old = f"old key {self.old_id}{f' ({self.old_name})' if self.old_name else ''}"
        lines = [f"{old}: " + ("revoked" if self.old == "revoked" else "still active (not revoked)")]
        new = f"new key {self.new_id} ({self.new_name})"
        lines.append(
            {
                "none": "new key: none was created",
                "maybe": (
                    f"new key: the answer to the create was lost, so one named {self.new_name!r} may exist "
                    "unused: look for it with unizo api-keys list and revoke it"
                ),
                "active": f"{new}: active, in the key file",
                "revoked": f"{new}: revoked again (its secret was stored nowhere)",
                "orphaned": f"{new}: could NOT be revoked ({self.detail}); nobody holds it: "
                f"unizo api-keys revoke --key-id {self.new_id} --yes",
            }[self.new]
        )
        lines.append(
            f"key file {self.key_file}: "
            + {
                "unchanged": "unchanged" + ("" if self.file_existed else " (still absent)"),
                "new": "holds the new key (mode 600)",
                "restored": "restored: the old key, as before",
                "removed": "removed again (it did not exist before)",
                "stuck": f"holds the new key: it could NOT be restored ({self.detail})",
            }[self.file]
        )
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "oldKey": {"id": self.old_id, "name": self.old_name, "state": self.old},
            "newKey": {"id": self.new_id, "name": self.new_name, "state": self.new},
            "keyFile": {"path": str(self.key_file), "state": self.file},
        }


class Rotation:
    def __init__(
        self,
        ctx: Context,
        client: UnizoClient,
        args: argparse.Namespace,
        key_file: Path,
        grace: float,
        expires: datetime | None,
    ) -> None:
        self.ctx = ctx
        self.client = client
        self.args = args
        self.key_file = key_file
        self.grace = grace
        self.expires = expires
        self.state = State(key_file=key_file, old_id=args.key_id)

    def progress(self, step: int, text: str) -> None:
        self.ctx.console.note(f"rotate [{step}/{len(STEPS)}] {text}")

    # --- the steps ------------------------------------------------------------------------------------------

    async def run(self) -> int:
        state = self.state
        try:
            old = await api.get_key(self.client, state.old_id)
        except UnizoError as exc:
            return self.failed(1, exc)
        state.old_name = str(old.get("name") or "")
        if old.get("revoked"):
            return self.failed(
                1,
                ConfigError(
                    f"Key {state.old_id} is revoked already: nothing to rotate (create a key instead)"
                ),
            )
        allowlist = ", ".join(old.get("ipAllowlist") or []) or "any address"
        self.progress(
            1,
            f"old key {state.old_id} ({state.old_name}): {old.get('environment')}, "
            f"{compact_permissions(old.get('permissions'))}, from {allowlist}",
        )

        try:
            before = files.snapshot(self.key_file)
        except OSError as exc:
            return self.failed(
                2, ConfigError(f"Cannot read the key file {self.key_file}: {exc.strerror or exc}")
            )
        except ConfigError as exc:
            return self.failed(2, exc)
        state.file_existed = before.exists
        refusal = await self.check_holder(before, str(old.get("environment") or ""))
        if refusal is not None:
            return self.failed(2, refusal)

        now = datetime.now(UTC)
        state.new_name = dated_name(state.old_name or state.old_id, now)
        body = api.key_body(
            state.new_name,
            old.get("permissions") or {},
            environment=old.get("environment"),
            expires_at=self.expires or successor_expiry(old, now),
            ip_allowlist=old.get("ipAllowlist") or [],
        )
        try:
            new = await api.create_key(self.client, body)
        except UnizoError as exc:
            lost = (
                exc.status is None
                or exc.status >= 500
                or isinstance(exc, InvalidResponseError | NetworkError)
            )
            state.new = "maybe" if lost else "none"
            return self.failed(3, exc)
        from unizo_mcp_core.keys import fingerprint, remember_secret

        secret = str(new.pop("key"))
        remember_secret(secret)  # never printed: only its fingerprint
        state.new_id, state.new_name, state.new = (
            str(new["id"]),
            str(new.get("name") or state.new_name),
            "active",
        )
        expiry = new.get("expiresAt") or "never"
        self.progress(3, f"created the successor {state.new_id} ({state.new_name}), expires {expiry}")

        data = (secret + "\n").encode()
        try:
            files.write_private(self.key_file, data)
            state.file = "new"
            files.ensure_new_stamp(self.key_file, before.stamp)
        except OSError as exc:
            await self.undo(before, data)
            return self.failed(
                4, ConfigError(f"Cannot write the key file {self.key_file}: {exc.strerror or exc}")
            )
        self.progress(4, f"wrote key {fingerprint(secret)} to {self.key_file} (mode 600)")

        try:
            info = await self.verify(str(new.get("environment") or ""))
            if info.key_id and info.key_id != state.new_id:
                raise InvalidResponseError(
                    f"The API says the key in {self.key_file} is {info.key_id}, not the new {state.new_id}"
                )
        except UnizoError as exc:
            await self.undo(before, data)
            return self.failed(5, exc)
        self.progress(5, f"verified: the API accepts the key in {self.key_file} as {state.new_id}")

        if self.grace:
            self.progress(
                6,
                f"waiting {format_duration(self.grace)} before revoking {state.old_id}: servers reading "
                f"{self.key_file} switch on their next request; requests in flight finish",
            )
            try:
                await asyncio.sleep(self.grace)
            except asyncio.CancelledError:
                self.report_failure(6, None, interrupted=True)
                raise
        try:
            await api.revoke_key(self.client, state.old_id)
        except UnizoError as exc:
            if not await self.revoked_anyway():
                return self.failed(6, exc)
        state.old = "revoked"
        self.progress(6, f"revoked the old key {state.old_id}")
        return self.succeeded(new)

    async def check_holder(self, before: files.Snapshot, environment: str) -> ConfigError | None:
        """Which key the file holds now: refuse when it is another live key than the one rotated."""
        if not before.exists:
            self.progress(2, f"{self.key_file} does not exist yet: it will be created (mode 600)")
            return None
        # the key format's id when the API cannot tell (ours: a key of another format has none)
        held = api.key_id_of((before.data or b"").decode("utf-8", "replace"))
        try:
            info = await self.verify(environment)
        except AuthenticationError as exc:
            self.progress(
                2, f"the key in {self.key_file} is refused by the API ({exc.message.rstrip('.')}): replaced"
            )
            return None
        except UnizoError as exc:
            if held is not None and held != self.state.old_id:
                return self._other_key(held)
            self.progress(
                2, f"could not tell which key {self.key_file} holds ({exc.message.rstrip('.')}): going on"
            )
            return None
        held = info.key_id or held
        if held and held != self.state.old_id:
            return self._other_key(held)
        self.progress(2, f"{self.key_file} holds {held or 'a valid key'}; kept aside to restore on failure")
        return None

    def _other_key(self, held: str) -> ConfigError:
        return ConfigError(
            f"The key file {self.key_file} holds key {held}, not {self.state.old_id}: rotate {held}, or name "
            f"the key file of {self.state.old_id} with --key-file"
        )

    async def verify(self, environment: str) -> Any:
        """The API's description of the key in the key file, read as a server reads it."""
        settings = self.ctx.key_file_settings(self.key_file, environment or None)
        async with self.ctx.client(settings) as probe:
            return await probe.verify_key()

    async def undo(self, before: files.Snapshot, data: bytes) -> None:
        """Put the key file back; then revoke the successor, unless the file still holds it."""
        state = self.state
        if state.file == "new" or files.holds(self.key_file, data):
            try:
                files.restore(before)
            except OSError as exc:
                state.file, state.detail = "stuck", exc.strerror or str(exc)
                return  # servers may use the new key: it stays
            state.file = "restored" if before.exists else "removed"
        assert state.new_id is not None
        try:
            await api.revoke_key(self.client, state.new_id)
        except UnizoError as exc:
            state.new, state.detail = "orphaned", exc.message.rstrip(".")
            return
        state.new = "revoked"

    async def revoked_anyway(self) -> bool:
        """After a failed revoke: did it happen anyway (an answer lost on the way back)?"""
        try:
            old = await api.get_key(self.client, self.state.old_id)
        except UnizoError:
            return False
        return bool(old.get("revoked"))

    # --- the report -----------------------------------------------------------------------------------------

    def next_step(self, step: int, *, interrupted: bool = False) -> str:
        state = self.state
        if step == 6 or interrupted:
            return (
                f"the new key is in place and works; finish the rotation with: "
                f"unizo api-keys revoke --key-id {state.old_id} --yes"
            )
        if state.file == "stuck":
            return (
                f"put the old key back into {self.key_file} (or keep the new one and revoke {state.old_id})"
            )
        return "nothing else to undo: fix the cause above and run the same command again"

    def report_failure(self, step: int, exc: UnizoError | None, *, interrupted: bool = False) -> None:
        console = self.ctx.console
        what = "interrupted" if interrupted else "failed"
        reason = "" if exc is None else ": " + " ".join(exc.describe().split())
        console.note(f"unizo: rotation {what} at step {step} of {len(STEPS)} ({STEPS[step - 1]}){reason}")
        console.note("state:\n" + "\n".join(f"  {line}" for line in self.state.lines()))
        console.note(f"next: {self.next_step(step, interrupted=interrupted)}")
        if console.json_mode:
            code = int(exc.exit_code) if exc is not None else INTERRUPTED
            body = {"status": "interrupted" if interrupted else "failed", "step": STEPS[step - 1]}
            console.json({**body, **self.state.as_json(), **(error_json(exc, code) if exc else {})})

    def failed(self, step: int, exc: UnizoError) -> int:
        self.report_failure(step, exc)
        return int(exc.exit_code)

    def succeeded(self, new: dict[str, Any]) -> int:
        console, state = self.ctx.console, self.state
        if console.json_mode:
            console.json({"status": "rotated", **state.as_json(), "expiresAt": new.get("expiresAt")})
        else:
            console.fields(
                [
                    ("rotated", f"{state.old_id} ({state.old_name}) -> {state.new_id} ({state.new_name})"),
                    ("old key", "revoked"),
                    ("new key", f"active, expires {new.get('expiresAt') or 'never'}"),
                    ("key file", f"{self.key_file} (mode 600)"),
                ]
            )
        return int(ExitCode.OK)


async def rotate(ctx: Context, args: argparse.Namespace) -> int:
    api.segment(args.key_id, "--key-id")
    key_file = output_path(args.key_file)
    grace = parse_duration(args.grace, what="--grace", allow_zero=True, maximum=MAX_GRACE)
    expires = parse_expiry(args.expires) if args.expires else None
    if key_file.is_dir():
        raise ConfigError(f"--key-file {key_file} is a directory; name the key file the servers read")
    folder = files.target_of(key_file).parent
    if not folder.is_dir():
        raise ConfigError(f"--key-file {key_file}: the folder {folder} does not exist")
    settings = ctx.settings()
    ctx.configure_logging(settings)
    with files.locked(folder):
        async with ctx.client(settings) as client:
            return await Rotation(ctx, client, args, key_file, grace, expires).run()
