"""The gpio collector's config schema. No hardware library is imported
here: provisioning and the gateway check configs with it on any machine."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from edge.collectors.base import IntervalS
from wire.payloads import SensorId

Pin = Annotated[int, msgspec.Meta(ge=0, le=53)]


class GpioInput(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: SensorId
    kind: Literal["door", "motion", "button"]
    pin: Pin  # BCM numbering
    # Reed switches and buttons pull the pin to ground: pull-up on, active when low.
    pull_up: bool = True
    debounce_s: Annotated[float, msgspec.Meta(ge=0, le=5)] = 0.05
    long_press_s: Annotated[float, msgspec.Meta(gt=0, le=30)] = 3.0
    # A reed switch is closed (active) while the door is shut.
    door_open_when_active: bool = False


class GpioConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["gpio"]
    inputs: Annotated[list[GpioInput], msgspec.Meta(min_length=1)]
    name: str = "gpio"
    # How often the current state of every door and motion sensor is reported anyway.
    interval_s: IntervalS = 300.0
