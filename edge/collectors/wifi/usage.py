"""Wi-Fi usage without personal data.

Unique clients per day come from an HMAC of each MAC address under a random key that
exists only in this process's memory and is replaced at local midnight: today's hashes
cannot be matched with yesterday's, and nothing that identifies a phone is published,
logged or stored. Only counts leave the device.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from edge.collectors.wifi.parsers import Bss, Survey


class DailyUniqueClients:
    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        self._day: date | None = None
        self._key = b""
        self._seen: set[bytes] = set()

    def observe(self, macs: Iterable[str], now_s: float) -> int:
        """Note the clients seen now; the number of distinct clients today."""
        today = datetime.fromtimestamp(now_s, tz=self._zone).date()
        if today != self._day:
            self._day, self._key, self._seen = today, secrets.token_bytes(32), set()
        for mac in macs:
            digest = hmac.new(self._key, mac.lower().encode(), hashlib.sha256).digest()
            self._seen.add(digest[:16])
        return len(self._seen)


def randomized_share(macs: list[str]) -> float | None:
    """Percent of MACs that are locally administered (randomised by the phone)."""
    if not macs:
        return None
    local = sum(1 for mac in macs if int(mac[:2], 16) & 0x02)
    return round(100.0 * local / len(macs), 1)


class ChannelBusy:
    """Busy share of the channel in use between two survey dumps, from counter deltas.

    A driver reset or a channel change makes the counters go back; that sample is
    dropped and the next one measures from the new baseline."""

    def __init__(self) -> None:
        self._last: tuple[int, int, int] | None = None  # freq, active, busy

    def update(self, surveys: list[Survey]) -> float | None:
        current = next((s for s in surveys if s.in_use), None)
        if current is None or current.active_ms is None or current.busy_ms is None:
            return None
        sample = (current.freq_mhz, current.active_ms, current.busy_ms)
        last, self._last = self._last, sample
        if last is None or last[0] != sample[0]:
            return None
        active, busy = sample[1] - last[1], sample[2] - last[2]
        if active <= 0 or busy < 0 or busy > active:
            return None  # counters reset or wrapped
        return round(100.0 * busy / active, 1)


def rogue_count(heard: list[Bss], site_ssids: set[str], known_bssids: set[str]) -> int:
    """BSSes that announce one of the site's SSIDs but are not among its access points."""
    return sum(1 for bss in heard if bss.ssid in site_ssids and bss.bssid not in known_bssids)
