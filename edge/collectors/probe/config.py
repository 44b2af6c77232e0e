"""The probe collector's config schema. No hardware library is imported
here: provisioning and the gateway check configs with it on any machine."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from edge.collectors.base import IntervalS
from wire.payloads import SensorId

Timeout = Annotated[float, msgspec.Meta(gt=0, le=30)]


class TcpProbe(msgspec.Struct, forbid_unknown_fields=True, frozen=True, tag="tcp"):
    name: SensorId
    host: str
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 53
    count: Annotated[int, msgspec.Meta(ge=1, le=50)] = 5
    timeout_s: Timeout = 2.0


class DnsProbe(msgspec.Struct, forbid_unknown_fields=True, frozen=True, tag="dns"):
    name: SensorId
    hostname: str


class HttpProbe(msgspec.Struct, forbid_unknown_fields=True, frozen=True, tag="http"):
    name: SensorId
    url: str
    expect_status: int = 204  # a connectivity-check URL answers 204 No Content
    timeout_s: Timeout = 5.0


class ProbeConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["probe"]
    probes: Annotated[list[TcpProbe | DnsProbe | HttpProbe], msgspec.Meta(min_length=1)]
    name: str = "probe"
    interval_s: IntervalS = 60.0
