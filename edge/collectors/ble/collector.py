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

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from common.statelog import StateLog
from edge.clock import SYSTEM_CLOCK, Clock
from edge.collectors.ble.advertisement import (
    BUTTON_EVENTS,
    COUNTER,
    PACKET,
    Advertisement,
    DecodeError,
)
from edge.collectors.ble.config import BleConfig, BleDevice
from edge.collectors.ble.formats import FORMATS, TAG_FORMATS
from wire import Reading, now_ms

log = logging.getLogger(__name__)
# decoded names -> (quantity, unit)
_QUANTITIES = {
    "temperature": ("climate.temperature", "Cel"),
    "humidity": ("climate.humidity", "%"),
    "co2": ("climate.co2", "[ppm]"),
    "battery": ("battery.level", "%"),
    "voltage": ("battery.voltage", "V"),
    "opening": ("door.open", "1"),
    "door": ("door.open", "1"),
    "window": ("door.open", "1"),
    "motion": ("motion.detected", "1"),
    "occupancy": ("motion.detected", "1"),
}
_BATTERY_READERS = tuple(f.battery_v for f in FORMATS.values() if f.battery_v)
# states whose change is an event of its own, timestamped when heard
_EVENT_STATES = ("door.open", "motion.detected")


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
        self,
        config: BleConfig,
        device_id: str,
        source: AdvertisementSource | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._clock = clock
        self.name = config.name
        self.interval_s = config.interval_s
        self._config = config
        self._lock = threading.Lock()
        self._by_address = {d.address.upper(): d for d in config.devices if d.address}
        self._by_beacon = {d.beacon_id.lower(): d for d in config.devices if d.beacon_id}
        self._latest: dict[str, dict[str, float]] = {}
        self._states: dict[tuple[str, str], bool] = {}
        self._press_counts: dict[str, float] = {}
        self._counters: dict[str, float] = {}
        self._packets: dict[str, float] = {}
        self.replays = 0
        self._events: list[Reading] = []
        self._tags = {d.name: _Tag() for d in config.devices if FORMATS[d.format].is_tag}
        self._last_advertisement = self._clock.monotonic()
        self._log = StateLog(log)
        self._waker: Callable[[], None] | None = None
        self.restarts = 0
        self._source = source if source is not None else BleakSource(config.adapter)
        self._source.start(self.on_advertisement)

    def set_waker(self, waker: Callable[[], None]) -> None:
        """The agent's hook: events (a door, a button) are sent at once."""
        self._waker = waker

    def on_advertisement(self, advertisement: Advertisement) -> None:
        """Called on the scanner's thread for every advertisement heard."""
        self._last_advertisement = self._clock.monotonic()
        device = self._registered(advertisement)
        if device is None:
            return  # a passer-by
        with self._lock:
            events_before = len(self._events)
            if device.name in self._tags:
                self._heard_tag(device, advertisement)
            else:
                self._sensor(device, advertisement)
            woke = len(self._events) > events_before
        if woke and self._waker is not None:
            self._waker()

    def collect(self, now_ms_: int) -> list[Reading]:
        scanner_ok = self._check_stall()
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
        readings.append(Reading("ble.scanner_ok", scanner_ok, "1"))
        readings.append(Reading("ble.scanner_restarts", self.restarts, "1"))
        readings.append(Reading("ble.replays_refused", self.replays, "1"))
        return readings

    def close(self) -> None:
        self._source.stop()

    def kept(self) -> dict[str, Any]:
        """The last encryption counter and packet id of each sensor: a packet heard
        again after a restart is still a repeat, a replayed one still refused."""
        with self._lock:
            return {"counters": dict(self._counters), "packets": dict(self._packets)}

    def restore(self, kept: dict[str, Any]) -> None:
        known = {device.name for device in self._config.devices}
        with self._lock:
            for mine, key in ((self._counters, "counters"), (self._packets, "packets")):
                mine.clear()
                saved = kept.get(key)
                if isinstance(saved, dict):
                    mine.update({name: float(value) for name, value in saved.items()
                                 if name in known and isinstance(value, int | float)})  # fmt: skip

    def _registered(self, advertisement: Advertisement) -> BleDevice | None:
        device = self._by_address.get(advertisement.address.upper())
        if device is not None:
            return device
        for tag_format in TAG_FORMATS:
            beacon = tag_format.beacon_id(advertisement) if tag_format.beacon_id else None
            if beacon:
                return self._by_beacon.get(beacon.lower())
        return None

    def _sensor(self, device: BleDevice, advertisement: Advertisement) -> None:
        source = f"BLE sensor {device.name!r}"
        try:
            values = _decode(device, advertisement)
        except DecodeError as exc:
            self._log.failed(source, str(exc))
            return
        self._log.ok(source)
        if not self._fresh(device.name, values):
            return
        self._button(device.name, values)
        self._state_events(device.name, values)
        self._latest.setdefault(device.name, {}).update(values)

    def _fresh(self, name: str, values: dict[str, float]) -> bool:
        """False for a packet heard before (devices repeat each one several times: one
        press is one event) and for a replayed encrypted one (its counter did not
        increase), which is refused and counted."""
        counter, packet = values.pop(COUNTER, None), values.pop(PACKET, None)
        if counter is not None:
            last = self._counters.get(name)
            if last is not None and counter <= last:
                if counter < last:
                    self.replays += 1
                    self._log.failed(f"BLE sensor {name!r} counter",
                                     f"replayed or reset counter {counter:.0f} after "
                                     f"{last:.0f}; refused (after a battery change: "
                                     "fleet command <device> forget-kept)")  # fmt: skip
                return False
            self._counters[name] = counter
            return True
        if packet is not None:
            if self._packets.get(name) == packet:
                return False
            self._packets[name] = packet
        return True

    def _button(self, name: str, values: dict[str, float]) -> None:
        button = values.pop("button", None)
        count = values.pop("button_count", None)
        if count is not None:  # SwitchBot: a press counter; a change is a press
            previous = self._press_counts.get(name)
            self._press_counts[name] = count
            button = 1.0 if previous is not None and previous != count else None
        if button:
            long = BUTTON_EVENTS.get(int(button)) in ("long_press", "hold_press")
            quantity = "button.long_press" if long else "button.pressed"
            self._events.append(Reading(quantity, True, "1", sensor=name, ts=now_ms()))

    def _state_events(self, name: str, values: dict[str, float]) -> None:
        for key, value in values.items():
            quantity = _QUANTITIES.get(key, ("", ""))[0]
            if quantity not in _EVENT_STATES:
                continue
            state = bool(value)
            if self._states.get((name, quantity)) != state:
                self._states[(name, quantity)] = state
                self._events.append(Reading(quantity, state, "1", sensor=name, ts=now_ms()))

    def _heard_tag(self, device: BleDevice, advertisement: Advertisement) -> None:
        tag = self._tags[device.name]
        alpha = self._config.rssi_smoothing
        tag.rssi = (
            advertisement.rssi
            if tag.rssi is None
            else alpha * advertisement.rssi + (1 - alpha) * tag.rssi
        )
        tag.last_heard = self._clock.monotonic()
        # A tag may send its battery in frames of another format (iBeacon + Eddystone TLM).
        readings = (read(advertisement) for read in _BATTERY_READERS)
        battery = next((volts for volts in readings if volts is not None), None)
        if battery is not None:
            tag.battery_v = battery

    def _tag_readings(self) -> list[Reading]:
        readings = []
        for name, tag in self._tags.items():
            present = (
                tag.last_heard > 0
                and self._clock.monotonic() - tag.last_heard < self._config.absence_after_s
            )
            readings.append(Reading("tag.present", present, "1", sensor=name))
            if present and tag.rssi is not None:
                readings.append(Reading("tag.rssi", round(tag.rssi, 1), "dB[mW]", sensor=name))
            if present and tag.battery_v is not None:
                readings.append(Reading("battery.voltage", tag.battery_v, "V", sensor=name))
        return readings

    def _check_stall(self) -> bool:
        """True while the scanner hears; a silent one is restarted (no reboot needed)."""
        silent_s = self._clock.monotonic() - self._last_advertisement
        if silent_s < self._config.stall_after_s:
            self._log.ok("BLE scanner")
            return True
        error = getattr(self._source, "error", None)
        reason = f"heard nothing for {silent_s:.0f} s" + (f" ({error})" if error else "")
        self._log.failed("BLE scanner", f"{reason}; restarting it")
        self.restarts += 1
        self._source.stop()
        self._last_advertisement = self._clock.monotonic()
        self._source.start(self.on_advertisement)
        return False


