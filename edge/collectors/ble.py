"""BLE sensors and tags in a watch-over home: room climate, doors, motion, buttons, and
the tags residents carry.

Only devices registered in the config are published, under their configured names;
passers-by are ignored and no MAC address leaves the device. Repeated advertisements
collapse: each poll publishes the latest values once. Tags are present while heard
within ``absence_after_s`` (RSSI smoothed); a silent scanner is restarted.

The radio sits behind ``AdvertisementSource``: bleak on a Pi, recorded advertisements
in tests and the demo.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal, Protocol

import msgspec

from edge.collectors.base import IntervalS
from edge.collectors.ble_formats import (
    BUTTON_EVENTS,
    Advertisement,
    DecodeError,
    decode_atc,
    decode_bthome,
    eddystone,
    ibeacon_id,
)
from wire import Reading, now_ms
from wire.payloads import SensorId

log = logging.getLogger(__name__)
Mac = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")]
# BTHome names -> (quantity, unit)
_QUANTITIES = {
    "temperature": ("climate.temperature", "Cel"),
    "humidity": ("climate.humidity", "%"),
    "co2": ("climate.co2", "[ppm]"),
    "battery": ("battery.level", "%"),
    "opening": ("door.open", "1"),
    "door": ("door.open", "1"),
    "window": ("door.open", "1"),
    "motion": ("motion.detected", "1"),
    "occupancy": ("motion.detected", "1"),
}


class BleDevice(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: SensorId
    format: Literal["bthome", "atc", "ibeacon", "eddystone"]
    address: Mac | None = None  # sensors: their MAC (kept on the Pi only)
    bindkey: Annotated[str, msgspec.Meta(pattern=r"^[0-9a-fA-F]{32}$")] | None = None
    beacon_id: str | None = None  # tags: iBeacon uuid-major-minor or Eddystone namespace-instance


class BleConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["ble"]
    devices: Annotated[list[BleDevice], msgspec.Meta(min_length=1)]
    name: str = "ble"
    interval_s: IntervalS = 30.0
    absence_after_s: Annotated[float, msgspec.Meta(ge=10)] = 300.0
    stall_after_s: Annotated[float, msgspec.Meta(ge=10)] = 120.0
    rssi_smoothing: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.3
    adapter: str = "hci0"


class AdvertisementSource(Protocol):
    def start(self, callback: Callable[[Advertisement], None]) -> None: ...

    def stop(self) -> None: ...


class _Tag:
    def __init__(self) -> None:
        self.rssi: float | None = None
        self.last_heard = 0.0
        self.battery_v: float | None = None


class BleCollector:
    def __init__(
        self, config: BleConfig, device_id: str, source: AdvertisementSource | None = None
    ) -> None:
        self.name = config.name
        self.interval_s = config.interval_s
        self._config = config
        self._lock = threading.Lock()
        self._by_address = {d.address.upper(): d for d in config.devices if d.address}
        self._by_beacon = {d.beacon_id.lower(): d for d in config.devices if d.beacon_id}
        self._latest: dict[str, dict[str, float]] = {}
        self._events: list[Reading] = []
        self._tags = {
            d.name: _Tag() for d in config.devices if d.format in ("ibeacon", "eddystone")
        }
        self._last_advertisement = time.monotonic()
        self._rejected: set[str] = set()
        self.restarts = 0
        self._source = source if source is not None else BleakSource(config.adapter)
        self._source.start(self.on_advertisement)

    def on_advertisement(self, advertisement: Advertisement) -> None:
        """Called on the scanner's thread for every advertisement heard."""
        self._last_advertisement = time.monotonic()
        device = self._registered(advertisement)
        if device is None:
            return  # a passer-by
        with self._lock:
            if device.name in self._tags:
                self._heard_tag(device, advertisement)
            else:
                self._sensor(device, advertisement)

    def collect(self, now_ms_: int) -> list[Reading]:
        self._check_stall()
        with self._lock:
            readings, self._events = self._events, []
            for name, values in self._latest.items():
                readings += [
                    Reading(
                        _QUANTITIES[key][0], _typed(key, value), _QUANTITIES[key][1], sensor=name
                    )
                    for key, value in values.items()
                    if key in _QUANTITIES
                ]
            self._latest.clear()
            readings += self._tag_readings()
        return readings

    def close(self) -> None:
        self._source.stop()

    def _registered(self, advertisement: Advertisement) -> BleDevice | None:
        device = self._by_address.get(advertisement.address.upper())
        if device is not None:
            return device
        beacon = ibeacon_id(advertisement) or eddystone(advertisement)[0]
        return self._by_beacon.get(beacon.lower()) if beacon else None

    def _sensor(self, device: BleDevice, advertisement: Advertisement) -> None:
        try:
            if device.format == "bthome":
                key = bytes.fromhex(device.bindkey) if device.bindkey else None
                values = decode_bthome(advertisement, key)
            else:
                values = decode_atc(advertisement)
        except DecodeError as exc:
            if device.name not in self._rejected:  # once, not for every advertisement
                self._rejected.add(device.name)
                log.warning("BLE %s: %s", device.name, exc)
            return
        self._rejected.discard(device.name)
        button = values.pop("button", None)
        if button:
            quantity = (
                "button.long_press"
                if BUTTON_EVENTS.get(int(button)) in ("long_press", "hold_press")
                else "button.pressed"
            )
            self._events.append(Reading(quantity, True, "1", sensor=device.name, ts=now_ms()))
        self._latest[device.name] = values

    def _heard_tag(self, device: BleDevice, advertisement: Advertisement) -> None:
        tag = self._tags[device.name]
        alpha = self._config.rssi_smoothing
        tag.rssi = (
            advertisement.rssi
            if tag.rssi is None
            else alpha * advertisement.rssi + (1 - alpha) * tag.rssi
        )
        tag.last_heard = time.monotonic()
        battery = eddystone(advertisement)[1]
        if battery is not None:
            tag.battery_v = battery

    def _tag_readings(self) -> list[Reading]:
        readings = []
        for name, tag in self._tags.items():
            present = (
                tag.last_heard > 0
                and time.monotonic() - tag.last_heard < self._config.absence_after_s
            )
            readings.append(Reading("tag.present", present, "1", sensor=name))
            if present and tag.rssi is not None:
                readings.append(Reading("tag.rssi", round(tag.rssi, 1), "dB[mW]", sensor=name))
        return readings

    def _check_stall(self) -> None:
        if time.monotonic() - self._last_advertisement < self._config.stall_after_s:
            return
        log.warning(
            "BLE scanner heard nothing for %.0f s; restarting it", self._config.stall_after_s
        )
        self.restarts += 1
        self._source.stop()
        self._last_advertisement = time.monotonic()
        self._source.start(self.on_advertisement)


def _typed(key: str, value: float) -> float | bool:
    return bool(value) if _QUANTITIES[key][1] == "1" else float(value)


class BleakSource:
    """Passive scanning with bleak (active where BlueZ offers no passive mode)."""

    def __init__(self, adapter: str) -> None:
        self._adapter = adapter
        self._thread: threading.Thread | None = None
        self._stop: Any = None
        self._loop: Any = None

    def start(self, callback: Callable[[Advertisement], None]) -> None:
        import asyncio  # noqa: PLC0415 - only a Pi with a radio needs these

        from bleak import BleakScanner  # noqa: PLC0415

        def on_detect(device: Any, data: Any) -> None:
            callback(
                Advertisement(
                    device.address,
                    data.rssi,
                    dict(data.service_data),
                    dict(data.manufacturer_data),
                    data.local_name,
                )
            )

        async def scan() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            scanner = BleakScanner(on_detect, adapter=self._adapter)
            await scanner.start()
            await self._stop.wait()
            await scanner.stop()

        self._thread = threading.Thread(target=asyncio.run, args=(scan(),), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
