"""The modbus collector's config schema. No hardware library is imported
here: provisioning and the gateway check configs with it on any machine."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from edge.collectors.base import IntervalS
from wire.payloads import SensorId


class Unit(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    name: SensorId
    map: str  # a shipped map id (eastron-sdm120) or the path of a map file
    transport: Literal["tcp", "rtu", "rtu-over-tcp"] = "tcp"
    host: str = "127.0.0.1"  # tcp and rtu-over-tcp
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 502
    serial_port: str = "/dev/ttyUSB0"  # rtu
    baudrate: int = 9600
    device_id: Annotated[int, msgspec.Meta(ge=0, le=247)] = 1
    timeout_s: Annotated[float, msgspec.Meta(gt=0, le=30)] = 1.0


class ModbusConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["modbus"]
    units: Annotated[list[Unit], msgspec.Meta(min_length=1)]
    name: str = "modbus"
    interval_s: IntervalS = 30.0
