"""Two dialects of one line-protocol write path: InfluxDB v1 /write and the v2 API."""

from __future__ import annotations

from typing import Protocol


class Writer(Protocol):
    def write(self, database: str, lines: list[str]) -> None:
        """Store the lines or raise WriteError."""
        ...

    def ensure_databases(self, names: list[str]) -> None:
        """Create missing databases where the dialect can; raise WriteError otherwise."""
        ...

    def close(self) -> None: ...
