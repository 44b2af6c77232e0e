"""The catalogue of quantities a reading may carry, each with its one unit.

A reading names a quantity (``climate.temperature``) and states its unit (``Cel``); the
decoder refuses a unit that differs from the catalogue's, so a Fahrenheit value can
never be stored as Celsius. The catalogue also fixes where a quantity is stored: the
InfluxDB measurement and field, the field type, and the trust zone (see
docs/influxdb-schema.md, which a test keeps in step with this table).

Units follow UCUM codes where one exists (``Cel``, ``%``, ``W``, ``kW.h``, ``ms``).
"""

from __future__ import annotations

import enum
from typing import NamedTuple

from wire.topics import Kind


class Zone(enum.Enum):
    """The three trust zones; each has its own database (v1) or bucket (v2)."""

    WATCH_OVER = "watch-over"
    FACILITY = "facility"
    OPERATIONS = "operations"


_EVENT_MEASUREMENTS = frozenset({"door", "motion", "button"})
_HEALTH_MEASUREMENTS = frozenset({"system", "agent", "ble"})


class ValueType(enum.Enum):
    FLOAT = "float"
    INT = "int"
    BOOL = "bool"


class Quantity(NamedTuple):
    name: str
    unit: str
    type: ValueType
    # None: the zone of the site the device belongs to (a home's room temperature is
    # watch-over data, a library's is facility data).
    zone: Zone | None
    description: str
    # The physically possible range; anything outside is a broken sensor or a unit
    # mistake, refused at the contract so no service has to cope with 1e308 °C.
    low: float = -1e15
    high: float = 1e15

    @property
    def topic_kind(self) -> Kind:
        """Device health goes to the health topic, state changes to the event topic
        (so they can overtake a backlog), everything else to telemetry."""
        if self.measurement in _EVENT_MEASUREMENTS:
            return Kind.EVENT
        return Kind.HEALTH if self.measurement in _HEALTH_MEASUREMENTS else Kind.TELEMETRY

    @property
    def measurement(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.name.split(".", 1)[1]


def _q(name: str, unit: str, type_: ValueType, zone: Zone | None, description: str) -> Quantity:
    low, high = _RANGES.get(name, (0.0 if type_ is ValueType.INT else -1e15, 1e15))
    return Quantity(name, unit, type_, zone, description, low, high)


_PERCENT = (0.0, 100.0)
# dBm: receivers, noise floors. Some drivers print the signal without its sign
# ("signal: 36 dBm", recorded from a LEDE station): that is kept, not refused.
_SIGNAL = (-200.0, 100.0)
_DURATION_MS = (0.0, 3_600_000.0)
# Per quantity (low, high), inclusive. Integers without an entry are counts (>= 0).
_RANGES: dict[str, tuple[float, float]] = {
    "system.cpu_percent": _PERCENT,
    "system.load1": (0.0, 10_000.0),
    "system.mem_used_percent": _PERCENT,
    "system.disk_used_percent": _PERCENT,
    "system.cpu_temperature": (-60.0, 150.0),
    "agent.outbox_oldest_age": (0.0, 1e10),
    "wifi.rssi": _SIGNAL,
    "wifi.noise": _SIGNAL,
    "wifi.client_signal": _SIGNAL,
    "tag.rssi": _SIGNAL,
    "wifi.tx_bitrate": (0.0, 100_000.0),
    "wifi.latency": _DURATION_MS,
    "wifi.jitter": _DURATION_MS,
    "wifi.dns_time": _DURATION_MS,
    "wifi.http_time": _DURATION_MS,
    "wifi.loss": _PERCENT,
    "wifi.channel_busy": _PERCENT,
    "wifi.randomized_share": _PERCENT,
    # Indoor air: a Hokkaido room without heating, a sauna at most.
    "climate.temperature": (-50.0, 100.0),
    "climate.humidity": _PERCENT,
    "climate.co2": (0.0, 100_000.0),
    "battery.level": _PERCENT,
    "battery.voltage": (0.0, 100.0),
    "energy.power": (-1e8, 1e8),
    "energy.energy": (0.0, 1e12),
    "energy.voltage": (0.0, 1_000_000.0),
    "energy.current": (-1e6, 1e6),
    "energy.frequency": (0.0, 1000.0),
}


FLT, INT, BOOL = ValueType.FLOAT, ValueType.INT, ValueType.BOOL
OPS, FAC, SITE = Zone.OPERATIONS, Zone.FACILITY, None

CATALOGUE: dict[str, Quantity] = {
    q.name: q
    for q in (
        # Device health (operations zone).
        _q("system.cpu_percent", "%", FLT, OPS, "CPU use over the collection interval"),
        _q("system.load1", "1", FLT, OPS, "1-minute load average"),
        _q("system.mem_used_percent", "%", FLT, OPS, "memory in use"),
        _q("system.disk_used_percent", "%", FLT, OPS, "root file system in use"),
        _q("system.cpu_temperature", "Cel", FLT, OPS, "SoC temperature"),
        _q("system.uptime", "s", INT, OPS, "time since boot"),
        _q("system.clock_synced", "1", BOOL, OPS, "kernel clock synchronised (NTP)"),
        _q("system.throttled", "1", BOOL, OPS, "SoC throttled or frequency capped now"),
        _q("system.under_voltage", "1", BOOL, OPS, "supply under-voltage now (Raspberry Pi)"),
        # The agent itself (operations zone).
        _q("agent.outbox_depth", "1", INT, OPS, "messages stored and not yet acknowledged"),
        _q("agent.outbox_oldest_age", "s", FLT, OPS, "age of the oldest stored message"),
        _q("agent.evicted", "1", INT, OPS, "messages evicted from the full outbox, in all"),
        _q("agent.refused", "1", INT, OPS, "messages the broker refused, since start"),
        _q("agent.reconnects", "1", INT, OPS, "connections to the broker, since start"),
        _q("agent.config_version", "1", INT, OPS, "desired-config version running (0: file)"),
        _q("agent.uptime", "s", INT, OPS, "time since the agent started"),
        # Public Wi-Fi (facility zone).
        _q("wifi.rssi", "dB[mW]", FLT, FAC, "signal strength of the probe's link"),
        _q("wifi.tx_bitrate", "Mbit/s", FLT, FAC, "link bit rate"),
        _q("wifi.clients", "1", INT, FAC, "associated clients"),
        _q("wifi.latency", "ms", FLT, FAC, "round-trip time of the active probe"),
        _q("wifi.jitter", "ms", FLT, FAC, "round-trip time variation"),
        _q("wifi.loss", "%", FLT, FAC, "probe packets lost"),
        _q("wifi.dns_time", "ms", FLT, FAC, "DNS resolution time"),
        _q("wifi.channel_busy", "%", FLT, FAC, "share of time the channel was busy"),
        _q("wifi.noise", "dB[mW]", FLT, FAC, "noise floor of the channel in use"),
        _q("wifi.associated", "1", BOOL, FAC, "the probe is associated with the site's Wi-Fi"),
        _q("wifi.ap_up", "1", BOOL, FAC, "the access point is enabled (hostapd)"),
        _q("wifi.client_signal", "dB[mW]", FLT, FAC, "mean signal of associated clients"),
        _q("wifi.unique_clients_today", "1", INT, FAC, "distinct clients since local midnight"),
        _q("wifi.randomized_share", "%", FLT, FAC, "clients using randomised MAC addresses"),
        _q("wifi.rogue_aps", "1", INT, FAC, "the site's SSID heard from an unknown BSSID"),
        _q("wifi.http_time", "ms", FLT, FAC, "time to fetch the probe URL"),
        _q("wifi.internet_ok", "1", BOOL, FAC, "the probe URL answered as expected"),
        _q("wifi.captive_portal", "1", BOOL, FAC, "a portal intercepted the probe URL"),
        # Rooms and residents (the site's zone).
        _q("climate.temperature", "Cel", FLT, SITE, "room temperature"),
        _q("climate.humidity", "%", FLT, SITE, "relative humidity"),
        _q("climate.co2", "[ppm]", FLT, SITE, "carbon dioxide"),
        _q("battery.level", "%", FLT, SITE, "sensor battery"),
        _q("battery.voltage", "V", FLT, SITE, "sensor or tag battery voltage"),
        _q("door.open", "1", BOOL, SITE, "door or contact open"),
        _q("motion.detected", "1", BOOL, SITE, "motion seen by a PIR sensor"),
        _q("button.pressed", "1", BOOL, SITE, "call button pressed"),
        _q("button.long_press", "1", BOOL, SITE, "call button held: help requested"),
        _q("tag.present", "1", BOOL, SITE, "a resident's BLE tag heard recently"),
        _q("tag.rssi", "dB[mW]", FLT, SITE, "smoothed signal of a resident's tag"),
        _q("ble.scanner_ok", "1", BOOL, OPS, "the BLE scanner hears advertisements"),
        _q("ble.scanner_restarts", "1", INT, OPS, "BLE scanner restarts since the agent started"),
        _q("ble.replays_refused", "1", INT, OPS, "BLE packets refused: replayed counters"),
        # Energy meters (facility zone).
        _q("energy.power", "W", FLT, FAC, "active power"),
        _q("energy.energy", "kW.h", FLT, FAC, "active energy import, meter total"),
        _q("energy.voltage", "V", FLT, FAC, "line voltage"),
        _q("energy.current", "A", FLT, FAC, "line current"),
        _q("energy.frequency", "Hz", FLT, FAC, "line frequency"),
        # Modbus units (facility zone).
        _q("modbus.unit_up", "1", BOOL, FAC, "the unit answered this round"),
        _q("modbus.errors", "1", INT, FAC, "failed reads of the unit since start"),
    )
}
