"""The Pi's own health: CPU, load, memory, disk, SoC temperature, uptime, clock sync.

Read straight from /proc and sysfs (the agent runs on Linux only): psutil would cost
the Pi more memory than the rest of this collector.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

from edge.collectors.base import PolledCollector
from edge.collectors.system.config import SystemConfig
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


class SystemCollector(PolledCollector):
    def __init__(self, config: SystemConfig, device_id: str) -> None:
        self.name = config.name
        self.interval_s = config.interval_s
        self._disk_path = config.disk_path
        self._thermal_file = _find_cpu_thermal_zone()
        self._cpu = _cpu_times()  # the first reading needs a baseline

    def collect(self, now_ms: int) -> list[Reading]:
        readings = [
            Reading("system.cpu_percent", self._cpu_percent(), "%"),
            Reading("system.load1", round(os.getloadavg()[0], 2), "1"),
            Reading("system.mem_used_percent", memory_used_percent(), "%"),
            Reading("system.disk_used_percent", disk_used_percent(self._disk_path), "%"),
            Reading("system.uptime", int(float(Path("/proc/uptime").read_text().split()[0])), "s"),
        ]
        temperature = self._cpu_temperature()
        if temperature is not None:
            readings.append(Reading("system.cpu_temperature", temperature, "Cel"))
        readings += throttling_readings(read_throttled())
        synced = clock_synchronised()
        if synced is not None:
            readings.append(Reading("system.clock_synced", synced, "1"))
        return readings

    def _cpu_percent(self) -> float:
        (idle_before, total_before), self._cpu = self._cpu, _cpu_times()
        total = self._cpu[1] - total_before
        return round(100.0 * (1 - (self._cpu[0] - idle_before) / total), 1) if total > 0 else 0.0

    def _cpu_temperature(self) -> float | None:
        if self._thermal_file is None:
            return None
        try:
            return int(self._thermal_file.read_text()) / 1000.0
        except (OSError, ValueError):
            return None


def _cpu_times() -> tuple[int, int]:
    """(idle, total) jiffies since boot, from the first line of /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait; guest is counted in user


def memory_used_percent() -> float:
    """Like `free`: the share of memory not available to new programs."""
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        info[key] = int(value.split()[0])
    return round(100.0 * (1 - info["MemAvailable"] / info["MemTotal"]), 1)


def disk_used_percent(path: str) -> float:
    """Like `df`: used / (used + available to unprivileged users)."""
    stats = os.statvfs(path)
    used = (stats.f_blocks - stats.f_bfree) * stats.f_frsize
    available = stats.f_bavail * stats.f_frsize
    return round(100.0 * used / (used + available), 1) if used + available else 0.0


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
    # Only older kernels lack the sysfs file; spare every other Pi the imports.
    import shutil  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

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
    # The process's own symbols include libc's (no ctypes.util, which spawns ldconfig).
    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "adjtimex"):
        return None
    # struct timex is about 208 bytes; modes = 0 (the first field) only reads.
    buffer = ctypes.create_string_buffer(512)
    state = libc.adjtimex(buffer)
    if state < 0:
        return None
    return bool(state != _TIME_ERROR)
