"""Dashboards as code: the committed JSON is what the code builds, and every panel's
InfluxQL, with Grafana's macros expanded, returns data from a real InfluxDB filled
through the real pipeline (agent, broker, gateway)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from civic_iot.cli import main
from civic_iot.services import InfluxDB, Mosquitto
from dashboards.generate import DATABASES, GENERATED, dashboards_json
from dashboards.influxql import DATASOURCE_UID
from gateway.writers.v1 import V1Writer
from tests.e2e.stack import run_agent_until, run_gateway
from tests.support.influx import influxql
from tests.support.mqtt import publish_many, wait_for
from wire import AlertState, Message, Reading, encode, now_ms, topics

ZONE_OF_UID = {uid: zone for zone, uid in DATASOURCE_UID.items()}


def test_the_committed_json_is_what_the_code_builds() -> None:
    built = dashboards_json()
    committed = {str(p.relative_to(GENERATED)): p.read_text(encoding="utf-8")
                 for p in GENERATED.rglob("*.json")}  # fmt: skip
    assert committed == built, "run `civic-iot dashboards generate` and commit the result"
    assert sorted(p.split("/")[0] for p in built) == ["施設Wi-Fi", "機器管理", "見守り"]


def expand(query: str) -> str:
    """Grafana's macros and variables as Grafana would fill them for 'All'."""
    query = query.replace("$timeFilter", "time > now() - 7d").replace("$__interval", "1m")
    return re.sub(r"/\^\$\w+\$/", "/^.*$/", query)


def queries() -> list[tuple[str, str, str, str]]:
    """(dashboard, panel, database, query) for every panel and variable."""
    found = []
    for path, text in dashboards_json().items():
        board = json.loads(text)
        for variable in board["templating"]["list"]:
            if variable["type"] != "query":
                continue  # the site pickers list the city's sites by name (no query)
            zone = ZONE_OF_UID[variable["datasource"]["uid"]]
            found.append((path, f"${variable['name']}", DATABASES[zone], variable["query"]))
        for panel in board["panels"]:
            for target in panel["targets"]:
                zone = ZONE_OF_UID[target["datasource"]["uid"]]
                found.append((path, panel["title"], DATABASES[zone], expand(target["query"])))
    return found


def fill(tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path) -> None:
    """A home agent for real, and facility readings and a call button through the broker."""
    gateway = run_gateway(tmp_path, mosquitto, repo_root, f"  url: {influxdb.url}")
    run_agent_until(tmp_path, mosquitto, messages=12)
    now = now_ms()
    wifi = [Reading(q, v, u) for q, v, u in (
        ("wifi.ap_up", True, "1"), ("wifi.internet_ok", True, "1"), ("wifi.clients", 7, "1"),
        ("wifi.latency", 12.5, "ms"), ("wifi.dns_time", 8.0, "ms"), ("wifi.http_time", 90.0, "ms"),
        ("wifi.loss", 0.0, "%"), ("wifi.channel_busy", 31.0, "%"),
        ("wifi.unique_clients_today", 23, "1"), ("wifi.rogue_aps", 0, "1"),
    )]  # fmt: skip
    power = [Reading("energy.power", 1520.0, "W", sensor="main")]
    button = [Reading("button.long_press", True, "1", sensor="bedside")]
    # this test machine has no SoC sensor and no under-voltage flag
    soc = [
        Reading("system.cpu_temperature", 48.5, "Cel"),
        Reading("system.under_voltage", False, "1"),
    ]
    publish_many(mosquitto, [*alert_states(now),
        (topics.telemetry("lib-central-wifi1"), encode(Message(1, 1, now, wifi))),
        (topics.telemetry("lib-central-meter1"), encode(Message(1, 1, now, power))),
        (topics.event("home-a001-hub"), encode(Message(1, 99_999, now, button))),
        (topics.health("home-a001-hub"), encode(Message(1, 100_000, now, soc))),
    ])  # fmt: skip
    published = [("civic_watch", "button"), ("civic_watch", "alert"), ("civic_ops", "system"),
                 ("civic_facility", "wifi"), ("civic_facility", "energy"),
                 ("civic_facility", "alert")]  # fmt: skip
    for database, measurement in published:  # stopping earlier would leave them queued
        count = f'SELECT count(*) FROM "{measurement}"'  # noqa: S608 (a test's own names)
        wait_for(lambda: influxql(influxdb, database, count),  # noqa: B023
                 what=f"{measurement} in {database}")  # fmt: skip
    assert gateway.terminate() == 0  # writes its own figures on the way out


# Each zone lists its own open alert; the resolved room-cold alert is nowhere.
OPEN_ALERTS = {"civic_watch": [("home-a001", "panic", "firing")],
               "civic_facility": [("lib-central", "wifi-ap-down", "firing")]}  # fmt: skip


