"""Helpers shared by the seeded-data generators: a seeded id/time source and common record parts."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from unizo_mcp_sandbox.timeutil import iso, parse_iso

T = TypeVar("T")
Record = dict[str, Any]
Scope = tuple[str, ...]
Tables = dict[str, dict[Scope, list[Record]]]  # kind -> scope (parent ids) -> records in default order

# Seeded records are dated before this instant, so the data is the same whatever day it is generated.
BASE_TIME = parse_iso("2026-11-20T00:00:00Z")
API = "https://api.unizo.ai/api/v1"

FIRST_NAMES = (
    "Aisha", "Ben", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kavya", "Liam",
    "Maya", "Noah", "Olga", "Priya", "Quentin", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yusuf",
    "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Brennan", "Castillo", "Dubois", "Eriksen", "Fischer", "Gupta", "Hoffman", "Ito", "Jensen",
    "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka",
)  # fmt: skip


class Gen:
    """A `random.Random` with helpers for vendor-like ids and past timestamps."""

    def __init__(self, seed_text: str) -> None:
        self.rng = random.Random(seed_text)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hex(self, length: int) -> str:
        return f"{self.rng.getrandbits(length * 4):0{length}x}"

    def digits(self, length: int) -> str:
        return str(self.rng.randint(10 ** (length - 1), 10**length - 1))

    def number(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def sample(self, options: Sequence[T], count: int) -> list[T]:
        return self.rng.sample(list(options), min(count, len(options)))

    def weighted(self, options: Sequence[T], weights: Sequence[float]) -> T:
        return self.rng.choices(options, weights=weights)[0]

    def past(self, max_days: float, min_days: float = 0.0) -> float:
        """A whole-second instant between `max_days` and `min_days` before BASE_TIME."""
        return float(int(BASE_TIME - self.rng.uniform(min_days, max_days) * 86_400))

    def after(self, start: float, max_days: float) -> float:
        return float(min(int(start + self.rng.uniform(0, max_days) * 86_400), int(BASE_TIME)))

    def person(self) -> tuple[str, str]:
        return self.pick(FIRST_NAMES), self.pick(LAST_NAMES)


def change_log(created: float, updated: float, author: Record | None = None) -> Record:
    log: Record = {"createdDateTime": iso(created), "lastUpdatedDateTime": iso(max(created, updated))}
    if author is not None:
        log["createdBy"] = author
        log["lastUpdatedBy"] = author
    return log


def slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")
