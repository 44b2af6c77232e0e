"""Recorded ``iw`` and ``hostapd_cli`` outputs standing in for a facility's access
point, with the parts that move over a day made to move: the client list follows
opening hours (9:00-19:00 local time) and the survey counters advance with the clock,
the channel busier when more clients are on. Outputs keep the recorded format; only
counts, counters and addresses change.
"""

from __future__ import annotations

import random
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.errors import CollectorError

_MAC_LINE = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}\n", re.M)
_POOL = 60  # distinct visitors' devices in a day
_FILES = {
    "status": "20_hostapd-cli-status_written.txt",
    "all_sta": "15_hostapd-cli-all-sta_firerouter_two-stations.txt",
    "survey": "10_survey-dump_carl9170_two-channels.txt",
    "link": "04_iw-link_connected_lede.txt",
    "scan": "01_iw-scan_jc-centos77-iw-scan0.txt",
}


def _recorded(directory: Path, name: str) -> str:
    text = (directory / _FILES[name]).read_text(encoding="utf-8")
    return "".join(line for line in text.splitlines(True) if not line.startswith("# source"))


class RecordedWifi:
    """A command runner for the Wi-Fi collector (see WifiCollector's ``runner``)."""

    def __init__(self, directory: Path, seed: int = 0, timezone: str = "Asia/Tokyo") -> None:
        self._outputs = {name: _recorded(directory, name) for name in _FILES}
        # the recorded first station's fields, reused for every made-up client
        self._station_fields = _MAC_LINE.split(self._outputs["all_sta"])[1]
        self._seed = seed
        self._zone = ZoneInfo(timezone)
        self._started = time.monotonic()
        self._busy_ms = 0.0
        self._last = self._started
        self._clients = 0

    def __call__(self, args: list[str]) -> str:
        command = args[-1] if args[-1] != "dump" else args[-2]
        if command not in _FILES:
            raise CollectorError("wifi", f"no recording for {' '.join(args)}")
        if command == "all_sta":
            return self._stations()
        if command == "survey":
            return self._survey()
        return self._outputs[command]

    def _stations(self) -> str:
        now = datetime.now(self._zone)
        rng = random.Random(f"{self._seed}-{now:%Y%m%d%H%M}")
        if 9 <= now.hour < 19:  # opening hours
            self._clients = rng.randint(6, 24)
        else:
            self._clients = rng.randint(1, 5) if 19 <= now.hour < 22 else rng.randint(0, 2)
        blocks = []
        for index in rng.sample(range(_POOL), self._clients):
            # about half of today's phones use a randomised (locally administered) address
            first = 0x02 if index % 2 else 0x30
            mac = f"{first:02x}:d5:3e:{now.day:02x}:00:{index:02x}"
            signal = f"signal=-{rng.randint(45, 80)}"
            blocks.append(mac + "\n" + re.sub(r"signal=-\d+", signal, self._station_fields))
        return "".join(blocks)

    def _survey(self) -> str:
        moment = time.monotonic()
        self._busy_ms += (moment - self._last) * 1000 * min(0.9, 0.05 + 0.03 * self._clients)
        self._last = moment
        active_ms = 3339608 + int((moment - self._started) * 1000)
        text = self._outputs["survey"]
        text = text.replace("3339608 ms", f"{active_ms} ms", 1)
        return text.replace("270982 ms", f"{270982 + int(self._busy_ms)} ms", 1)
