"""Public Wi-Fi usage per facility, per day and per month, from InfluxDB (InfluxQL).

A day's users are the most distinct clients the access point counted that local day
(``wifi.unique_clients_today``, counted on the device from keyed hashes, never MACs);
a month adds its days up (user-days). Peak is the most clients at once.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

Query = Callable[[str, str], list[dict[str, Any]]]  # (statement, database) -> series


@dataclass(frozen=True)
class Usage:
    period: str  # YYYY-MM-DD or YYYY-MM
    site: str
    name: str
    users: int
    peak: int


def daily(query: Query, database: str, span: tuple[str, str], names: dict[str, str],
          timezone: str = "Asia/Tokyo") -> list[Usage]:  # fmt: skip
    """One row per facility and local day in [from, to) (dates as YYYY-MM-DD)."""
    start, end = (_midnight_ms(day, timezone) for day in span)
    statement = (
        "SELECT max(unique_clients_today), max(clients) FROM wifi "  # noqa: S608
        f"WHERE time >= {start}ms AND time < {end}ms "
        f"GROUP BY time(1d), site fill(none) tz('{timezone}')"
    )
    rows = []
    for series in query(statement, database):
        site = series.get("tags", {}).get("site", "")
        for when, users, peak in series.get("values", []):
            rows.append(Usage(str(when)[:10], site, names.get(site, site), int(users or 0),
                              int(peak or 0)))  # fmt: skip
    return sorted(rows, key=lambda r: (r.period, r.site))


def _midnight_ms(day: str, timezone: str) -> int:
    """Local midnight of YYYY-MM-DD in the time zone, as epoch ms; ValueError if not a date."""
    moment = datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=ZoneInfo(timezone))
    return int(moment.timestamp() * 1000)


def monthly(days: list[Usage]) -> list[Usage]:
    users: dict[tuple[str, str], int] = defaultdict(int)
    peaks: dict[tuple[str, str], int] = defaultdict(int)
    names = {}
    for day in days:
        key = (day.period[:7], day.site)
        users[key] += day.users
        peaks[key] = max(peaks[key], day.peak)
        names[day.site] = day.name
    return [Usage(m, s, names[s], users[(m, s)], peaks[(m, s)]) for m, s in sorted(users)]


def to_csv(rows: list[Usage], period_label: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow((period_label, "拠点ID / site", "名称 / name", "利用者数 / users",
                     "最大同時接続 / peak clients"))  # fmt: skip
    writer.writerows((r.period, r.site, r.name, r.users, r.peak) for r in rows)
    return out.getvalue()
