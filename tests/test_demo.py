"""`civic-iot demo` on the example city: data lands, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from civic_iot.demo import missing_binaries
from civic_iot.services import InfluxDB, Mosquitto, Service, in_ci
from wire import topics

pytestmark = pytest.mark.services


def demo(tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    if missing_binaries([Mosquitto, InfluxDB]) and not in_ci():
        pytest.skip("demo needs mosquitto and influxd")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "civic_iot",
            "demo",
            "--state-dir",
            str(tmp_path / "state"),
            "--interval",
            "0.5",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def descendants_alive(pids: list[int]) -> list[int]:
    return [
        pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"
    ]


def test_demo_shows_data_landing_and_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    process = demo(tmp_path)
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    children = [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
    watch = next(line for line in lines if "watch the MQTT stream:" in line)
    watched, refused = follow_the_instructions(watch.split(":", 1)[1].strip())
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    output = "".join(lines) + rest
    assert process.returncode == 0, output
    for component in (
        "Mosquitto",
        "InfluxDB",
        "gateway",
        "agent home-a001-hub",
        "agent lib-central-wifi1",
    ):
        assert component in output
    assert watched.startswith(topics.ROOT + "/")  # the printed command shows the stream
    assert "not authori" in refused.lower()  # the broker's ACLs and passwords are in force
    assert "stopped everything the demo started" in output
    assert len(children) >= 12  # broker, database, gateway and nine agents
    assert descendants_alive(children) == []


def follow_the_instructions(command: str) -> tuple[str, str]:
    """Run the printed mosquitto_sub for one message, and again without credentials."""
    if shutil.which("mosquitto_sub") is None and not in_ci():
        pytest.skip("mosquitto_sub (mosquitto-clients) is not installed")
    once = f"{command} -C 1 -W 20"
    watched = subprocess.run(
        ["bash", "-c", once], capture_output=True, text=True, timeout=30, check=False
    )
    anonymous = re.sub(r" -u \S+ -P \"[^\"]*\"", "", once)
    refused = subprocess.run(
        ["bash", "-c", anonymous], capture_output=True, text=True, timeout=30, check=False
    )
    return watched.stdout, refused.stdout + refused.stderr


def test_demo_with_duration_reports_points_in_every_zone(tmp_path: Path) -> None:
    # The rollout part starts at 20 s and is tested in tests/e2e/test_rollout.py.
    process = demo(tmp_path, "--duration", "20", "--outage", "3", "--no-rollout")
    output, _ = process.communicate(timeout=90)
    assert process.returncode == 0, output
    # The first screen is the demo's own, not a library's warnings.
    assert output.lstrip().startswith("civic-iot demo: the example city"), output[:500]
    counts = re.findall(
        r"data landing: civic_watch (\d+), civic_facility (\d+), civic_ops (\d+)", output
    )
    assert counts, output
    assert all(int(n) > 0 for n in counts[-1][:2])
    # IT changes a home's config remotely, and it reports the version it runs.
    assert re.search(r"home-a001-hub reported: applied version 1, running 1", output), output
    # A home loses its Internet and comes back with nothing missing.
    assert "home-a002-hub: its Internet goes down for 3 s" in output
    assert re.search(r"home-a002-hub: caught up: \d+ messages since the outage, 0 missing", output)
    # Every collector ran for real on its hardware stand-in: replayed BLE air and live
    # GPIO pins in homes, recorded Wi-Fi and real probes and Modbus in facilities.
    assert (
        "measurements in civic_watch: alert, battery, button, climate, door, motion, tag" in output
    )
    assert "measurements in civic_facility: alert, climate, energy, modbus, wifi" in output
    # the dashboards' open-alerts panel, run on the demo's data: the call button, the
    # home cut off and the library's Internet each left their states there
    assert re.search(r"civic_watch: (?:[2-9]|\d{2,}) alert states stored", output), output
    assert re.search(r"civic_facility: [2-9]\d* alert states stored", output), output
    assert "measurements in civic_ops: agent, ble, gateway, ingest, system" in output
    # The registry and the operations figures: every device, gaps, duplicates, lag.
    assert re.search(r"home-a001-hub\s+home-a001\s+online", output), output
    assert "9 devices:" in output
    for device in ("lib-central-meter1", "home-a001-hub", "home-a002-hub"):
        # messages, then 0 missing and 0 duplicates, the cut home included
        assert re.search(rf"^  {device}\s+\d+\s+0\s+0\s+", output, re.MULTILINE), output
    assert "dead letters: 0" in output
    # Alerts for each audience fire, reach a real mail server or webhook, and resolve.
    assert re.search(
        r"mail to care-b@example.jp: \[至急・緊急\] 見守り宅 A004 .*緊急ボタン", output
    )
    assert re.search(r"home-a004-hub: 呼人 ケア acknowledged through the link http://\S+", output)
    # The same care manager has a phone: texted and called as well.
    assert re.search(r"SMS to \+81152000003: \[至急・緊急\] 見守り宅 A004", output), output
    assert "call (press 1 to acknowledge) to +81152000003" in output
    assert re.search(
        r"LINE to U\S+: \[至急・緊急\] 見守り宅 A004 .*\(with a button 対応します\)", output
    )
    assert re.search(r"mail to library@example.jp: \[緊急\] 網走市立図書館: 公衆Wi-Fi", output)
    assert re.search(r"mail to library@example.jp: \[解消\] 網走市立図書館: 公衆Wi-Fi", output)
    assert re.search(r"IT webhook: \[注意\] 見守り宅 A002 .*応答しません", output)
    assert re.search(r"IT webhook: \[解消\] 見守り宅 A002 .*応答しません", output)
    # Dashboards for a Grafana to read, on the demo's InfluxDB.
    grafana = tmp_path / "state" / "grafana"
    assert (grafana / "dashboards" / "見守り" / "civic-watch-over.json").exists()
    assert "civic_watch" in (grafana / "provisioning/datasources/civic-iot.yaml").read_text()
    # Reports beside Grafana: open data and today's Wi-Fi usage per facility.
    reports = tmp_path / "state" / "reports"
    assert "網走市立図書館" in (reports / "public_wireless_lan.csv").read_text(encoding="utf-8")
    usage = (reports / "wifi-usage-daily.csv").read_text(encoding="utf-8")
    assert re.search(r"lib-central,網走市立図書館,\d+,\d+", usage), usage
    assert (tmp_path / "state" / "logs" / "gateway.log").exists()
    broker_log = (tmp_path / "state" / "provision" / "broker" / "mosquitto.log").read_text()
    # (home-a002-hub's link is cut mid-stream on purpose, which may tear a packet)
    torn = [line for line in broker_log.splitlines() if "Protocol error" in line]
    assert [line for line in torn if "home-a002-hub" not in line] == []


def test_a_missing_binary_is_named_with_the_install_command() -> None:
    class Absent(Service):
        name = "absent"
        binary = "civic-iot-no-such-binary"
        package = "civic-iot-absent"

    assert missing_binaries([Absent]) == [
        "civic-iot-no-such-binary is not installed: install it with "
        "`sudo apt-get install civic-iot-absent` (scripts/test and scripts/demo do this for you)"
    ]
