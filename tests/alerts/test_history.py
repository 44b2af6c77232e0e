"""`alerts replay --influx-config`: last night rebuilt from what a real InfluxDB 1.x
stored, through today's rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civic_iot.cli import main
from civic_iot.services import InfluxDB
from gateway.writers.v1 import V1Writer
from tests.alerts.scenario import MIN, alerts_config, jst

pytestmark = pytest.mark.services


def test_a_stored_night_replays_through_the_rules(
    tmp_path: Path, influxdb: InfluxDB, repo_root: Path
) -> None:
    writer = V1Writer(influxdb.url)
    writer.query("CREATE DATABASE civic_watch", "civic_watch")
    tags = "device=home-a001-hub,site=home-a001"
    evening, fall = jst("2026-01-10 20:00"), jst("2026-01-11 03:00")
    lines = [f"motion,{tags},sensor=living-room detected=true {evening + m * MIN}"
             for m in range(0, 90, 10)]  # fmt: skip
    lines += [f"climate,{tags},sensor=living-room temperature=19.5 {evening}",
              f"motion,{tags},sensor=toilet detected=true {fall}",
              f"climate,{tags},sensor=living-room temperature=18.5 {fall + 4 * 60 * MIN}",
              f"motion,device=home-a002-hub,site=home-a002,sensor=toilet detected=true {fall}"]  # fmt: skip
    writer.write("civic_watch", lines)
    writer.close()
    gateway = tmp_path / "gateway.yaml"
    gateway.write_text(f"gateway_id: gw\ninventory: {repo_root / 'firmware-config'}\n"
                       f"influx:\n  url: {influxdb.url}\n", encoding="utf-8")  # fmt: skip
    config, out = alerts_config(tmp_path), tmp_path / "out.jsonl"
    args = ["alerts", "replay", "--config", str(config), "--influx-config", str(gateway),
            "--site", "home-a001", "--from", "2026-01-10", "--to", "2026-01-11",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    stream = [json.loads(line) for line in (tmp_path / "out.stream.jsonl").open()]
    assert len(stream) == 12 and all("home-a001-hub" in line["topic"] for line in stream)
    notes = [json.loads(line) for line in out.open()]
    fall_alert = [n for n in notes if n["rule"] == "long-stay-bathroom" and n["to"] != "it"]
    assert fall_alert and fall_alert[0]["at"] - fall <= 90 * MIN
    assert main([*args[:-2], "--site", "home-z999", "--out", str(out)]) == 2
