"""Mutable records over the immutable seeded data.

Writes go to a small overlay (created, replaced, removed records) per (kind, scope); the seeded lists are
never touched. Reads of an untouched scope return the precomputed list as is, and a reset only drops the
overlays, so both stay cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from unizo_mcp_sandbox.data import Dataset
from unizo_mcp_sandbox.data.common import Record, Scope, Tables


class RecordSet:
    def __init__(self, seeded: list[Record]) -> None:
        self.seeded = seeded
        self._seeded_index: dict[str, Record] | None = None
        self.created: list[Record] = []
        self.replaced: dict[str, Record] = {}
        self.removed: set[str] = set()

    @property
    def changed(self) -> bool:
        return bool(self.created or self.replaced or self.removed)

    def _index(self) -> dict[str, Record]:
        if self._seeded_index is None:
            self._seeded_index = {record["id"]: record for record in self.seeded}
        return self._seeded_index

    def all(self) -> Sequence[Record]:
        if not self.changed:
            return self.seeded
        merged = [
            self.replaced.get(record["id"], record)
            for record in self.seeded
            if record["id"] not in self.removed
        ]
        merged.extend(
            self.replaced.get(record["id"], record)
            for record in self.created
            if record["id"] not in self.removed
        )
        return merged

    def get(self, record_id: str) -> Record | None:
        if record_id in self.removed:
            return None
        if record_id in self.replaced:
            return self.replaced[record_id]
        record = self._index().get(record_id)
        if record is None:
            record = next((item for item in self.created if item["id"] == record_id), None)
        return record

    def insert(self, record: Record) -> None:
        self.created.append(record)

    def replace(self, record: Record) -> None:
        self.replaced[record["id"]] = record

    def remove(self, record_id: str) -> None:
        self.removed.add(record_id)

    def reset(self) -> None:
        self.created, self.replaced, self.removed = [], {}, set()


class RecordStore:
    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._sets: dict[tuple[str, Scope], RecordSet] = {}
        self._seeded: Tables = dataset.tables
        self._touched: set[tuple[str, Scope]] = set()

    def _set(self, kind: str, scope: Scope) -> RecordSet:
        found = self._sets.get((kind, scope))
        if found is None:
            found = RecordSet(self._seeded.get(kind, {}).get(scope, []))
            self._sets[(kind, scope)] = found
        return found

    def items(self, kind: str, scope: Scope) -> Sequence[Record]:
        return self._set(kind, scope).all()

    def get(self, kind: str, scope: Scope, record_id: str) -> Record | None:
        return self._set(kind, scope).get(record_id)

    def insert(self, kind: str, scope: Scope, record: Record) -> None:
        self._set(kind, scope).insert(record)
        self._touched.add((kind, scope))

    def replace(self, kind: str, scope: Scope, record: Record) -> None:
        self._set(kind, scope).replace(record)
        self._touched.add((kind, scope))

    def remove(self, kind: str, scope: Scope, record_id: str) -> None:
        self._set(kind, scope).remove(record_id)
        self._touched.add((kind, scope))

    def reset(self) -> None:
        for key in self._touched:
            self._sets[key].reset()
        self._touched.clear()

    def to_state(self) -> list[dict[str, Any]]:
        entries = []
        for kind, scope in sorted(self._touched):
            record_set = self._sets[(kind, scope)]
            if record_set.changed:
                entries.append(
                    {
                        "kind": kind,
                        "scope": list(scope),
                        "created": record_set.created,
                        "replaced": list(record_set.replaced.values()),
                        "removed": sorted(record_set.removed),
                    }
                )
        return entries

    def load_state(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            kind, scope = entry["kind"], tuple(entry["scope"])
            record_set = self._set(kind, scope)
            record_set.created = list(entry.get("created", []))
            record_set.replaced = {record["id"]: record for record in entry.get("replaced", [])}
            record_set.removed = set(entry.get("removed", []))
            self._touched.add((kind, scope))
