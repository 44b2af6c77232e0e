"""Quantities the rules may use that no sensor sends: computed from readings that arrive
together. ``climate.wbgt`` is the indoor heat index (WBGT, 暑さ指数) from a room's
temperature and humidity, by the Ministry of the Environment's estimate for indoor air
(no sun, no wind): WBGT = 0.735 Ta + 0.0374 RH + 0.00292 Ta RH - 4.064."""

from __future__ import annotations

from collections.abc import Iterable

from alerts.engine_types import Observation

DERIVED = frozenset({"climate.wbgt"})


def wbgt(temperature: float, humidity: float) -> float:
    return round(
        0.735 * temperature + 0.0374 * humidity + 0.00292 * temperature * humidity - 4.064, 1
    )


def with_derived(readings: Iterable[Observation]) -> list[Observation]:
    """The readings, plus a WBGT for each sensor and time with temperature and humidity."""
    found = list(readings)
    climate: dict[tuple[str, int], dict[str, float]] = {}
    for reading in found:
        if reading.quantity in ("climate.temperature", "climate.humidity"):
            climate.setdefault((reading.sensor, reading.ts), {})[reading.quantity] = float(
                reading.value
            )
    for (sensor, ts), values in climate.items():
        if len(values) == 2:
            index = wbgt(values["climate.temperature"], values["climate.humidity"])
            found.append(Observation("climate.wbgt", index, sensor, ts))
    return found
