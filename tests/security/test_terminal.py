"""Device data printed for city IT cannot drive the terminal."""

from __future__ import annotations

from civic_iot.devicetable import render
from civic_iot.terminal import printable
from gateway.registry_db import DeviceRecord


def test_escape_sequences_and_bidi_overrides_are_shown_not_interpreted() -> None:
    assert printable("ok\x1b[2J") == "ok\\x1b[2J"
    assert printable("a\u202eb") == "a\\u202eb"
    assert printable("a\nb") == "a\\nb" and printable("a\nb", keep_newlines=True) == "a\nb"
    assert printable("見守り宅 A001") == "見守り宅 A001"


def test_the_device_table_escapes_what_a_device_reported() -> None:
    record = DeviceRecord(
        "home-a001-hub", site="home-a001", listed=True, last_seen_ms=1_000, status="offline",
        status_reason="gone\x1b[2J\x1b[H", agent="civic-iot-edge/0.1.0\r\x1b[31mFAKE",
    )  # fmt: skip
    table = render([record], 2_000, 60.0)
    assert "\x1b" not in table and "\r" not in table
    assert "\\x1b[2J" in table
