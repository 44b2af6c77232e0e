"""Plausible readings of every kind civic-iot carries, for demos and load tests.

The shapes follow an Abashiri winter: heated rooms around 20-22 C by day that cool at
night, a resident who is up from about 6:30 to 22:00, a facility whose Wi-Fi fills up
during opening hours, a 100 V meter. Local time comes from ``timezone``. A fixed
``seed`` makes a run repeatable; by default each device gets its own stream.
"""

from __future__ import annotations

import math
import random
import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

from edge.collectors.base import PolledCollector
from edge.collectors.simulated.config import SimulatedConfig
from wire import Reading


class SimulatedCollector(PolledCollector):
    def __init__(self, config: SimulatedConfig, device_id: str) -> None:
        self.name = config.name
        self.interval_s = config.interval_s
        self._config = config
        seed = config.seed if config.seed is not None else zlib.crc32(device_id.encode())
        self._rng = random.Random(seed)
        self._zone = ZoneInfo(config.timezone)
        self._room_offset = {room: self._rng.uniform(-1.5, 1.0) for room in config.rooms}
        self._battery = {room: self._rng.uniform(60.0, 100.0) for room in config.rooms}
        self._door_open = False
        self._motion = False
        self._energy_kwh = self._rng.uniform(1_000.0, 50_000.0)
        self._last_ms: int | None = None

    def collect(self, now_ms: int) -> list[Reading]:
        hour = self._local_hour(now_ms)
        elapsed_s = 0.0 if self._last_ms is None else max(0.0, (now_ms - self._last_ms) / 1000)
        self._last_ms = now_ms
        readings: list[Reading] = []
        for kind in self._config.kinds:
            if kind == "wifi":
                readings += self._wifi(hour)
            elif kind == "climate":
                readings += self._climate(hour)
            elif kind == "door":
                readings += self._door(hour)
            elif kind == "motion":
                readings += self._motion_reading(hour)
            else:
                readings += self._energy(hour, elapsed_s)
        return readings

    def _local_hour(self, now_ms: int) -> float:
        local = datetime.fromtimestamp(now_ms / 1000, tz=self._zone)
        return local.hour + local.minute / 60

    def _wifi(self, hour: float) -> list[Reading]:
        rng = self._rng
        busy = _opening_hours_load(hour)
        clients = max(0, round(busy * 28 + rng.gauss(0, 2)))
        loss = 0.0 if rng.random() < 0.9 else round(rng.uniform(0.5, 5.0), 1)
        return [
            Reading("wifi.rssi", round(rng.gauss(-58, 3), 1), "dB[mW]"),
            Reading("wifi.tx_bitrate", rng.choice([72.2, 144.4, 433.3]), "Mbit/s"),
            Reading("wifi.clients", clients, "1"),
            Reading("wifi.latency", round(rng.lognormvariate(2.1, 0.35), 2), "ms"),
            Reading("wifi.jitter", round(abs(rng.gauss(1.5, 1.0)), 2), "ms"),
            Reading("wifi.loss", loss, "%"),
            Reading("wifi.dns_time", round(rng.lognormvariate(2.7, 0.4), 2), "ms"),
            Reading("wifi.channel_busy", round(_clamp(8 + busy * 45 + rng.gauss(0, 4)), 1), "%"),
        ]

    def _climate(self, hour: float) -> list[Reading]:
        rng = self._rng
        # Heating follows the resident's day: warmest mid-afternoon, coolest before dawn.
        base = 19.5 + 2.0 * math.sin((hour - 9) / 24 * 2 * math.pi)
        readings = []
        for room, offset in self._room_offset.items():
            self._battery[room] = max(0.0, self._battery[room] - rng.uniform(0, 0.002))
            readings += [
                Reading(
                    "climate.temperature",
                    round(base + offset + rng.gauss(0, 0.2), 2),
                    "Cel",
                    sensor=room,
                ),
                Reading("climate.humidity", round(38 + rng.gauss(0, 3), 1), "%", sensor=room),
                Reading("battery.level", round(self._battery[room], 1), "%", sensor=room),
            ]
        return readings

    def _door(self, hour: float) -> list[Reading]:
        if not self._changes(hour):
            return []
        self._door_open = not self._door_open
        return [Reading("door.open", self._door_open, "1", sensor="entrance")]

    def _motion_reading(self, hour: float) -> list[Reading]:
        if not self._changes(hour):
            return []
        self._motion = not self._motion
        return [Reading("motion.detected", self._motion, "1", sensor=self._config.rooms[0])]

    def _energy(self, hour: float, elapsed_s: float) -> list[Reading]:
        rng = self._rng
        power = max(150.0, 400 + _opening_hours_load(hour) * 2600 + rng.gauss(0, 120))
        voltage = rng.gauss(101.0, 0.8)
        self._energy_kwh += power * elapsed_s / 3_600_000
        return [
            Reading("energy.power", round(power, 1), "W", sensor="main-meter"),
            Reading("energy.energy", round(self._energy_kwh, 3), "kW.h", sensor="main-meter"),
            Reading("energy.voltage", round(voltage, 1), "V", sensor="main-meter"),
            Reading("energy.current", round(power / voltage, 2), "A", sensor="main-meter"),
        ]

    def _changes(self, hour: float) -> bool:
        rate = self._config.event_rate
        awake = 6.5 <= hour < 22.0
        return self._rng.random() < (rate if awake or rate >= 1.0 else rate / 5)


def _clamp(percent: float, low: float = 0.0, high: float = 95.0) -> float:
    return min(high, max(low, percent))


def _opening_hours_load(hour: float) -> float:
    """0 when a facility is closed, up to 1 at its busiest (around 14:00)."""
    if not 9.0 <= hour < 21.0:
        return 0.02
    return 0.25 + 0.75 * math.sin((hour - 9) / 12 * math.pi)
