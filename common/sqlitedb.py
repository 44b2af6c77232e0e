"""SQLite files of the services: opened in WAL mode and upgraded by numbered migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path


class SchemaTooNewError(Exception):
    """The file was written by a newer release than this one."""


def connect(path: Path, migrations: Sequence[str]) -> sqlite3.Connection:
    """Open (creating if need be) and upgrade; each migration is one version
    (PRAGMA user_version), applied in its own transaction. Append, never edit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=5000")
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version > len(migrations):
        db.close()
        raise SchemaTooNewError(
            f"{path} has schema version {version}, but this civic-iot knows versions up to "
            f"{len(migrations)}: run a newer civic-iot"
        )
    for number, script in enumerate(migrations[version:], start=version + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(str.strip, script.split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
        except sqlite3.DatabaseError:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return db
