"""The gateway's own counters (exposed in health data and logged at shutdown)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class IngestStats:
    messages: int = 0
    readings: int = 0
    points_written: int = 0
    dead_letters: int = 0
    unknown_device_messages: int = 0
    write_retries: int = 0
    points_dropped: int = 0
    points_spooled: int = 0
    spool_overflow_points: int = 0
    resend_requests: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
