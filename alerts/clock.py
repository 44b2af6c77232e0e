"""The one clock the alerts service reads: the wall clock when it runs, a virtual one
when a recorded stream is replayed (``civic-iot alerts replay``)."""

from __future__ import annotations

from typing import Protocol

from wire import now_ms


class Clock(Protocol):
    def now_ms(self) -> int:
        """UTC epoch milliseconds."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return now_ms()


class VirtualClock:
    """Time that moves only when told to (never backwards)."""

    def __init__(self, start_ms: int) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance_to(self, ms: int) -> None:
        self._now = max(self._now, ms)
