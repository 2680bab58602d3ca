"""The sandbox's state in one place: data, keys, limits, faults, webhooks, request log, persistence."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from typing import Any

import attrs

from unizo_mcp_sandbox import __version__
from unizo_mcp_sandbox.alerts import Alert, AlertStore, metric_value
from unizo_mcp_sandbox.clock import Clock
from unizo_mcp_sandbox.config import LimitSettings, SandboxConfig
from unizo_mcp_sandbox.data import Dataset, generate_dataset
from unizo_mcp_sandbox.data.common import Record
from unizo_mcp_sandbox.faults import FaultInjector
from unizo_mcp_sandbox.keys import (
    ApiKey,
    KeyStore,
    SeededKey,
    reconcile,
    seeded_admin_token,
    seeded_keys,
)
from unizo_mcp_sandbox.limits import RateLimiter
from unizo_mcp_sandbox.recording import RequestRecorder
from unizo_mcp_sandbox.records import RecordStore
from unizo_mcp_sandbox.services import service_named
from unizo_mcp_sandbox.state import StateDir
from unizo_mcp_sandbox.usage import UsageCounter
from unizo_mcp_sandbox.webhooks import Webhook, WebhookDispatcher

log = logging.getLogger(__name__)

SAVE_INTERVAL = 0.25  # seconds between state flushes after a write (records, keys, webhooks)
COUNTERS_SAVE_INTERVAL = 5.0  # usage counters change on every request: flush them less often


@attrs.frozen
class KeySeeding:
    """Which seed produced the demo keys. A state dir keeps its keys even when served with another seed."""

    seed: int
    keys: list[SeededKey]


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.version = __version__
        self.state_dir = StateDir(config.state_dir)
        self.state_dir.prepare()
        saved = self.state_dir.load() or {}
        self.clock = Clock()
        self.dataset: Dataset = generate_dataset(config.seed)
        self.integrations: dict[str, Record] = {item["id"]: item for item in self.dataset.integrations}
        self.records = RecordStore(self.dataset)
        self.limiter = RateLimiter(config.limits, self.clock, bucket_only=config.documented)
        self.usage = UsageCounter()
        self.faults = FaultInjector(config.seed, config.faults)
        self.webhooks = WebhookDispatcher()
        self.alerts = AlertStore()
        self.recorder = RequestRecorder()
        self.base_url = ""
        self.previous_port: int | None = saved.get("port")

        same_environment = saved.get("environment") == config.environment
        keys_seed = saved["keysSeed"] if same_environment and "keysSeed" in saved else config.seed
        self.key_seeding = KeySeeding(keys_seed, seeded_keys(keys_seed, config.environment))
        self.keys = KeyStore(seeded.record for seeded in self.key_seeding.keys)
        if same_environment and saved.get("keys"):
            saved_keys = [ApiKey.from_state(entry) for entry in saved["keys"]]
            self.keys.replace_all(reconcile(saved_keys, self.key_seeding.keys))
        elif saved and not same_environment:
            log.warning(
                "state was saved for the %s environment; starting with fresh keys", saved.get("environment")
            )
        self.admin_token = config.admin_token or saved.get("adminToken") or seeded_admin_token(keys_seed)

        if saved.get("seed") == config.seed:
            self.records.load_state(saved.get("records", []))
        elif saved.get("records"):
            log.warning(
                "state was saved with seed %s, not %s; created records are dropped",
                saved["seed"],
                config.seed,
            )
        self.webhooks.load_state(saved.get("webhooks", []))
        self.alerts.load_state(saved.get("alerts", []))
        self.usage.load_state(saved.get("usage", {}))
        self.limiter.load_state(saved.get("dailyCounts", {}))
        self._dirty = self._counters_dirty = False
        self._saved_at = 0.0
        self._flusher: asyncio.Task[None] | None = None

    @property
    def documented(self) -> bool:
        """Serving the `documented` profile: only what Unizo documents (see `config.PROFILES`)."""
        return self.config.documented

    # ---- keys of the demo roles -------------------------------------------------------------------------

    @property
    def role_keys(self) -> dict[str, str]:
        return {seeded.role: seeded.key for seeded in self.key_seeding.keys}

    # ---- integrations -----------------------------------------------------------------------------------

    def integrations_of(self, organization_id: str, service: str | None = None) -> list[Record]:
        category = None if service is None else service_named(service).category
        return [
            item
            for item in self.dataset.integrations
            if item["organization"]["id"] == organization_id
            and (category is None or item["type"] == category)
        ]

    def emit(self, event_type: str, integration: Record, data: Record) -> None:
        self.webhooks.emit(event_type, integration, data)

    # ---- usage and alerts -------------------------------------------------------------------------------

    def record_usage(self, key: ApiKey, status: int, service: str) -> None:
        """An /api/ request the key made (its answer's status), then the alerts that watch it."""
        now = self.clock.time()
        self.usage.record(key.id, status, now, service)
        key.last_used_at = now
        self.counters_changed()
        self.evaluate_alerts(key.organization_id, key.id)

    def evaluate_alerts(self, organization_id: str | None = None, key_id: str | None = None) -> None:
        """Evaluate the alerts of an organization (all of them by default) that watch `key_id` (any key by
        default); a state change sends the alert's webhooks."""
        for alert in list(self.alerts.alerts.values()):
            if organization_id is not None and alert.organization_id != organization_id:
                continue
            if key_id is not None and alert.key_id not in (None, key_id):
                continue
            self._evaluate(alert)

    def _evaluate(self, alert: Alert) -> None:
        now = self.clock.time()
        if alert.key_id is not None:
            key_ids = [alert.key_id]
        else:
            key_ids = [key.id for key in self.keys.of_organization(alert.organization_id)]
        counts = self.usage.by_status(key_ids, now - alert.window_seconds, now)
        event = alert.evaluate(metric_value(alert.metric, counts), now)
        if event is None:
            return
        self.changed()
        data = alert.payload(event, key_ids)
        for index, target in enumerate(alert.notify):
            hook = Webhook(
                id=f"{alert.id}/{index}",
                name=alert.name,
                url=target["url"],
                events=[event],
                secret=target["secret"],
                organization_id=alert.organization_id,
                created_at=alert.created_at,
            )
            self.webhooks.send(hook, event, data)

    # ---- reset and persistence --------------------------------------------------------------------------

    async def reset(self) -> None:
        """Back to the seeded state: data, keys, limits, counters, faults, webhooks and the request log."""
        self.records.reset()
        self.keys.replace_all(
            seeded.record for seeded in seeded_keys(self.key_seeding.seed, self.config.environment)
        )
        self.clock.reset()
        self.limiter.reset(self.config.limits)
        self.usage.clear()
        self.faults.configure(self.config.faults)
        await self.webhooks.reset()
        self.alerts.clear()
        self.recorder.clear()
        if self.state_dir.attachments.exists():
            shutil.rmtree(self.state_dir.attachments, ignore_errors=True)
        self.state_dir.prepare()
        self.save()

    def set_limits(self, limits: LimitSettings) -> None:
        self.limiter.configure(limits)

    def to_state(self) -> dict[str, Any]:
        return {
            "seed": self.config.seed,
            "keysSeed": self.key_seeding.seed,
            "environment": self.config.environment,
            "profile": self.config.profile,
            "host": self.config.host,
            "port": self.port,
            "baseUrl": self.base_url,
            "adminToken": self.admin_token,
            "version": self.version,
            "keys": [key.to_state() for key in self.keys],
            "records": self.records.to_state(),
            "webhooks": self.webhooks.to_state(),
            "alerts": self.alerts.to_state(),
            "usage": self.usage.to_state(),
            "dailyCounts": self.limiter.to_state(),
        }

    @property
    def port(self) -> int | None:
        return int(self.base_url.rsplit(":", 1)[1]) if self.base_url else self.previous_port

    def changed(self) -> None:
        """Records, keys or webhooks changed; the flusher writes the state within SAVE_INTERVAL."""
        self._dirty = True

    def counters_changed(self) -> None:
        self._counters_dirty = True

    def save(self) -> None:
        self._dirty = self._counters_dirty = False
        self._saved_at = time.monotonic()
        self.state_dir.save(self.to_state())

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(SAVE_INTERVAL)
            counters_due = (
                self._counters_dirty and time.monotonic() - self._saved_at >= COUNTERS_SAVE_INTERVAL
            )
            try:
                self.evaluate_alerts()  # windows slide: conditions change without requests too
            except Exception:  # never let one bad alert stop the flusher
                log.exception("cannot evaluate the usage alerts")
            if self._dirty or counters_due:
                try:
                    self.save()
                except OSError as exc:
                    log.error("cannot save sandbox state: %s", exc)

    def start_flusher(self) -> None:
        self._flusher = asyncio.get_running_loop().create_task(self._flush_periodically())

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
            self._flusher = None
        await self.webhooks.close()
        self.save()
