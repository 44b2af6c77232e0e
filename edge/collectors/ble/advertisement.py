"""What every BLE format works on: an advertisement as the radio heard it, the one
error a decoder may raise, and the record each format module exports (formats/)."""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple


class Advertisement(NamedTuple):
    address: str  # upper-case MAC as the radio reports it; never leaves the device
    rssi: int
    service_data: dict[str, bytes]
    manufacturer_data: dict[int, bytes]
    local_name: str | None = None


class DecodeError(Exception):
    """An advertisement that claims a format but does not follow it."""


BUTTON_EVENTS = {
    1: "press",
    2: "double_press",
    3: "triple_press",
    4: "long_press",
    0x80: "hold_press",
}


# Keys a decoder adds beside the measurements, for the collector's replay check.
COUNTER = "_counter"  # an encryption counter: must increase from one packet to the next
PACKET = "_packet"  # a packet or frame id: the same one again is the same packet repeated


def only_decode_errors(
    decoder: Callable[..., dict[str, float]],
) -> Callable[..., dict[str, float]]:
    """A decoder raises DecodeError and nothing else, whatever bytes arrive."""

    @functools.wraps(decoder)
    def guarded(*args: Any) -> dict[str, float]:
        try:
            return decoder(*args)
        except DecodeError:
            raise
        except (IndexError, ValueError, KeyError, struct.error, OverflowError) as exc:
            raise DecodeError(f"malformed frame ({type(exc).__name__})") from None

    return guarded


Decoder = Callable[["Advertisement", "bytes | None"], dict[str, float]]


@dataclass(frozen=True)
class BleFormat:
    """One format, as the config schema, the collector and passive scanning read it.

    A sensor format has ``decode`` (values by name; see the collector for which names
    become quantities); a tag format has ``beacon_id`` (the id residents' tags are
    registered by) and may read a battery voltage. ``service_uuids`` (16-bit service
    data UUIDs) and ``manufacturers`` (company ids) are what BlueZ's passive scanning
    must let through for it."""

    name: str
    decode: Decoder | None = None
    beacon_id: Callable[[Advertisement], str | None] | None = None
    battery_v: Callable[[Advertisement], float | None] | None = None
    keyed: bool = False  # may be encrypted with a bind key
    service_uuids: tuple[int, ...] = ()
    manufacturers: tuple[int, ...] = ()

    @property
    def is_tag(self) -> bool:
        return self.beacon_id is not None