def alert_states(now: int) -> list[tuple[str, bytes]]:
    """As the alerts service says them: an open alert per zone and a resolved one."""
    changes = [
        (1, "home-a001", "panic", "firing"),
        (2, "lib-central", "wifi-ap-down", "firing"),
        (3, "home-a001", "room-cold", "firing"),
        (3, "home-a001", "room-cold", "resolved"),
    ]
    return [(topics.service_alert("alerts-1"), encode(AlertState(
        1, alert_id, rule, rule, site, "urgent", state, now - 60_000, now + index)))  # type: ignore[arg-type]
        for index, (alert_id, site, rule, state) in enumerate(changes)]  # fmt: skip


@pytest.mark.services
def test_every_panel_query_returns_data_from_the_real_pipeline(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path
) -> None:
    fill(tmp_path, mosquitto, influxdb, repo_root)
    empty = []
    for path, title, database, query in queries():
        rows = influxql(influxdb, database, query)
        values = [v for row in rows for k, v in row.items()
                  if k not in {"time", "_measurement"} and v is not None]  # fmt: skip
        if not values:
            empty.append(f"{path} / {title}: {query}")
        if title == "対応が必要な通知":
            listed = sorted((row["site"], row["内容"], row["状態"]) for row in rows)
            assert listed == OPEN_ALERTS[database], (database, listed)
    assert empty == []


def test_the_command_writes_dashboards_and_grafana_provisioning(tmp_path: Path) -> None:
    assert main(["dashboards", "provision", "--files", str(tmp_path),
                 "--influx-url", "http://influx.city.example:8086"]) == 0  # fmt: skip
    boards = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json"))
    assert "dashboards/見守り/civic-watch-over.json" in boards
    sources = json.loads((tmp_path / "provisioning/datasources/civic-iot.yaml").read_text())
    assert {s["jsonData"]["dbName"] for s in sources["datasources"]} == set(DATABASES.values())
    provider = json.loads((tmp_path / "provisioning/dashboards/civic-iot.yaml").read_text())
    assert provider["providers"][0]["options"]["foldersFromFilesStructure"] is True


def test_the_site_pickers_show_names_and_pass_ids() -> None:
    boards = {path: json.loads(text) for path, text in dashboards_json().items()}
    pickers = {path: board["templating"]["list"][0] for path, board in boards.items()}
    watch = pickers["見守り/civic-watch-over.json"]
    assert watch["type"] == "custom" and watch["label"] == "拠点"
    assert "見守り宅 A001 : home-a001" in watch["query"] and "lib-central" not in watch["query"]
    wifi = pickers["施設Wi-Fi/civic-facility-wifi.json"]
    assert "網走市立図書館 : lib-central" in wifi["query"] and "home-a001" not in wifi["query"]
    assert pickers["機器管理/civic-fleet.json"]["type"] == "query"  # IT picks devices by ID


def _panel(title: str) -> dict[str, Any]:
    for text in dashboards_json().values():
        for panel in json.loads(text)["panels"]:
            if panel["title"] == title:
                return dict(panel)
    raise AssertionError(f"no panel {title!r}")


def _colour_in_grafana(panel: dict[str, Any], threshold: float, value: float) -> str:
    """The colour Grafana gives the Time cell once `configFromData` set threshold 1."""
    (time_override,) = [o for o in panel["fieldConfig"]["overrides"]
                        if o["matcher"]["options"] == "Time"]  # fmt: skip
    (steps,) = [p["value"]["steps"] for p in time_override["properties"] if p["id"] == "thresholds"]
    colours = [steps[0]["color"], steps[1]["color"]]
    return colours[1] if value >= threshold else colours[0]


@pytest.mark.services
def test_homes_quiet_for_more_than_12_hours_are_red_in_the_last_movement_table(
    influxdb: InfluxDB,
) -> None:
    panel = _panel("最後に動きがあった時刻")
    database = DATABASES["watch"]
    now = now_ms()
    moved_hours_ago = {"home-a001": 1, "home-a002": 11.5, "home-a003": 13, "home-a004": 30}
    lines = [f"motion,site={site},sensor=hall detected=true {int(now - h * 3_600_000)}"
                      for site, h in moved_hours_ago.items()]  # fmt: skip
    writer = V1Writer(influxdb.url)
    writer.query(f"CREATE DATABASE {database}", database)
    writer.write(database, lines)
    writer.close()
    (listing, quiet_since) = (
        [t for t in panel["targets"] if t["refId"] == ref] for ref in ("A", "B")
    )
    rows = influxql(influxdb, database, expand(listing[0]["query"]))
    (threshold_row,) = influxql(influxdb, database, quiet_since[0]["query"])
    (transform,) = panel["transformations"]
    assert transform["id"] == "configFromData" and transform["options"]["configRefId"] == "B"
    assert abs(threshold_row["time"] - (now - 12 * 3_600_000)) < 60_000
    colours = {row["site"]: _colour_in_grafana(panel, threshold_row["time"], row["time"])
               for row in rows}  # fmt: skip
    assert colours == {"home-a001": "green", "home-a002": "green",
                       "home-a003": "red", "home-a004": "red"}  # fmt: skip