def _decode(device: BleDevice, advertisement: Advertisement) -> dict[str, float]:
    decode = FORMATS[device.format].decode
    if decode is None:
        raise DecodeError(f"format {device.format} is a tag's, not a sensor's")
    return decode(advertisement, bytes.fromhex(device.bindkey) if device.bindkey else None)


def _typed(key: str, value: float) -> float | bool:
    return bool(value) if _QUANTITIES[key][1] == "1" else float(value)


def from_bleak(device: Any, data: Any) -> Advertisement:
    """bleak's (BLEDevice, AdvertisementData) -> the collector's Advertisement."""
    return Advertisement(
        device.address.upper(),
        data.rssi,
        dict(data.service_data),
        dict(data.manufacturer_data),
        data.local_name,
    )


def passive_patterns() -> list[Any]:
    from bleak.args.bluez import OrPattern  # noqa: PLC0415 - only a Pi with a radio
    from bleak.assigned_numbers import AdvertisementDataType as Ad  # noqa: PLC0415

    # What passive scanning on BlueZ lets through: the AD structures our formats use
    # (16-bit service data UUIDs and company ids, little-endian as on the air).
    formats = FORMATS.values()
    services = sorted({uuid for f in formats for uuid in f.service_uuids})
    companies = sorted({company for f in formats for company in f.manufacturers})
    return [
        OrPattern(0, Ad.SERVICE_DATA_UUID16, uuid.to_bytes(2, "little")) for uuid in services
    ] + [
        OrPattern(0, Ad.MANUFACTURER_SPECIFIC_DATA, company.to_bytes(2, "little"))
        for company in companies
    ]


