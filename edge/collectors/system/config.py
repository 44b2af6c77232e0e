"""The system collector's config schema. No hardware library is imported
here: provisioning and the gateway check configs with it on any machine."""

from __future__ import annotations

from typing import Literal

import msgspec

from edge.collectors.base import IntervalS


class SystemConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["system"]
    name: str = "system"
    interval_s: IntervalS = 60.0
    disk_path: str = "/"
