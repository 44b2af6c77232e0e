"""What the alerts service keeps on disk (SQLite): alerts, the engine's state and the
notification outbox. A restart neither re-notifies nor forgets an alert.

A notification's ``dedup_key`` is deterministic (alert, what happened, escalation step,
recipient, channel): inserting it twice is a no-op, so nobody is paged twice for one
thing, even when the service dies between deciding and recording.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from alerts.state import EngineState
from common import sqlitedb

MIGRATIONS = (
    """
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        site TEXT NOT NULL,
        device TEXT NOT NULL DEFAULT '',
        sensor TEXT NOT NULL DEFAULT '',
        severity TEXT NOT NULL,
        state TEXT NOT NULL,
        fired_at INTEGER NOT NULL,
        value TEXT NOT NULL DEFAULT '',
        late INTEGER NOT NULL DEFAULT 0,
        step INTEGER NOT NULL DEFAULT 0,
        notified_at INTEGER NOT NULL DEFAULT 0,
        acked_at INTEGER,
        acked_by TEXT NOT NULL DEFAULT '',
        resolved_at INTEGER
    );
    CREATE INDEX alerts_open ON alerts (state, key);
    CREATE TABLE engine (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);
    CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        dedup_key TEXT NOT NULL UNIQUE,
        alert_id INTEGER NOT NULL,
        recipient TEXT NOT NULL,
        language TEXT NOT NULL,
        channel TEXT NOT NULL,
        url TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at INTEGER NOT NULL,
        last_error TEXT NOT NULL DEFAULT '',
        sent_at INTEGER
    );
    CREATE INDEX notifications_due ON notifications (state, channel, next_at);
    CREATE TABLE away (site TEXT PRIMARY KEY, until_ms INTEGER NOT NULL, note TEXT NOT NULL);
    CREATE TABLE silences (
        id INTEGER PRIMARY KEY,
        site TEXT NOT NULL DEFAULT '',
        rule_id TEXT NOT NULL DEFAULT '',
        start_ms INTEGER NOT NULL,
        until_ms INTEGER NOT NULL,
        reason TEXT NOT NULL,
        created_by TEXT NOT NULL
    );
    """,
    # The escalation clock starts when the alert opened, not when its condition began
    # (an inactivity alert's condition began 12 hours earlier).
    """
    ALTER TABLE alerts ADD COLUMN opened_at INTEGER NOT NULL DEFAULT 0;
    """,
    # What happened in words (a Detail, JSON), how often it was repeated; what each
    # notification is (kind, severity, contact, rule, site); the night log that becomes
    # the morning summary.
    """
    ALTER TABLE alerts ADD COLUMN detail TEXT NOT NULL DEFAULT '';
    ALTER TABLE alerts ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE notifications ADD COLUMN kind TEXT NOT NULL DEFAULT '';
    ALTER TABLE notifications ADD COLUMN severity TEXT NOT NULL DEFAULT '';
    ALTER TABLE notifications ADD COLUMN contact TEXT NOT NULL DEFAULT '';
    ALTER TABLE notifications ADD COLUMN rule_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE notifications ADD COLUMN site TEXT NOT NULL DEFAULT '';
    CREATE TABLE night_log (
        id INTEGER PRIMARY KEY,
        contact TEXT NOT NULL,
        name TEXT NOT NULL,
        language TEXT NOT NULL,
        url TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        site TEXT NOT NULL,
        at INTEGER NOT NULL,
        release_at INTEGER NOT NULL,
        line TEXT NOT NULL,
        done INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX night_log_due ON night_log (done, release_at);
    """,
    # Closed by a person on the acknowledgement page: "resolved" or "false-alarm".
    "ALTER TABLE alerts ADD COLUMN closed_reason TEXT NOT NULL DEFAULT '';",
)
OPEN = ("firing", "acknowledged")
CLOSE_REASONS = ("resolved", "false-alarm")


@dataclass
class AlertRow:
    id: int
    key: str
    rule_id: str
    site: str
    device: str
    sensor: str
    severity: str
    state: str
    fired_at: int
    value: str
    late: bool
    step: int
    notified_at: int
    acked_at: int | None
    acked_by: str
    resolved_at: int | None
    opened_at: int = 0
    detail: str = ""
    repeats: int = 0
    closed_reason: str = ""


@dataclass
class Notification:
    id: int
    dedup_key: str
    alert_id: int
    recipient: str
    language: str
    channel: str
    url: str
    subject: str
    body: str
    state: str
    attempts: int
    next_at: int
    last_error: str
    sent_at: int | None
    kind: str = ""
    severity: str = ""
    contact: str = ""
    rule_id: str = ""
    site: str = ""


@dataclass
class NightEntry:
    """Something that happened in quiet hours and resolved before anyone was told: a
    line for one contact's morning summary."""

    id: int
    contact: str
    name: str
    language: str
    url: str
    rule_id: str
    site: str
    at: int
    release_at: int
    line: str
    done: int = 0


_ALERT_COLUMNS = ", ".join(AlertRow.__dataclass_fields__)
_NOTE_COLUMNS = ", ".join(Notification.__dataclass_fields__)
_NIGHT_COLUMNS = ", ".join(NightEntry.__dataclass_fields__)


class Store:
    def __init__(self, path: Path, *, durable: bool = True) -> None:
        self.path = path
        self._db = sqlitedb.connect(path, MIGRATIONS)
        # Names, contacts and what happened to residents: readable by the service alone.
        for private in (
            path,
            path.with_name(path.name + "-wal"),
            path.with_name(path.name + "-shm"),
        ):
            if private.exists():
                private.chmod(0o600)
        # A replay's throw-away store needs no fsync per tick.
        self._db.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=OFF")

    def close(self) -> None:
        self._db.close()

    # -- engine state --------------------------------------------------------------------

    def load_engine(self) -> EngineState:
        row = self._db.execute("SELECT state FROM engine WHERE id = 1").fetchone()
        return msgspec.json.decode(row[0], type=EngineState) if row else EngineState()

    def save_engine(self, state: EngineState) -> None:
        blob = msgspec.json.encode(state).decode()
        self._db.execute(
            "INSERT INTO engine (id, state) VALUES (1, ?) "
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state",
            (blob,),
        )

    # -- alerts --------------------------------------------------------------------------

    def open_alert(self, key: str) -> AlertRow | None:
        found = self._alerts("WHERE key = ? AND state IN (?, ?) ORDER BY id DESC LIMIT 1",
                             (key, *OPEN))  # fmt: skip
        return found[0] if found else None

    def add_alert(self, row: AlertRow) -> AlertRow:
        row.id = self._insert("INSERT", "alerts", row, _ALERT_COLUMNS)
        return row

    def update_alert(self, row: AlertRow, **changes: object) -> None:
        for name, value in changes.items():
            setattr(row, name, value)
        self._update("alerts", row.id, changes)

    def alert(self, alert_id: int) -> AlertRow | None:
        found = self._alerts("WHERE id = ?", (alert_id,))
        return found[0] if found else None

    def alerts(self, *, open_only: bool = True) -> list[AlertRow]:
        if open_only:
            return self._alerts("WHERE state IN (?, ?) ORDER BY id", OPEN)
        return self._alerts("ORDER BY id", ())

    def resolved_since(self, since_ms: int) -> list[AlertRow]:
        return self._alerts("WHERE state = 'resolved' AND resolved_at >= ? ORDER BY id",
                            (since_ms,))  # fmt: skip

    # -- away mode and silences ----------------------------------------------------------

    def set_away(self, site: str, until_ms: int | None, note: str = "") -> None:
        if until_ms is None:
            self._db.execute("DELETE FROM away WHERE site = ?", (site,))
            return
        self._db.execute(
            "INSERT INTO away (site, until_ms, note) VALUES (?, ?, ?) ON CONFLICT (site) "
            "DO UPDATE SET until_ms = excluded.until_ms, note = excluded.note",
            (site, until_ms, note),
        )

    def away(self, now_ms: int) -> dict[str, int]:
        rows = self._db.execute("SELECT site, until_ms FROM away WHERE until_ms > ?", (now_ms,))
        return {site: int(until) for site, until in rows}

    def add_silence(
        self, site: str, rule_id: str, span: tuple[int, int], *, reason: str, by: str
    ) -> int:
        start_ms, until_ms = span
        cursor = self._db.execute(
            "INSERT INTO silences (site, rule_id, start_ms, until_ms, reason, created_by) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (site, rule_id, start_ms, until_ms, reason, by),
        )
        return int(cursor.lastrowid or 0)

    def silenced(self, site: str, rule_id: str, now_ms: int) -> str | None:
        """The reason of a silence covering this site and rule now, if any."""
        row = self._db.execute(
            "SELECT reason FROM silences WHERE start_ms <= ? AND until_ms > ? "
            "AND site IN ('', ?) AND rule_id IN ('', ?) LIMIT 1",
            (now_ms, now_ms, site, rule_id),
        ).fetchone()
        return str(row[0]) if row else None

    # -- notifications -------------------------------------------------------------------

    def has_notification(self, dedup_key: str) -> bool:
        query = "SELECT 1 FROM notifications WHERE dedup_key = ? LIMIT 1"
        return self._db.execute(query, (dedup_key,)).fetchone() is not None

    def enqueue(self, note: Notification) -> bool:
        """Add unless a notification with the same dedup key exists; True if added."""
        return self._insert("INSERT OR IGNORE", "notifications", note, _NOTE_COLUMNS) > 0

    def due(self, channel: str, now_ms: int, limit: int = 20) -> list[Notification]:
        return self._notes(
            "WHERE state = 'pending' AND channel = ? AND next_at <= ? ORDER BY id LIMIT ?",
            (channel, now_ms, limit),
        )

    def channels_pending(self) -> set[str]:
        rows = self._db.execute(
            "SELECT DISTINCT channel FROM notifications WHERE state = 'pending'"
        ).fetchall()
        return {row[0] for row in rows}

    def notifications(self, alert_id: int | None = None) -> list[Notification]:
        if alert_id is None:
            return self._notes("ORDER BY id", ())
        return self._notes("WHERE alert_id = ? ORDER BY id", (alert_id,))

    def mark(self, note: Notification, **changes: object) -> None:
        for name, value in changes.items():
            setattr(note, name, value)
        self._update("notifications", note.id, changes)

    def due_any(self, now_ms: int) -> list[Notification]:
        """Every pending notification due by now, in order (for a replay's delivery)."""
        return self._notes("WHERE state = 'pending' AND next_at <= ? ORDER BY next_at, id",
                           (now_ms,))  # fmt: skip

    def next_due(self) -> int | None:
        row = self._db.execute(
            "SELECT MIN(next_at) FROM notifications WHERE state = 'pending'"
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def pending_count(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM notifications WHERE state = 'pending'")
        return int(row.fetchone()[0])

    def failed_count(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM notifications WHERE state = 'failed'")
        return int(row.fetchone()[0])

    # -- the night log -------------------------------------------------------------------

    def log_night(self, entry: NightEntry) -> None:
        self._insert("INSERT", "night_log", entry, _NIGHT_COLUMNS)

    def night_due(self, now_ms: int) -> list[NightEntry]:
        query = f"SELECT {_NIGHT_COLUMNS} FROM night_log WHERE done = 0 AND release_at <= ? "  # noqa: S608
        rows = self._db.execute(query + "ORDER BY contact, at, id", (now_ms,))
        return [NightEntry(*row) for row in rows]

    def night_done(self, entries: list[NightEntry]) -> None:
        for entry in entries:
            self._update("night_log", entry.id, {"done": 1})

    # -- plumbing (table and column names are ours, never data) ---------------------------

    def _alerts(self, tail: str, args: tuple[object, ...]) -> list[AlertRow]:
        query = f"SELECT {_ALERT_COLUMNS} FROM alerts {tail}"  # noqa: S608
        return [AlertRow(*row) for row in self._db.execute(query, args)]

    def _notes(self, tail: str, args: tuple[object, ...]) -> list[Notification]:
        query = f"SELECT {_NOTE_COLUMNS} FROM notifications {tail}"  # noqa: S608
        return [Notification(*row) for row in self._db.execute(query, args)]

    def _insert(self, verb: str, table: str, record: object, columns: str) -> int:
        """Insert every column but the id; the new id, or 0 if nothing was inserted."""
        names = columns.split(", ")[1:]
        cursor = self._db.execute(
            f"{verb} INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            [getattr(record, name) for name in names],
        )
        return int(cursor.lastrowid or 0) if cursor.rowcount == 1 else 0

    def _update(self, table: str, row_id: int, changes: dict[str, object]) -> None:
        assignments = ", ".join(f"{name} = ?" for name in changes)
        self._db.execute(
            f"UPDATE {table} SET {assignments} WHERE id = ?",  # noqa: S608
            (*changes.values(), row_id),
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit: all of them or none."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
