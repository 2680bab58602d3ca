"""The local store (`limitstore`'s interface): a key's shared limits in SQLite, for one machine's processes.

`LocalStore` is SQLite in WAL mode, one file under the user's cache directory (`default_store_path()`),
created private to the user. Every operation is one `BEGIN IMMEDIATE` transaction of a few statements, so a
process killed mid-operation leaves the previous state; a process killed mid-request leaves a lease, which
expires on its own (`Limits.lease_ttl`).

Schema (`PRAGMA user_version` 3). A file of another version, or whose tables lack a column, is rebuilt
empty: it holds only a few minutes of throttling state, and the API's own answers (429, Retry-After) refill
it, whereas refusing to open it would stop sharing for good after an upgrade.

    bucket(key TEXT PRIMARY KEY,   -- limit_key(): fingerprint of (base URL, key)
           tokens REAL,            -- tokens at `updated`; negative while calls wait for reserved tokens
           updated REAL,           -- unix seconds
           seq INTEGER,            -- tokens handed out (reserved) so far
           sent INTEGER,           -- of those, how many were sent or abandoned (orders sends for `correct`)
           not_before REAL,        -- unix seconds before which nothing may be sent (a 429's Retry-After)
           day INTEGER, used INTEGER)  -- UTC day number (unix seconds // 86400) and its request count
    lease(key TEXT, lease TEXT, expires REAL, PRIMARY KEY (key, lease))  -- one per request in flight

Both tables are `WITHOUT ROWID` (one b-tree each, no separate key index). The transactions are most of
what sharing costs per call, so while calls keep coming most of them need none:

* `release` is written with the process's next operation on the store (before that operation's own
  statements), or `RELEASE_DELAY` later when none comes first. Until then the other processes count the
  ended call's lease as live, which only makes them wait a little more, never send more.
* When the next operation is the same key's `take_lease`, the ended call's lease is handed over to the
  new call instead of being deleted and another counted and inserted. A lease `take_lease` writes lives
  `KEEP` seconds longer than asked, so for `KEEP` seconds the handover needs no statement at all: the new
  call still has the whole lease time asked for. Later, the handover renames the lease and moves its
  expiry on.
* Tokens reserved ahead. A transaction that grants a token also reserves up to `AHEAD` more for this
  process's next calls on the key, with their send numbers (`_Ahead`), while (1) no other process has
  used the key for `CROWDED_FOR` seconds, as far as this one has seen (the bucket changed between two of
  its transactions), (2) the bucket keeps more than half its capacity and (3) the day's quota more than
  a bucket's worth of requests. They are counted for the day and taken from the bucket at once, as if
  sent. A call that has such a token and a lease to take over sends without a transaction, unless the
  ended call's answer said the API has less than half the capacity left (less the tokens reserved): its
  correction goes in first. The tokens not used are given back (to the bucket and the day's count) by the
  process's next transaction, or `RELEASE_DELAY` after its last call; a process killed with some loses
  them, as it would a token it reserved.
  Processes that share a key, and calls near its limits, take one token per transaction: send numbers
  then follow the order of sending, which corrections rely on, and no process holds tokens another one is
  waiting for. When a second process starts on a key the first one reserved ahead on, the first gives its
  unused tokens back at its next transaction; their send numbers stay unused, so a correction that counts
  them as sent lowers the bucket by up to `AHEAD` tokens more than needed, once.
* The correction an ended call's answer gave is applied to the bucket the next transaction reads anyway;
  when the next call took the lease over without one, the correction waits for the next transaction (at
  the latest when the tokens reserved ahead run out) without starting the release timer, which would end
  the lease the call after takes over.

Expired leases are not counted, and are deleted when a lease of the same key is released.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from .limitstore import Correction, Limits, Outcome, StoreUnavailable, Take
from .ratelimit import DAY

__all__ = ["AHEAD", "CROWDED_FOR", "KEEP", "RELEASE_DELAY", "LocalStore", "default_store_path"]

_EPSILON = 1e-9
SCHEMA_VERSION = 3
RELEASE_DELAY = 0.05  # s: the longest a local release waits to be written with the next operation
KEEP = 1.0  # s: how long after `take_lease` wrote a lease the next calls may take it over without statements
AHEAD = 7  # tokens one transaction reserves for the process's next calls, at most (module docstring)
CROWDED_FOR = 10.0  # s: how long after seeing another process use a key this one reserves nothing ahead
SET_UP_TIMEOUT = 10.0  # s: the longest a process waits for another one setting up a new file

log = logging.getLogger("unizo_mcp.ratelimit")


def default_store_path() -> Path:
    """The local store's file, in the user's cache directory."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "unizo-mcp" / "limits.sqlite3"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS bucket (
    key TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    updated REAL NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    day INTEGER NOT NULL DEFAULT 0,
    used INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lease (
    key TEXT NOT NULL,
    lease TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (key, lease)
) WITHOUT ROWID;
"""


@attrs.define
class _Bucket:
    tokens: float
    updated: float
    seq: int
    sent: int
    not_before: float
    day: int
    used: int

    def refill(self, now: float, limits: Limits) -> None:
        elapsed = max(now - self.updated, 0.0)  # a clock stepped back restarts the refill from now
        self.tokens = min(limits.capacity, self.tokens + elapsed * limits.rate)
        self.updated = now
        today = int(now // DAY)
        if today != self.day:
            self.day, self.used = today, 0


def _lower(b: _Bucket, estimate: float, sent: int) -> bool:
    """Apply a correction (`LimitStore.correct`) to `b`; True when it lowered the tokens."""
    # sent since that request, and reserved but not sent yet: all still to come off the server's count
    estimate -= max(b.seq - sent, 0)
    if estimate < b.tokens:
        b.tokens = estimate
        return True
    return False


@attrs.frozen
class _Release:
    """A `release` not written yet."""

    key: str
    lease: str | None  # None: only the correction (the lease went on to the next call)
    expires: float | None  # kept until then (a `hold`), or None: ended
    ended: float  # when the call ended, by the store's clock
    correction: Correction | None


@attrs.define
class _Ahead:
    """Tokens a transaction reserved for this process's next calls on a key (see the module docstring)."""

    tokens: int  # not used yet
    sent: int  # the next call's send number (the unused tokens have this one and the ones after)
    seq: int  # the bucket's `seq` and `day` right after the reservation
    day: int
    used: int  # the day's count after the reservation, these tokens included
    limits: Limits

    def give_back(self, b: _Bucket, limits: Limits) -> bool:
        """Return the unused tokens to `b` (read and refilled); True when there were any."""
        if self.tokens <= 0:
            return False
        b.tokens = min(b.tokens + self.tokens, limits.capacity)
        if b.day == self.day:
            b.used = max(b.used - self.tokens, 0)
        if b.seq == self.seq and b.sent == self.sent + self.tokens - 1:  # nothing reserved or sent since
            b.seq -= self.tokens
            b.sent -= self.tokens
        self.tokens = 0
        return True


