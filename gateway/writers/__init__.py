"""Two dialects of one line-protocol write path: InfluxDB v1 /write and the v2 API."""

from __future__ import annotations

from typing import Protocol

from gateway.retention import ZonePlan


class Writer(Protocol):
    def write(self, database: str, lines: list[str]) -> None:
        """Store the lines or raise WriteError."""
        ...

    def set_up(self, zones: list[ZonePlan]) -> list[str]:
        """Create databases/buckets with retention and roll-ups as far as the server
        allows; one line per zone says what was done. Raises WriteError."""
        ...

    def close(self) -> None: ...
