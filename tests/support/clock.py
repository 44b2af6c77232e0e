"""A clock tests move on by hand (edge.clock.Clock): no sleeping, no waiting."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable


class FakeClock:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    def call_later(self, delay_s: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._due, (self.now + delay_s, next(self._order), action))

    def advance(self, seconds: float) -> None:
        """Move time on, running what falls due on the way, in order."""
        end = self.now + seconds
        while self._due and self._due[0][0] <= end:
            due, _, action = heapq.heappop(self._due)
            self.now = max(self.now, due)
            action()
        self.now = end
