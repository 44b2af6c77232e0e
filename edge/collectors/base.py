"""What every collector is: a named source of readings, polled on an interval; one
that hears events between polls wakes the agent; one that holds a pin, a radio or a
port lets it go on close."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol

import msgspec

from wire import Reading

IntervalS = Annotated[float, msgspec.Meta(ge=0.05, le=86_400)]
Waker = Callable[[], None]


class Collector(Protocol):
    name: str
    interval_s: float

    def collect(self, now_ms: int) -> list[Reading]:
        """Readings for this instant; raises CollectorError when the source fails."""
        ...

    def set_waker(self, waker: Waker) -> None:
        """The agent's hook: call it when there is something to send at once."""
        ...

    def close(self) -> None:
        """Release what it holds before another collector claims it."""
        ...

    def kept(self) -> dict[str, Any]:
        """What it must still know after the agent restarts (JSON; the BLE collector's
        encryption counters, so a replayed packet stays refused). edge/kept.py saves it."""
        ...

    def restore(self, kept: dict[str, Any]) -> None:
        """Take back what ``kept`` returned before the restart ({} forgets it)."""
        ...


class Stateless:
    """For collectors that need nothing kept across a restart."""

    def kept(self) -> dict[str, Any]:
        return {}

    def restore(self, kept: dict[str, Any]) -> None:
        """Nothing to take back."""


class PolledCollector(Stateless):
    """For collectors that are only polled and hold nothing between polls."""

    def set_waker(self, waker: Waker) -> None:
        """Only polled: nothing to wake the agent for."""

    def close(self) -> None:
        """Holds nothing."""