def _columns(db: sqlite3.Connection, table: str) -> tuple[str, ...]:
    return tuple(str(row[1]) for row in db.execute(f"PRAGMA table_info({table})"))


@functools.cache
def _schema_columns() -> dict[str, tuple[str, ...]]:
    """Each table's columns as `_SCHEMA` creates them (read back from a database in memory)."""
    with contextlib.closing(sqlite3.connect(":memory:")) as db:
        db.executescript(_SCHEMA)
        tables = [str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: _columns(db, table) for table in tables}


def _ensure_schema(db: sqlite3.Connection) -> None:
    """Create the tables, or rebuild them when the file was written by another schema (see the docstring)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        expected = _schema_columns()
        present = {table: _columns(db, table) for table in expected}
        if version != SCHEMA_VERSION or present != expected:  # another schema, or a new file
            for table in expected:
                db.execute(f"DROP TABLE IF EXISTS {table}")
        for statement in filter(str.strip, _SCHEMA.split(";")):
            db.execute(statement)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _set_up(db: sqlite3.Connection) -> None:
    """WAL mode and the schema, waiting while another process sets up the same new file.

    Switching a new file to WAL needs it to itself, and SQLite answers "database is locked" at once there
    instead of waiting the busy timeout: servers started together would otherwise give up sharing."""
    deadline = time.monotonic() + SET_UP_TIMEOUT
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            _ensure_schema(db)
            return
        except sqlite3.OperationalError as exc:
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary code of an extended one
            if code not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)  # once per process, while another one creates the file


class LocalStore:
    """SQLite (WAL) in one file, shared by the processes of one machine; see the module docstring."""

    def __init__(
        self, path: Path | None = None, *, clock: Callable[[], float] = time.time, ahead: int = AHEAD
    ) -> None:
        """`ahead`: the most tokens a transaction reserves for the next calls (0: one per call)."""
        self.path = path or default_store_path()
        self._clock = clock
        self._ahead_max = ahead
        self._db: sqlite3.Connection | None = None
        self._releases: list[_Release] = []  # not written yet (see the module docstring)
        self._flush: asyncio.TimerHandle | None = None
        self._ahead: dict[str, _Ahead] = {}  # per key
        # a call's lease -> its name in the store and its expiry there (leases `take_lease` wrote)
        self._stored: dict[str, tuple[str, float]] = {}
        # per key: the bucket's (seq, sent) as this process's last `take_lease` left it
        self._left: dict[str, tuple[int, int]] = {}
        self._crowded_until: dict[str, float] = {}  # per key: another process used it lately

    @property
    def description(self) -> str:
        return f"the local store {self.path}"

    def _connect(self) -> sqlite3.Connection:
        if self._db is not None:
            return self._db
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            # created private to the user (SQLite gives its -wal and -shm files the same mode)
            os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open {self.path}: {exc}") from None
        try:
            _set_up(db)
        except sqlite3.Error as exc:
            db.close()
            raise StoreUnavailable(f"cannot use {self.path}: {exc}") from None
        self._db = db
        return db

    @contextlib.contextmanager
    def _transaction(self, keep: str | None = None) -> Iterator[sqlite3.Connection]:
        """One `BEGIN IMMEDIATE` transaction, the pending releases written and the tokens reserved ahead
        given back first (except `keep`'s, which the caller handles). A release that fails with it is
        dropped: its lease expires on its own, as a killed process's does; so are tokens given back."""
        releases, self._releases = self._releases, []
        returned = [(key, a) for key, a in self._ahead.items() if key != keep]
        for key, _ in returned:
            del self._ahead[key]
        if releases and self._flush is not None:  # written here: the timer waits for the next release
            self._flush.cancel()
            self._flush = None
        db = self._connect()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot write {self.path}: {exc}") from None
        try:
            for release in releases:
                self._release(db, release)
            for key, ahead in returned:
                b = self._bucket(db, key, self._clock(), ahead.limits)
                before = (b.seq, b.sent)
                if ahead.give_back(b, ahead.limits):
                    self._save(db, key, b)
                    self._moved(key, before, (b.seq, b.sent))
            yield db
            db.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreUnavailable(f"cannot write {self.path}: {exc}") from None
            raise

    def _bucket(self, db: sqlite3.Connection, key: str, now: float, limits: Limits) -> _Bucket:
        row = db.execute(
            "SELECT tokens, updated, seq, sent, not_before, day, used FROM bucket WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return _Bucket(limits.capacity, now, 0, 0, 0.0, int(now // DAY), 0)
        bucket = _Bucket(
            float(row[0]), float(row[1]), int(row[2]), int(row[3]), float(row[4]), int(row[5]), int(row[6])
        )
        bucket.refill(now, limits)
        return bucket

    @staticmethod
    def _save(db: sqlite3.Connection, key: str, b: _Bucket) -> None:
        db.execute(
            "INSERT OR REPLACE INTO bucket (key, tokens, updated, seq, sent, not_before, day, used) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, b.tokens, b.updated, b.seq, b.sent, b.not_before, b.day, b.used),
        )

    async def take(self, key: str, limits: Limits) -> Take:
        with self._transaction() as db:
            return self._take(db, key, self._clock(), limits)

    async def acquire(self, key: str, lease: str, ttl: float, concurrency: int) -> int:
        with self._transaction() as db:
            return self._acquire(db, key, lease, self._clock() + ttl, concurrency)

    async def take_lease(
        self, key: str, limits: Limits, lease: str, ttl: float, concurrency: int
    ) -> tuple[Take, int]:
        handed = self._handover(key)
        if handed is not None and (reused := self._take_over(key, limits, handed, lease, ttl)) is not None:
            return reused
        with self._transaction(keep=key) as db:  # its own tokens reserved ahead are handled here
            now = self._clock()
            b = self._bucket(db, key, now, limits)
            alone = self._alone(key, b, now)
            ahead = self._ahead.pop(key, None)
            changed = ahead is not None and ahead.give_back(b, limits)
            if handed is not None and handed.correction is not None:
                _lower(b, handed.correction.estimate, handed.correction.sent)
                changed = True
            take = self._grant(b, now, limits)
            ready = take.outcome is Outcome.GRANTED and take.wait <= 0
            sent, expires = 0, now + ttl + KEEP
            if handed is not None and ready and self._hand_over(db, key, handed, lease, expires):
                sent = b.sent = b.sent + 1
            else:
                if handed is not None:  # its correction is in `b` already
                    self._end_lease(db, handed)
                if ready and self._live(db, key, now) < concurrency:
                    db.execute("INSERT OR REPLACE INTO lease VALUES (?, ?, ?)", (key, lease, expires))
                    sent = b.sent = b.sent + 1
            if sent:
                self._stored[lease] = (lease, expires)
                if alone:
                    self._reserve_ahead(key, b, limits)
            if take.outcome is Outcome.GRANTED or changed:
                self._save(db, key, b)
            self._left[key] = (b.seq, b.sent)
            return take, sent

    def _alone(self, key: str, b: _Bucket, now: float) -> bool:
        """Whether no other process has used the key for `CROWDED_FOR` s, by what this one has seen: the
        bucket as this process left it. Its first call on a key cannot tell, and reserves nothing."""
        left = self._left.get(key)
        if left is None:
            return False
        if left != (b.seq, b.sent):
            self._crowded_until[key] = now + CROWDED_FOR
            return False
        return now >= self._crowded_until.get(key, 0.0)

    def _moved(self, key: str, before: tuple[int, int], after: tuple[int, int]) -> None:
        """This process moved the key's (seq, sent) from `before` to `after`: when `before` is where its
        last `take_lease` left them, no other process has used the key since, and none has yet."""
        if self._left.get(key) == before:
            self._left[key] = after

    def _take_over(
        self, key: str, limits: Limits, handed: _Release, lease: str, ttl: float
    ) -> tuple[Take, int] | None:
        """A call that needs no transaction: a token reserved ahead, and the ended call's lease still
        good for `ttl` s. None when the call needs the store (see the module docstring)."""
        ended = handed.lease
        assert ended is not None  # `_handover` hands over only releases that end a lease
        ahead, stored = self._ahead.get(key), self._stored.get(ended)
        if ahead is None or ahead.tokens <= 0 or ahead.limits != limits or stored is None:
            return None
        now = self._clock()
        if stored[1] - now < ttl or int(now // DAY) != ahead.day:  # a new UTC day counts from zero
            return None
        c = handed.correction
        if c is not None and c.estimate - ahead.tokens < limits.capacity / 2:
            return None  # the API has less left than we reckon: the correction goes in first
        del self._stored[ended]
        self._stored[lease] = stored
        if c is not None:  # written with the next transaction (at the latest when these tokens run out)
            self._releases.append(_Release(key, None, None, handed.ended, c))
        ahead.tokens -= 1
        sent, ahead.sent = ahead.sent, ahead.sent + 1
        return Take(Outcome.GRANTED, 0.0, ahead.seq - ahead.tokens, ahead.used - ahead.tokens), sent

    def _reserve_ahead(self, key: str, b: _Bucket, limits: Limits) -> None:
        """Reserve tokens for the next calls while the bucket keeps half its capacity and the day's quota a
        bucket's worth of requests (module docstring): near either limit, calls take one token each."""
        spare_quota = limits.quota - b.used - math.ceil(limits.capacity)
        n = min(self._ahead_max, math.floor(b.tokens - limits.capacity / 2), spare_quota)
        if n < 1:
            return
        b.tokens -= n
        b.seq += n
        b.used += n
        first, b.sent = b.sent + 1, b.sent + n
        self._ahead[key] = _Ahead(n, first, b.seq, b.day, b.used, limits)

    def _handover(self, key: str) -> _Release | None:
        """A pending release of `key` that ends its lease now (no hold), taken off the queue: the next call
        takes its lease over instead of releasing it and taking another (see the module docstring)."""
        for index, release in enumerate(self._releases):
            if release.key == key and release.lease is not None and release.expires is None:
                handed = self._releases.pop(index)
                if self._flush is not None and all(r.lease is None for r in self._releases):
                    # no lease left for the timer to end: corrections alone wait for the next transaction
                    self._flush.cancel()
                    self._flush = None
                return handed
        return None

    def _name(self, lease: str) -> str:
        """The lease's name in the store (a lease taken over without statements keeps the one before)."""
        stored = self._stored.pop(lease, None)
        return stored[0] if stored is not None else lease

    def _hand_over(self, db: sqlite3.Connection, key: str, ended: _Release, new: str, expires: float) -> bool:
        """Give the ended call's lease to a new call; False when it is gone (expired and deleted)."""
        assert ended.lease is not None
        cursor = db.execute(
            "UPDATE lease SET lease = ?, expires = ? WHERE key = ? AND lease = ?",
            (new, expires, key, self._name(ended.lease)),
        )
        return cursor.rowcount == 1

    def _take(self, db: sqlite3.Connection, key: str, now: float, limits: Limits) -> Take:
        b = self._bucket(db, key, now, limits)
        before = (b.seq, b.sent)
        take = self._grant(b, now, limits)
        if take.outcome is Outcome.GRANTED:
            self._save(db, key, b)
            self._moved(key, before, (b.seq, b.sent))
        return take

    @staticmethod
    def _grant(b: _Bucket, now: float, limits: Limits) -> Take:
        """Reserve a token from `b` (the caller saves it), or say why not."""
        blocked = b.not_before - now
        if blocked > limits.max_block:
            return Take(Outcome.BLOCKED, blocked, b.seq, b.used)
        if b.used >= limits.quota:
            return Take(Outcome.QUOTA, (b.day + 1) * DAY - now, b.seq, b.used)
        need = 1.0 + limits.reserve - _EPSILON
        wait = max(blocked, 0.0)
        if b.tokens < need:
            wait = max(wait, (need - b.tokens) / limits.rate)
        if wait > limits.max_wait:
            return Take(Outcome.QUEUE, wait, b.seq, b.used)
        b.tokens -= 1.0
        b.seq += 1
        b.used += 1
        return Take(Outcome.GRANTED, wait, b.seq, b.used)

    @staticmethod
    def _live(db: sqlite3.Connection, key: str, now: float) -> int:
        row = db.execute("SELECT COUNT(*) FROM lease WHERE key = ? AND expires > ?", (key, now)).fetchone()
        return int(row[0])

    def _acquire(self, db: sqlite3.Connection, key: str, lease: str, expires: float, concurrency: int) -> int:
        if self._live(db, key, self._clock()) >= concurrency:
            return 0
        db.execute("INSERT OR REPLACE INTO lease VALUES (?, ?, ?)", (key, lease, expires))
        return self._count_sent(db, key)

    def _count_sent(self, db: sqlite3.Connection, key: str) -> int:
        db.execute("UPDATE bucket SET sent = sent + 1 WHERE key = ?", (key,))
        row = db.execute("SELECT sent FROM bucket WHERE key = ?", (key,)).fetchone()
        sent = int(row[0]) if row is not None else 1
        if (left := self._left.get(key)) is not None:
            self._moved(key, (left[0], sent - 1), (left[0], sent))
        return sent

    async def abandon(self, key: str) -> None:
        with self._transaction() as db:
            self._count_sent(db, key)

    async def release(
        self, key: str, lease: str, hold: float = 0.0, correction: Correction | None = None
    ) -> None:
        """Queued: written with the next operation, or `RELEASE_DELAY` s from now (module docstring)."""
        now = self._clock()
        self._releases.append(_Release(key, lease, now + hold if hold > 0 else None, now, correction))
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(RELEASE_DELAY, self._write_releases)

    def _write_releases(self) -> None:
        """Write the pending releases and give back the tokens reserved ahead."""
        self._flush = None
        if not self._releases and not self._ahead:
            return
        try:
            with self._transaction():
                pass
        except StoreUnavailable as error:  # the next operation reports it to the limiter
            log.debug("ended leases not written (they expire on their own): %s", error)

    def _release(self, db: sqlite3.Connection, release: _Release) -> None:
        if release.correction is not None:
            c = release.correction
            self._correct(db, release.key, c.estimate, c.sent, c.limits)
        self._end_lease(db, release)

    def _end_lease(self, db: sqlite3.Connection, release: _Release) -> None:
        if release.lease is None:
            return
        key, lease = release.key, self._name(release.lease)
        if release.expires is not None:  # kept until then; the key's expired leases go
            db.execute(
                "UPDATE lease SET expires = ? WHERE key = ? AND lease = ?", (release.expires, key, lease)
            )
            db.execute("DELETE FROM lease WHERE key = ? AND expires <= ?", (key, release.ended))
        else:  # this lease and the key's expired ones go
            db.execute(
                "DELETE FROM lease WHERE key = ? AND (lease = ? OR expires <= ?)", (key, lease, release.ended)
            )

    async def correct(self, key: str, estimate: float, sent: int, limits: Limits) -> None:
        with self._transaction() as db:
            self._correct(db, key, estimate, sent, limits)

    def _correct(self, db: sqlite3.Connection, key: str, estimate: float, sent: int, limits: Limits) -> None:
        b = self._bucket(db, key, self._clock(), limits)
        if _lower(b, estimate, sent):
            self._save(db, key, b)

    async def block(self, key: str, seconds: float) -> None:
        with self._transaction() as db:
            now = self._clock()
            row = db.execute("SELECT not_before FROM bucket WHERE key = ?", (key,)).fetchone()
            if row is None:
                # a full bucket as `take` would create it; `take` refills it to its own capacity
                db.execute(
                    "INSERT INTO bucket (key, tokens, updated, not_before, day) VALUES (?, ?, ?, ?, ?)",
                    (key, math.inf, now, now + seconds, int(now // DAY)),
                )
            elif float(row[0]) < now + seconds:
                db.execute("UPDATE bucket SET not_before = ? WHERE key = ?", (now + seconds, key))

    async def exhaust(self, key: str, quota: int) -> None:
        with self._transaction() as db:
            now = self._clock()
            today = int(now // DAY)
            row = db.execute("SELECT day, used FROM bucket WHERE key = ?", (key,)).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO bucket (key, tokens, updated, day, used) VALUES (?, ?, ?, ?, ?)",
                    (key, math.inf, now, today, quota),
                )
            else:
                used = int(row[1]) if int(row[0]) == today else 0
                db.execute(
                    "UPDATE bucket SET day = ?, used = ? WHERE key = ?", (today, max(used, quota), key)
                )

    def leases(self, key: str) -> int:
        """Live leases of `key`, the pending releases written first (for tests and diagnostics)."""
        with self._transaction() as db:
            return self._live(db, key, self._clock())

    async def aclose(self) -> None:
        """Write the pending releases and close the file (it reopens if used again)."""
        if self._flush is not None:
            self._flush.cancel()
        self._write_releases()
        db, self._db = self._db, None
        if db is not None:
            db.close()
