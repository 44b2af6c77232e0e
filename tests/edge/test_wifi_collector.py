"""The Wi-Fi collector on recorded `iw` / `hostapd_cli` outputs (hardware faked at the
command boundary only)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from edge.collectors.wifi.collector import WifiCollector
from edge.collectors.wifi.config import WifiConfig
from edge.collectors.wifi.parsers import Survey
from edge.collectors.wifi.usage import ChannelBusy, DailyUniqueClients, randomized_share
from edge.errors import CollectorError
from tests.edge.test_wifi_parsers import sample
from wire import Message, decode_message, encode

MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", re.IGNORECASE)
NOON = 1_768_446_000_000  # 2026-01-15 12:00 Asia/Tokyo
SURVEY_LATER = sample("10").replace("3339608 ms", "3349608 ms").replace("270982 ms", "273482 ms")


class Recorded:
    """Answers each command with a recorded output; unknown commands fail like iw does."""

    def __init__(self, outputs: dict[str, list[str]]) -> None:
        self.outputs = outputs
        self.calls: list[str] = []

    def __call__(self, args: list[str]) -> str:
        key = " ".join(args[1:])
        self.calls.append(key)
        answers = self.outputs.get(key)
        if not answers:
            raise CollectorError("wifi", f"{args[0]}: command failed: No such device (-19)")
        return answers.pop(0) if len(answers) > 1 else answers[0]


def collector(runner: Recorded, **config: object) -> WifiCollector:
    return WifiCollector(WifiConfig(type="wifi", **config), "lib-central-wifi1", runner)  # type: ignore[arg-type]


def published(readings: list) -> Message:
    return decode_message(encode(Message(schema=1, seq=1, ts=NOON, readings=readings)))


def values(readings: list) -> dict[str, object]:
    return {r.quantity: r.value for r in readings}


def test_probe_reports_its_link_and_an_evil_twin() -> None:
    runner = Recorded({"dev wlan0 link": [sample("04")], "dev wlan0 scan": [sample("01")]})
    readings = collector(
        runner, site_ssids=["Cisco1240"], known_bssids=["d0:d0:fd:69:ca:70"]
    ).collect(NOON)
    assert values(readings) == {
        "wifi.associated": True,
        "wifi.rssi": 36.0,
        "wifi.tx_bitrate": 86.7,
        "wifi.rogue_aps": 1,  # Cisco1240 from 00:19:a9:cd:c6:80, not one of ours
    }
    published(readings)


def test_probe_knows_its_own_access_points() -> None:
    runner = Recorded({"dev wlan0 link": [sample("04")], "dev wlan0 scan": [sample("01")]})
    readings = collector(
        runner, site_ssids=["Cisco1240"], known_bssids=["00:19:a9:cd:c6:80"]
    ).collect(NOON)
    assert values(readings)["wifi.rogue_aps"] == 0


def test_probe_not_connected_says_so() -> None:
    readings = collector(Recorded({"dev wlan0 link": [sample("06")]})).collect(NOON)
    assert values(readings) == {"wifi.associated": False}


def test_access_point_usage_health_and_channel_load() -> None:
    runner = Recorded(
        {
            "-i wlan0 status": [sample("20")],
            "-i wlan0 all_sta": [sample("15")],
            "dev wlan0 survey dump": [sample("10"), SURVEY_LATER],
        }
    )
    ap = collector(runner, mode="ap")
    first = values(ap.collect(NOON))
    assert first == {
        "wifi.ap_up": True,
        "wifi.clients": 2,
        "wifi.unique_clients_today": 2,
        "wifi.randomized_share": 50.0,  # 62:b3:... is locally administered
        "wifi.client_signal": -61.5,
        "wifi.noise": -86.0,
    }
    second = values(ap.collect(NOON + 60_000))
    assert second["wifi.channel_busy"] == 25.0  # 2,500 busy of 10,000 ms
    assert second["wifi.unique_clients_today"] == 2  # the same two phones


def test_no_mac_address_leaves_the_collector() -> None:
    runner = Recorded(
        {
            "-i wlan0 status": [sample("20")],
            "-i wlan0 all_sta": [sample("15")],
            "dev wlan0 survey dump": [sample("10")],
        }
    )
    readings = collector(runner, mode="ap").collect(NOON)
    assert not MAC.search(encode(published(readings)).decode())


def test_unique_clients_restart_counting_at_local_midnight_with_a_new_key() -> None:
    counter = DailyUniqueClients(ZoneInfo("Asia/Tokyo"))
    evening, next_morning = NOON / 1000 + 11 * 3600, NOON / 1000 + 13 * 3600
    assert counter.observe(["aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02"], evening) == 2
    key = counter._key
    assert counter.observe(["aa:bb:cc:00:00:01"], next_morning) == 1
    assert counter._key != key


def test_channel_busy_skips_a_counter_reset() -> None:
    busy = ChannelBusy()
    assert busy.update([Survey(2412, True, -90.0, 10_000, 1_000)]) is None
    assert busy.update([Survey(2412, True, -90.0, 20_000, 6_000)]) == 50.0
    assert busy.update([Survey(2412, True, -90.0, 500, 100)]) is None  # driver reset
    assert busy.update([Survey(2412, True, -90.0, 1_500, 350)]) == 25.0


def test_randomized_share() -> None:
    assert randomized_share(["02:00:00:00:00:01", "00:00:00:00:00:01", "da:a1:19:00:00:01"]) == 66.7
    assert randomized_share([]) is None


def test_a_missing_interface_is_a_collector_error() -> None:
    with pytest.raises(CollectorError, match="No such device"):
        collector(Recorded({})).collect(NOON)
