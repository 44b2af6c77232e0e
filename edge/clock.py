"""The agent's sense of time, injected: a monotonic clock and "call this later".
Collectors and the sender take one, so tests move time on instead of sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def call_later(self, delay_s: float, action: Callable[[], None]) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def call_later(self, delay_s: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(delay_s, action)
        timer.daemon = True
        timer.start()


SYSTEM_CLOCK = SystemClock()
