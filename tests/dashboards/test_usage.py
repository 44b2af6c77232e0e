"""Wi-Fi usage per facility per local day and month, from readings that went through the
real pipeline (broker, gateway, InfluxDB 1.x)."""

from __future__ import annotations

import csv
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from civic_iot.cli import main
from civic_iot.services import InfluxDB, Mosquitto
from dashboards.chart import japanese_font
from tests.e2e.stack import run_gateway
from tests.support.influx import influxql
from tests.support.mqtt import publish_many, wait_for
from wire import Message, Reading, encode, topics

pytestmark = pytest.mark.services
JST = ZoneInfo("Asia/Tokyo")


def at(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=JST).timestamp() * 1000)


def wifi(seq: int, ts: int, unique: int, clients: int) -> bytes:
    readings = [Reading("wifi.unique_clients_today", unique, "1"),
                Reading("wifi.clients", clients, "1")]  # fmt: skip
    return encode(Message(schema=1, seq=seq, ts=ts, readings=readings))


def test_daily_and_monthly_usage_per_facility(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    library, welfare = topics.telemetry("lib-central-wifi1"), topics.telemetry("welfare-wifi1")
    # A month boundary in the past (the gateway refuses readings from the future): the
    # first of last month and the day before it.
    today = datetime.now(JST).date()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    last = first - timedelta(days=1)
    day1, day2 = last.isoformat(), first.isoformat()
    messages = [
        (library, wifi(1, at(f"{day1} 09:00"), 5, 4)),
        (library, wifi(2, at(f"{day1} 23:50"), 41, 2)),  # still that day in Abashiri
        (library, wifi(3, at(f"{day2} 00:10"), 1, 1)),  # counting starts again
        (library, wifi(4, at(f"{day2} 15:00"), 30, 12)),
        (welfare, wifi(1, at(f"{day1} 12:00"), 17, 9)),
    ]
    publish_many(mosquitto, messages)
    wait_for(lambda: len(influxql(influxdb, "civic_facility", "SELECT * FROM wifi")) == 5,
             what="the five readings")  # fmt: skip
    assert gateway.terminate() == 0
    out = tmp_path / "reports"
    config = tmp_path / "gw-test.yaml"
    args = ["reports", "wifi-usage", "--config", str(config), "--from",
            (last - timedelta(days=1)).isoformat()]  # fmt: skip
    assert main([*args, "--to", (first + timedelta(days=1)).isoformat(), "--out", str(out)]) == 0
    daily = list(csv.reader((out / "wifi-usage-daily.csv").open(encoding="utf-8-sig")))
    assert daily[1:] == [
        [day1, "lib-central", "網走市立図書館", "41", "4"],
        [day1, "welfare-centre", "網走市総合福祉センター", "17", "9"],
        [day2, "lib-central", "網走市立図書館", "30", "12"],
    ]
    assert japanese_font() == "Noto Sans CJK JP"  # facility names drawn, not as boxes
    chart = Image.open(out / "wifi-usage-daily.png")
    assert chart.format == "PNG" and chart.size == (960, 480)
    assert len(chart.getcolors(maxcolors=10_000) or []) > 3  # bars, not a blank page
    # The monthly publication: a summary page, then a page per facility.
    pdf = (out / "wifi-usage-report.pdf").read_bytes()
    assert (
        pdf.startswith(b"%PDF-") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") >= 3
    )
    assert b"NotoSansCJK" in pdf  # the Japanese font is embedded: names are not boxes
    summary = Image.open(out / "wifi-usage-report-summary.png")  # for the city's web page
    width, height = summary.size
    assert summary.format == "PNG" and abs(height / width - 297 / 210) < 0.01  # A4 portrait
    if os.environ.get("CIVIC_SAVE_SCREENSHOTS"):  # what the README shows
        for name in ("wifi-usage-daily.png", "wifi-usage-report-summary.png"):
            shutil.copyfile(out / name, repo_root / "docs" / "images" / name)
    monthly = list(csv.reader((out / "wifi-usage-monthly.csv").open(encoding="utf-8-sig")))
    month1, month2 = day1[:7], day2[:7]
    assert monthly[1:] == [
        [month1, "lib-central", "網走市立図書館", "41", "4"],
        [month1, "welfare-centre", "網走市総合福祉センター", "17", "9"],
        [month2, "lib-central", "網走市立図書館", "30", "12"],
    ]


def test_a_bad_date_names_itself(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 repo_root: Path) -> None:  # fmt: skip
    config = tmp_path / "gw.yaml"
    config.write_text(f"gateway_id: gw\ninventory: {repo_root / 'firmware-config'}\n",
                      encoding="utf-8")  # fmt: skip
    args = ["reports", "wifi-usage", "--config", str(config), "--from", "2026-13-01"]
    assert main([*args, "--to", "2026-12-02", "--out", str(tmp_path)]) == 2
    assert "2026-13-01" in capsys.readouterr().err
