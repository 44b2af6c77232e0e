"""The pipeline benchmark's load and its measuring tape: the messages a bench city
sends, the C publisher that sends them (bench/mqpub.c, built here with gcc), and the
CPU time and peak memory of a process read from /proc."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from benchlib import REPO

from wire import Message, Reading, encode, now_ms, topics

_TICKS = os.sysconf("SC_CLK_TCK")
MQPUB_SOURCE = REPO / "bench" / "mqpub.c"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "civic-iot" / "bench"


def device_ids(count: int) -> list[str]:
    return [f"bench-{index:05d}" for index in range(count)]


def write_messages(path: Path, devices: list[str], messages: int, readings: int) -> Path:
    """``topic<TAB>payload`` lines: message k from device k mod D with sequence number
    k div D + 1, every reading a distinct point (its own sensor, or its own time)."""
    base = now_ms() - 3_600_000
    with path.open("w", encoding="utf-8") as out:
        for index in range(messages):
            device, seq = devices[index % len(devices)], index // len(devices) + 1
            message = Message(
                schema=1, seq=seq, ts=base + seq,
                readings=[
                    Reading("climate.temperature", 20.0 + (index % 50) / 10, "Cel", sensor=f"r{r}")
                    for r in range(readings)
                ],
            )  # fmt: skip
            out.write(f"{topics.telemetry(device)}\t{encode(message).decode()}\n")
    return path


def build_mqpub(cache: Path = CACHE) -> Path:
    """bench/mqpub.c compiled (again when the source changed); SystemExit naming what
    is missing (scripts/bench installs gcc and libmosquitto-dev)."""
    binary = cache / "mqpub"
    if binary.exists() and binary.stat().st_mtime >= MQPUB_SOURCE.stat().st_mtime:
        return binary
    if shutil.which("gcc") is None or not Path("/usr/include/mosquitto.h").exists():
        raise SystemExit("bench: the C publisher needs gcc and libmosquitto-dev (apt install)")
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(["gcc", "-O2", "-o", str(binary), str(MQPUB_SOURCE), "-lmosquitto"], check=True)
    return binary


class Published(NamedTuple):
    messages: int
    seconds: float
    cpu_s: float


def publish(mqpub: Path, host: str, port: int, messages: Path, in_flight: int = 20) -> Published:
    """Every line of ``messages`` at QoS 1; how long until the broker acknowledged all,
    and the publisher's CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.run(
        [str(mqpub), host, str(port), str(messages), str(in_flight)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"bench: mqpub failed ({process.returncode}): {process.stderr}")
    count, seconds = process.stdout.split()
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return Published(int(count), float(seconds), cpu)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / _TICKS


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Usage:
    """CPU seconds a process spent, and the wall seconds, inside ``with measure(pid)``."""

    cpu_s = 0.0
    elapsed_s = 0.0


@contextmanager
def measure(pid: int) -> Iterator[Usage]:
    usage = Usage()
    before, started = cpu_seconds(pid), time.perf_counter()
    try:
        yield usage
    finally:
        usage.cpu_s = cpu_seconds(pid) - before
        usage.elapsed_s = time.perf_counter() - started