class BleakSource:
    """Scans with bleak on its own thread and event loop: passive where BlueZ allows it
    (kernel 5.10+, bluetoothd with experimental features), otherwise active."""

    def __init__(self, adapter: str) -> None:
        self._adapter = adapter
        self._thread: threading.Thread | None = None
        self._stop: Any = None
        self._loop: Any = None
        self.error: str | None = None
        self.mode: str | None = None

    def start(self, callback: Callable[[Advertisement], None]) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(callback,), name="ble-scanner", daemon=True
        )
        self._thread.start()

    def _run(self, callback: Callable[[Advertisement], None]) -> None:
        import asyncio  # noqa: PLC0415

        try:
            asyncio.run(self._scan(callback))
        except Exception as exc:  # noqa: BLE001 - reported through the collector's stall check
            self.error = f"{type(exc).__name__}: {exc}"

    async def _scan(self, callback: Callable[[Advertisement], None]) -> None:
        import asyncio  # noqa: PLC0415

        from bleak import BleakScanner  # noqa: PLC0415

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        def on_detect(device: Any, data: Any) -> None:
            callback(from_bleak(device, data))

        try:
            scanner = BleakScanner(
                on_detect,
                scanning_mode="passive",
                bluez={"adapter": self._adapter, "or_patterns": passive_patterns()},
            )
            await scanner.start()
            self.mode = "passive"
        except Exception:  # noqa: BLE001 - BlueZ without passive scanning
            scanner = BleakScanner(on_detect, bluez={"adapter": self._adapter})
            await scanner.start()
            self.mode = "active"
        self.error = None
        await self._stop.wait()
        await scanner.stop()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended (no adapter)
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
