"""Replays a recording of BLE advertisements, in a loop, with the recorded timing.

A recording is JSON lines: ``{"t": seconds from the start, "address": ..., "rssi": ...,
"service_data": {uuid: hex}, "manufacturer_data": {company id: hex}, "local_name": ...}``;
lines starting with ``#`` are comments.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

from edge.collectors.ble.advertisement import Advertisement


class RecordingError(ValueError):
    """A recording line that is not an advertisement."""


def load_recording(path: Path) -> list[tuple[float, Advertisement]]:
    frames = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        try:
            raw = json.loads(line)
            advertisement = Advertisement(
                raw["address"].upper(),
                int(raw["rssi"]),
                {uuid: bytes.fromhex(data) for uuid, data in raw.get("service_data", {}).items()},
                {
                    int(company): bytes.fromhex(data)
                    for company, data in raw.get("manufacturer_data", {}).items()
                },
                raw.get("local_name"),
            )
            frames.append((float(raw["t"]), advertisement))
        except (ValueError, KeyError, TypeError) as exc:
            raise RecordingError(f"{path}:{number}: {type(exc).__name__}: {exc}") from None
    if not frames:
        raise RecordingError(f"{path}: no advertisements")
    return sorted(frames, key=lambda frame: frame[0])


class ReplaySource:
    """An AdvertisementSource that plays a recording instead of a radio."""

    def __init__(self, path: Path, speed: float = 1.0) -> None:
        self._frames = load_recording(path)
        self._speed = speed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, callback: Callable[[Advertisement], None]) -> None:
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._play, args=(callback,), name="ble-replay", daemon=True
        )
        self._thread.start()

    def _play(self, callback: Callable[[Advertisement], None]) -> None:
        loop_s = self._frames[-1][0] + 1.0
        while not self._stop.is_set():
            played = 0.0
            for t, advertisement in self._frames:
                if self._stop.wait(max(0.0, (t - played) / self._speed)):
                    return
                played = t
                callback(advertisement)
            self._stop.wait((loop_s - played) / self._speed)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
