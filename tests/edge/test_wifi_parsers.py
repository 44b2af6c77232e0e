"""The Wi-Fi parsers on real outputs captured by other projects (see each file's first line)."""

from civic_iot.standins import RECORDINGS
from edge.collectors.wifi.collector import run_command
from edge.collectors.wifi.parsers import (
    parse_hostapd_all_sta,
    parse_hostapd_status,
    parse_iw_link,
    parse_iw_scan,
    parse_station_dump,
    parse_survey_dump,
)

# The demo replays the same captures (civic_iot/standins/wifi_recorded.py).
SAMPLES = RECORDINGS / "wifi"


def sample(prefix: str) -> str:
    (path,) = SAMPLES.glob(f"{prefix}_*")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# source:")  # attribution kept, as shared/samples asks
    return text.split("\n", 1)[1]


def test_iw_link_connected_with_a_positive_signal() -> None:
    link = parse_iw_link(sample("04"))
    assert link is not None
    assert link.ssid == "LEDE"
    assert link.freq_mhz == 2462
    assert link.signal_dbm == 36.0  # the driver's own (odd) positive value, kept as given
    assert link.tx_bitrate_mbps == 86.7


def test_iw_link_not_connected() -> None:
    assert parse_iw_link(sample("06")) is None


def test_iw_scan_space_indented() -> None:
    found = parse_iw_scan(sample("01"))
    assert [(b.ssid, b.freq_mhz, b.signal_dbm) for b in found] == [
        ("Cisco1240", 2412, -45.0),
        ("Cisco1250", 2462, -70.0),
    ]
    assert found[0].bssid == "00:19:a9:cd:c6:80"


def test_station_dump_with_per_chain_signals() -> None:
    stations = parse_station_dump(sample("08"))
    assert len(stations) == 2
    first = stations[0]
    assert (first.signal_dbm, first.tx_bitrate_mbps, first.rx_bytes, first.connected_s) == (
        -62.0,
        7.2,
        415320,
        1964,
    )


def test_survey_dump_marks_the_channel_in_use() -> None:
    surveys = parse_survey_dump(sample("10"))
    assert [(s.freq_mhz, s.in_use, s.noise_dbm) for s in surveys] == [
        (2412, True, -86.0),
        (2417, False, -86.0),
    ]
    assert (surveys[0].active_ms, surveys[0].busy_ms) == (3339608, 270982)


def test_hostapd_all_sta_including_a_shorter_record() -> None:
    stations = parse_hostapd_all_sta(sample("15"))
    assert [s.signal_dbm for s in stations] == [-58.0, -65.0]
    assert stations[0].tx_bitrate_mbps == 288.2
    assert stations[1].tx_bitrate_mbps is None
    assert stations[1].tx_bytes == 13602493376


def test_hostapd_status() -> None:
    status = parse_hostapd_status(sample("20"))
    assert (status["state"], status["ssid[0]"], status["num_sta[0]"], status["channel"]) == (
        "ENABLED",
        "abashiri-free-wifi",
        "2",
        "6",
    )


def test_garbage_and_empty_output_give_nothing_rather_than_errors() -> None:
    for parse in (parse_iw_scan, parse_station_dump, parse_survey_dump, parse_hostapd_all_sta):
        assert parse("") == []
        assert parse("command failed: No such device (-19)\n") == []
    assert parse_iw_link("command failed: No such device (-19)") is None


def test_a_japanese_ssid_is_read_as_people_write_it() -> None:
    scan = (
        "BSS d0:d0:fd:69:ca:70(on wlan0)\n\tfreq: 2412\n\tsignal: -60.00 dBm\n"
        "\tSSID: \\xe7\\xb6\\xb2\\xe8\\xb5\\xb0\\xe5\\xb8\\x82 Free Wi-Fi\n"
        "BSS 00:19:a9:cd:c6:80(on wlan0)\n\tfreq: 2437\n\tsignal: -70.00 dBm\n"
        "\tSSID: \\x83\\x65\\x83\\x58\\x83\\x67\n"  # Shift_JIS, an older access point
    )
    assert [bss.ssid for bss in parse_iw_scan(scan)] == ["網走市 Free Wi-Fi", "テスト"]


def test_bytes_that_are_not_utf8_do_not_lose_the_round() -> None:
    text = run_command(["printf", "BSS 00:11:22:33:44:55(on wlan0)\\n\\tWPS: \\203\\145\\n"])
    assert text.startswith("BSS 00:11:22:33:44:55")
