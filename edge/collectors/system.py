"""The Pi's own health: CPU, load, memory, disk, SoC temperature, uptime, clock sync."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Literal

import msgspec
import psutil

from edge.collectors.base import IntervalS
from wire import Reading

# adjtimex(2) returns TIME_ERROR while the kernel clock is not synchronised; this is
# what timedatectl's NTPSynchronized reports, read without privileges.
_TIME_ERROR = 5
_THERMAL = Path("/sys/class/thermal")
_CPU_ZONE_TYPES = ("cpu-thermal", "cpu_thermal", "soc_thermal", "x86_pkg_temp")
# The Raspberry Pi firmware's throttle flags, as `vcgencmd get_throttled` prints them.
_THROTTLED_SYSFS = Path("/sys/devices/platform/soc/soc:firmware/get_throttled")
_UNDER_VOLTAGE_NOW = 1 << 0
_FREQ_CAPPED_NOW = 1 << 1
_THROTTLED_NOW = 1 << 2


class SystemConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["system"]
    name: str = "system"
    interval_s: IntervalS = 60.0
    disk_path: str = "/"


class SystemCollector:
    def __init__(self, config: SystemConfig, device_id: str) -> None:
        self.name = config.name
        self.interval_s = config.interval_s
        self._disk_path = config.disk_path
        self._thermal_file = _find_cpu_thermal_zone()
        psutil.cpu_percent(interval=None)  # the first call only sets the baseline

    def collect(self, now_ms: int) -> list[Reading]:
        readings = [
            Reading("system.cpu_percent", float(psutil.cpu_percent(interval=None)), "%"),
            Reading("system.load1", round(os.getloadavg()[0], 2), "1"),
            Reading("system.mem_used_percent", float(psutil.virtual_memory().percent), "%"),
            Reading(
                "system.disk_used_percent", float(psutil.disk_usage(self._disk_path).percent), "%"
            ),
            Reading("system.uptime", int(time.time() - psutil.boot_time()), "s"),
        ]
        temperature = self._cpu_temperature()
        if temperature is not None:
            readings.append(Reading("system.cpu_temperature", temperature, "Cel"))
        readings += throttling_readings(read_throttled())
        synced = clock_synchronised()
        if synced is not None:
            readings.append(Reading("system.clock_synced", synced, "1"))
        return readings

    def _cpu_temperature(self) -> float | None:
        if self._thermal_file is None:
            return None
        try:
            return int(self._thermal_file.read_text()) / 1000.0
        except (OSError, ValueError):
            return None


def _find_cpu_thermal_zone() -> Path | None:
    """The SoC's thermal zone; boards without one (most VMs) report no temperature."""
    zones = sorted(_THERMAL.glob("thermal_zone*")) if _THERMAL.is_dir() else []
    for zone in zones:
        try:
            kind = (zone / "type").read_text().strip()
        except OSError:
            continue
        if kind in _CPU_ZONE_TYPES:
            return zone / "temp"
    return zones[0] / "temp" if zones else None


def read_throttled() -> int | None:
    """The firmware's throttle flags: sysfs (kernel 5.x+), else `vcgencmd`; None off a Pi."""
    try:
        return int(_THROTTLED_SYSFS.read_text().strip(), 16)
    except (OSError, ValueError):
        pass
    if shutil.which("vcgencmd") is None:
        return None
    try:
        output = subprocess.run(
            ["vcgencmd", "get_throttled"], capture_output=True, text=True, timeout=2, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return parse_get_throttled(output)


def parse_get_throttled(output: str) -> int | None:
    """``throttled=0x50005`` -> 0x50005."""
    _, sep, value = output.strip().partition("=")
    try:
        return int(value, 16) if sep else None
    except ValueError:
        return None


def throttling_readings(flags: int | None) -> list[Reading]:
    if flags is None:
        return []
    throttled = bool(flags & (_THROTTLED_NOW | _FREQ_CAPPED_NOW))
    return [
        Reading("system.throttled", throttled, "1"),
        Reading("system.under_voltage", bool(flags & _UNDER_VOLTAGE_NOW), "1"),
    ]


def clock_synchronised() -> bool | None:
    """Whether the kernel clock is NTP-synchronised, or None where it cannot be asked."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    if not hasattr(libc, "adjtimex"):
        return None
    # struct timex is about 208 bytes; modes = 0 (the first field) only reads.
    buffer = ctypes.create_string_buffer(512)
    state = libc.adjtimex(buffer)
    if state < 0:
        return None
    return bool(state != _TIME_ERROR)
