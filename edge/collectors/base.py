"""What every collector is: a named source of readings, polled on an interval."""

from __future__ import annotations

from typing import Annotated, Protocol

import msgspec

from wire import Reading

IntervalS = Annotated[float, msgspec.Meta(ge=0.05, le=86_400)]


class Collector(Protocol):
    name: str
    interval_s: float

    def collect(self, now_ms: int) -> list[Reading]:
        """Readings for this instant; raises CollectorError when the source fails."""
        ...
