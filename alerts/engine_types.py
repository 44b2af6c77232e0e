"""What the engine reads."""

from __future__ import annotations


class Observation:
    """One reading as the engine needs it."""

    __slots__ = ("quantity", "sensor", "ts", "value")

    def __init__(self, quantity: str, value: float | bool, sensor: str, ts: int) -> None:
        self.quantity, self.value, self.sensor, self.ts = quantity, value, sensor, ts
