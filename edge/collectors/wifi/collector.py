"""Wi-Fi health and usage at a facility: is the Wi-Fi working, and how much is it used?

Two modes. ``probe``: the Pi is a client of the site's Wi-Fi and reports its link
(`iw link`) and, now and then, what it hears (`iw scan`: evil twins). ``ap``: the Pi is
the access point and reports hostapd's state, its clients (counts, signal, unique per
day, share of randomised MACs) and how busy the channel is (`iw survey dump`).

Commands run through a runner that tests replace with recorded outputs.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

from edge.collectors.base import PolledCollector
from edge.collectors.wifi.config import WifiConfig
from edge.collectors.wifi.parsers import (
    parse_hostapd_all_sta,
    parse_hostapd_status,
    parse_iw_link,
    parse_iw_scan,
    parse_survey_dump,
)
from edge.collectors.wifi.usage import (
    ChannelBusy,
    DailyUniqueClients,
    randomized_share,
    rogue_count,
)
from edge.errors import CollectorError
from wire import Reading

Runner = Callable[[list[str]], str]


def run_command(args: list[str]) -> str:
    try:
        # Device names in scans are whatever bytes a neighbour's printer sends (Shift_JIS
        # included): undecodable bytes are replaced, never a lost round.
        done = subprocess.run(args, capture_output=True, text=True, errors="replace",
                              timeout=15, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CollectorError("wifi", f"{args[0]}: {exc}") from None
    if done.returncode != 0:
        raise CollectorError("wifi", f"{' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


class WifiCollector(PolledCollector):
    def __init__(self, config: WifiConfig, device_id: str, runner: Runner = run_command) -> None:
        self.name = config.name
        self.interval_s = config.interval_s
        self._config = config
        self._run = runner
        self._unique = DailyUniqueClients(ZoneInfo(config.timezone))
        self._busy = ChannelBusy()
        self._next_scan = 0.0

    def collect(self, now_ms: int) -> list[Reading]:
        if self._config.mode == "ap":
            return self._access_point(now_ms / 1000)
        return self._probe()

    def _iw(self, *args: str) -> str:
        return self._run([self._config.iw, "dev", self._config.interface, *args])

    def _probe(self) -> list[Reading]:
        link = parse_iw_link(self._iw("link"))
        readings = [Reading("wifi.associated", link is not None, "1")]
        if link is not None:
            if link.signal_dbm is not None:
                readings.append(Reading("wifi.rssi", link.signal_dbm, "dB[mW]"))
            if link.tx_bitrate_mbps is not None:
                readings.append(Reading("wifi.tx_bitrate", link.tx_bitrate_mbps, "Mbit/s"))
        if self._config.site_ssids and time.monotonic() >= self._next_scan:
            self._next_scan = time.monotonic() + self._config.scan_every_s
            heard = parse_iw_scan(self._iw("scan"))
            rogues = rogue_count(
                heard, set(self._config.site_ssids), set(self._config.known_bssids)
            )
            readings.append(Reading("wifi.rogue_aps", rogues, "1"))
        return readings

    def _access_point(self, now_s: float) -> list[Reading]:
        hostapd = [self._config.hostapd_cli, "-i", self._config.interface]
        status = parse_hostapd_status(self._run([*hostapd, "status"]))
        stations = parse_hostapd_all_sta(self._run([*hostapd, "all_sta"]))
        macs = [station.mac for station in stations]
        readings = [
            Reading("wifi.ap_up", status.get("state") == "ENABLED", "1"),
            Reading("wifi.clients", len(stations), "1"),
            Reading("wifi.unique_clients_today", self._unique.observe(macs, now_s), "1"),
        ]
        share = randomized_share(macs)
        if share is not None:
            readings.append(Reading("wifi.randomized_share", share, "%"))
        signals = [s.signal_dbm for s in stations if s.signal_dbm is not None]
        if signals:
            readings.append(
                Reading("wifi.client_signal", round(sum(signals) / len(signals), 1), "dB[mW]")
            )
        surveys = parse_survey_dump(self._iw("survey", "dump"))
        busy = self._busy.update(surveys)
        if busy is not None:
            readings.append(Reading("wifi.channel_busy", busy, "%"))
        in_use = next((s for s in surveys if s.in_use and s.noise_dbm is not None), None)
        if in_use is not None and in_use.noise_dbm is not None:
            readings.append(Reading("wifi.noise", in_use.noise_dbm, "dB[mW]"))
        return readings
