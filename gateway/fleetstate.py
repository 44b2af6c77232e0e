"""A device's state as people read it, from its registry record and the clock."""

from __future__ import annotations

import enum

from gateway.registry_db import DeviceRecord


class DeviceState(enum.Enum):
    ONLINE = "online"
    # Says it is online, but nothing arrived within the heartbeat timeout: a hung agent,
    # a dead link the broker has not noticed yet, a power cut without a last will.
    SILENT = "silent"
    OFFLINE = "offline"
    NEVER_SEEN = "never-seen"
    # Seen on the broker, not listed in firmware-config; its readings are not stored.
    UNKNOWN = "unknown"


def state_of(record: DeviceRecord, now_ms: int, offline_after_s: float) -> DeviceState:
    if not record.listed:
        return DeviceState.UNKNOWN
    if record.status == "offline":
        return DeviceState.OFFLINE
    heard = max(record.last_seen_ms or 0, record.status_ts_ms or 0)
    if heard == 0:
        return DeviceState.NEVER_SEEN
    if now_ms - heard > offline_after_s * 1000:
        return DeviceState.SILENT
    return DeviceState.ONLINE


def agent_version(agent: str) -> str:
    """``civic-iot-edge/0.3.0`` -> ``0.3.0``; anything else as it is."""
    return agent.rpartition("/")[2] if "/" in agent else agent


def health_problems(record: DeviceRecord) -> list[str]:
    """The health readings that need someone's attention, in words."""
    health = record.health
    problems = []
    checks = (
        ("system.disk_used_percent", lambda v: v >= 90, "disk {:.0f}%"),
        ("system.mem_used_percent", lambda v: v >= 95, "memory {:.0f}%"),
        ("system.cpu_temperature", lambda v: v >= 80, "CPU {:.0f}°C"),
        ("system.under_voltage", bool, "under-voltage"),
        ("system.throttled", bool, "throttled"),
        ("system.clock_synced", lambda v: not v, "clock not synced"),
        ("agent.outbox_depth", lambda v: v >= 1000, "outbox {:.0f}"),
        ("ble.scanner_ok", lambda v: not v, "BLE scanner down"),
    )
    for quantity, bad, text in checks:
        value = health.get(quantity)
        if value is not None and bad(value):
            problems.append(text.format(value))
    return problems
