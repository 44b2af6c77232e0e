"""Hardware stand-ins for the demo and for bench tests without hardware: the real
collectors run unchanged; only what sits behind their hardware boundary is replaced.

- BLE: a recording of advertisements replayed in a loop (``ble_replay``).
- GPIO: gpiozero's MockFactory with a resident's daily activity on its pins
  (``gpio_activity``).
- Wi-Fi: recorded ``iw`` / ``hostapd_cli`` outputs, with counters that advance and a
  client count that follows opening hours (``wifi_recorded``).
- Modbus needs no stand-in inside the agent: a real pymodbus server plays the meters
  (``modbus_meter``), and the collector talks Modbus/TCP to it.

``civic-iot edge run --stand-ins FILE`` reads which to use from a JSON file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from edge.collectors import use_stand_ins

RECORDINGS = Path(__file__).parent / "recordings"


class GpioPress(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Someone presses the button on ``pin`` ``after_s`` after start, for ``hold_s``."""

    pin: int
    after_s: float
    hold_s: float = 4.0


class StandInsFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    ble_replay: str | None = None  # a recording (JSON lines); "home" for the shipped one
    gpio_activity_pins: list[int] = msgspec.field(default_factory=list)  # doors, motion
    gpio_mean_gap_s: float = 20.0
    gpio: bool = False  # a MockFactory (idle unless gpio_activity_pins are named)
    gpio_presses: list[GpioPress] = msgspec.field(default_factory=list)  # call buttons
    wifi_recordings: str | None = None  # a directory of outputs; "facility" for the shipped
    seed: int = 0


def install(path: Path) -> None:
    """Use the stand-ins the file names for every collector built from now on."""
    try:
        spec = msgspec.json.decode(path.read_bytes(), type=StandInsFile)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SystemExit(f"{path}: {exc}") from None
    by_type: dict[str, dict[str, Any]] = {}
    if spec.ble_replay:
        from civic_iot.standins.ble_replay import ReplaySource  # noqa: PLC0415

        recording = RECORDINGS / "home-ble.jsonl" if spec.ble_replay == "home" else spec.ble_replay
        by_type["ble"] = {"source": ReplaySource(Path(recording))}
    if spec.gpio:
        from civic_iot.standins.gpio_activity import (  # noqa: PLC0415
            activity_pin_factory,
            press_later,
        )

        factory = activity_pin_factory(spec.gpio_activity_pins, spec.gpio_mean_gap_s, spec.seed)
        for press in spec.gpio_presses:
            press_later(factory, press.pin, press.after_s, press.hold_s)
        by_type["gpio"] = {"pin_factory": factory}
    if spec.wifi_recordings:
        from civic_iot.standins.wifi_recorded import RecordedWifi  # noqa: PLC0415

        directory = (
            RECORDINGS / "wifi" if spec.wifi_recordings == "facility" else spec.wifi_recordings
        )
        by_type["wifi"] = {"runner": RecordedWifi(Path(directory), spec.seed)}
    use_stand_ins(by_type)
