"""Local-time windows such as ``22:00-06:00`` (crossing midnight) in a site's time zone."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec

WINDOW_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"
Window = Annotated[str, msgspec.Meta(pattern=WINDOW_PATTERN)]
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


def local(ts_ms: int, zone: str) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, tz=ZoneInfo(zone))


def clock(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    return time(hours, minutes)


def in_window(ts_ms: int, window: str, zone: str) -> bool:
    """True when the local time of ``ts_ms`` is inside ``HH:MM-HH:MM`` (end excluded)."""
    start_text, end_text = re.split(r"-", window)
    start, end = clock(start_text), clock(end_text)
    now = local(ts_ms, zone).time()
    if start <= end:
        return start <= now < end
    return now >= start or now < end


def at_local(ts_ms: int, hhmm: str, zone: str) -> int:
    """Epoch ms of ``hhmm`` on the local day of ``ts_ms``."""
    day = local(ts_ms, zone)
    moment = day.replace(hour=clock(hhmm).hour, minute=clock(hhmm).minute, second=0, microsecond=0)
    return int(moment.timestamp() * 1000)
