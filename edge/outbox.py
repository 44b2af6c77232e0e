"""The durable outbox between collectors and the MQTT link.

A message is committed here, with its sequence number, before anyone tries to publish
it, and deleted only after the broker's PUBACK. So a reading survives a dead broker, a
SIGKILL and a power cut; after a crash a message may go out twice, never zero times,
and sequence numbers never skip.

Durability: SQLite in WAL mode. With ``sync: full`` (the default) every commit waits
for fsync, so what was committed survives a power cut; the agent commits once per
collection round, not per reading. ``sync: normal`` skips that fsync: it survives a
crash of the agent but may lose the last commits on power loss, in exchange for far
fewer writes to the SD card. `bench/bench_outbox.py` measures both.

Bounded: by rows, bytes and age. When full, the oldest messages are evicted first and
every eviction is counted (and reported in the agent's health readings).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Literal, NamedTuple

from edge.errors import EdgeError

# Priorities: events (a door, a panic button) before telemetry and health.
EVENT, ROUTINE = 0, 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    priority INTEGER NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_priority ON outbox (priority, id);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class OutboxError(EdgeError):
    """The outbox database cannot be opened or written."""


class Row(NamedTuple):
    id: int
    priority: int
    topic: str
    payload: bytes
    created_ms: int


class Limits(NamedTuple):
    max_rows: int = 500_000
    max_bytes: int = 256 * 1024 * 1024
    max_age_s: float = 14 * 24 * 3600


class Stats(NamedTuple):
    depth: int
    oldest_ms: int | None
    evicted: int


class Outbox:
    def __init__(
        self, path: Path, limits: Limits | None = None, sync: Literal["full", "normal"] = "full"
    ) -> None:
        self.path = path
        self.limits = limits or Limits()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={sync.upper()}")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise OutboxError(f"outbox {path}: {exc}") from None
        self._rows, self._bytes = self._db.execute(
            "SELECT count(*), coalesce(sum(length(payload)), 0) FROM outbox"
        ).fetchone()

    # -- writing ---------------------------------------------------------------------

    def next_sequence(self) -> int:
        """The sequence number the next message will carry (persisted by ``add``)."""
        return self._counter("seq") + 1

    def add(self, messages: Iterable[tuple[int, str, bytes]], last_seq: int, now_ms: int) -> None:
        """Store (priority, topic, payload) messages and the last sequence number used,
        in one transaction: either all of them and the sequence, or none."""
        batch = list(messages)
        with self._transaction():
            self._db.executemany(
                "INSERT INTO outbox (priority, topic, payload, created_ms) VALUES (?, ?, ?, ?)",
                [(priority, topic, payload, now_ms) for priority, topic, payload in batch],
            )
            self._set_counter("seq", last_seq)
            self._rows += len(batch)
            self._bytes += sum(len(payload) for _, _, payload in batch)
            self._evict_oldest(None)

    def remove(self, ids: Iterable[int]) -> None:
        """Forget messages the broker acknowledged."""
        ids = list(ids)
        if not ids:
            return
        with self._transaction():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                removed, size = self._db.execute(
                    f"SELECT count(*), coalesce(sum(length(payload)), 0) FROM outbox "  # noqa: S608 - only placeholders
                    f"WHERE id IN ({marks})",
                    chunk,
                ).fetchone()
                self._db.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)  # noqa: S608
                self._rows -= removed
                self._bytes -= size

    def expire(self, now_ms: int) -> None:
        """Evict what is older than the age limit (the agent runs this every minute)."""
        with self._transaction():
            self._evict_oldest(now_ms - int(self.limits.max_age_s * 1000))

    # -- reading ---------------------------------------------------------------------

    def take(self, priority: int, after_id: int, up_to_id: int, limit: int) -> list[Row]:
        """Up to ``limit`` messages of one priority with ids in (after_id, up_to_id],
        oldest first."""
        rows = self._db.execute(
            "SELECT id, priority, topic, payload, created_ms FROM outbox "
            "WHERE priority = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?",
            (priority, after_id, up_to_id, limit),
        ).fetchall()
        return [Row(*row) for row in rows]

    def last_id(self) -> int:
        """The id of the newest message ever stored (0 if none)."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        return int(row[0]) if row else 0

    def stats(self) -> Stats:
        row = self._db.execute("SELECT created_ms FROM outbox ORDER BY id LIMIT 1").fetchone()
        return Stats(self._rows, row[0] if row else None, self._counter("evicted"))

    def close(self) -> None:
        self._db.close()

    # -- inside ----------------------------------------------------------------------

    def _evict_oldest(self, too_old_ms: int | None) -> None:
        """Drop the oldest messages while they are older than ``too_old_ms`` or the outbox
        is over its bounds. Walks by id, which is insertion and so time order: the cost
        is what it evicts, never a scan of the table (this runs on every commit)."""
        limits = self.limits
        while True:
            oldest = self._db.execute(
                "SELECT id, created_ms, length(payload) FROM outbox ORDER BY id LIMIT 256"
            ).fetchall()
            rows, size, dropped = self._rows, self._bytes, 0
            for _, created_ms, length in oldest:
                aged = too_old_ms is not None and created_ms < too_old_ms
                if not aged and rows <= limits.max_rows and size <= limits.max_bytes:
                    break
                rows, size, dropped = rows - 1, size - length, dropped + 1
            if not dropped:
                return
            self._db.execute("DELETE FROM outbox WHERE id <= ?", (oldest[dropped - 1][0],))
            self._note_evicted(dropped, self._bytes - size)
            if dropped < len(oldest):
                return

    def _note_evicted(self, rows: int, size: int) -> None:
        self._rows -= rows
        self._bytes -= size
        self._set_counter("evicted", self._counter("evicted") + rows)

    def _counter(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def _set_counter(self, name: str, value: int) -> None:
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self.path)


class _Transaction:
    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self._path = path

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if error is None:
            self._db.execute("COMMIT")
            return
        self._db.execute("ROLLBACK")
        if isinstance(error, sqlite3.Error):
            raise OutboxError(f"outbox {self._path}: {error}") from error
