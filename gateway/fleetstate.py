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


_CHECKS = (  # quantity, when it needs attention, English, Japanese
    ("system.disk_used_percent", lambda v: v >= 90, "disk {:.0f}%", "ディスク {:.0f}%"),
    ("system.mem_used_percent", lambda v: v >= 95, "memory {:.0f}%", "メモリ {:.0f}%"),
    ("system.cpu_temperature", lambda v: v >= 80, "CPU {:.0f}°C", "CPU {:.0f}℃"),
    ("system.under_voltage", bool, "under-voltage", "電圧低下"),
    ("system.throttled", bool, "throttled", "速度制限中"),
    ("system.clock_synced", lambda v: not v, "clock not synced", "時刻が未同期"),
    ("agent.outbox_depth", lambda v: v >= 1000, "outbox {:.0f}", "未送信 {:.0f} 件"),
    ("ble.scanner_ok", lambda v: not v, "BLE scanner down", "BLE受信が停止"),
)


def health_problems(record: DeviceRecord, lang: str = "en") -> list[str]:
    """The health readings that need someone's attention, in words (``lang``: en, ja)."""
    problems = []
    for quantity, bad, english, japanese in _CHECKS:
        value = record.health.get(quantity)
        if value is not None and bad(value):
            problems.append((japanese if lang == "ja" else english).format(value))
    return problems
