"""How long each zone keeps raw data and hourly roll-ups: config and the plan set-up follows.

The defaults follow the data: watch-over readings are personal and kept raw only as
long as caregivers look back (90 days), roll-ups for yearly statistics (2 years).
Facility figures compare year on year (raw 400 days, roll-ups forever); operations
data serves troubleshooting (raw 30 days, roll-ups 400 days).
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from gateway.schema import Databases

Days = Annotated[int, msgspec.Meta(ge=0, le=36_500, description="0 keeps data forever")]
ROLLUP = "rollup_1h"
ROLLUP_EVERY = "1h"


class ZoneRetention(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    raw_days: Days
    rollup_days: Days


class Retention(msgspec.Struct, forbid_unknown_fields=True, frozen=True, rename="kebab"):
    watch_over: ZoneRetention = ZoneRetention(raw_days=90, rollup_days=730)
    facility: ZoneRetention = ZoneRetention(raw_days=400, rollup_days=0)
    operations: ZoneRetention = ZoneRetention(raw_days=30, rollup_days=400)


class ZonePlan(msgspec.Struct, frozen=True):
    database: str
    raw_days: int
    rollup_days: int


def plan(databases: Databases, retention: Retention) -> list[ZonePlan]:
    zones = (
        (databases.watch_over, retention.watch_over),
        (databases.facility, retention.facility),
        (databases.operations, retention.operations),
    )
    return [ZonePlan(name, keep.raw_days, keep.rollup_days) for name, keep in zones]


def days_text(days: int) -> str:
    return "forever" if days == 0 else f"{days} days"
