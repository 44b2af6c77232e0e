"""The simulated collector's config schema. No hardware library is imported
here: provisioning and the gateway check configs with it on any machine."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from common.city.model import SimKind
from edge.collectors.base import IntervalS
from wire.payloads import SensorId

ALL_KINDS: tuple[SimKind, ...] = ("wifi", "climate", "door", "motion", "energy")


class SimulatedConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["simulated"]
    name: str = "simulated"
    interval_s: IntervalS = 10.0
    kinds: Annotated[list[SimKind], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: list(ALL_KINDS)
    )
    rooms: Annotated[list[SensorId], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: ["living-room", "bedroom"]
    )
    # Chance per interval that a door or motion sensor changes state (scaled by the
    # hour of day); 1.0 toggles every interval, which tests use.
    event_rate: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.1
    seed: int | None = None
    timezone: str = "Asia/Tokyo"
