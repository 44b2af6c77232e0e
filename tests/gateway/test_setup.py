"""`civic-iot gateway setup` on a real InfluxDB 1.x and on VictoriaMetrics (v2 API)."""

from __future__ import annotations

from pathlib import Path

import pytest

from civic_iot.cli import main
from civic_iot.services import InfluxDB, VictoriaMetrics
from tests.support.influx import influxql

pytestmark = pytest.mark.services


def write_config(path: Path, influx: str) -> Path:
    path.write_text(f"gateway_id: gw-test\ninflux:\n{influx}\n", encoding="utf-8")
    return path


def setup(capsys: pytest.CaptureFixture[str], config: Path) -> str:
    capsys.readouterr()
    assert main(["gateway", "setup", "--config", str(config)]) == 0
    return capsys.readouterr().out


def policies(influxdb: InfluxDB, database: str) -> dict[str, tuple[str, bool]]:
    rows = influxql(influxdb, database, f'SHOW RETENTION POLICIES ON "{database}"')
    return {row["name"]: (row["duration"], row["default"]) for row in rows}


def test_setup_creates_zones_with_retention_and_rollups_and_is_idempotent(
    tmp_path: Path, influxdb: InfluxDB, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "gateway.yaml", f"  url: {influxdb.url}")
    first = setup(capsys, config)
    assert "policy rollup_1h created" in first
    assert policies(influxdb, "civic_watch") == {
        "autogen": ("2160h0m0s", True),
        "rollup_1h": ("17520h0m0s", False),
    }
    assert policies(influxdb, "civic_facility")["rollup_1h"] == ("0s", False)
    assert policies(influxdb, "civic_ops")["autogen"] == ("720h0m0s", True)
    queries = influxql(influxdb, "civic_ops", "SHOW CONTINUOUS QUERIES")
    assert any("INTO civic_ops.rollup_1h.:MEASUREMENT" in row["query"] for row in queries)
    again = setup(capsys, config)
    assert again.count("unchanged") == 9  # 3 zones x (2 policies + 1 continuous query)

    shorter = "  url: {}\n  retention:\n    watch-over: {{raw_days: 30, rollup_days: 365}}"
    write_config(config, shorter.format(influxdb.url))
    changed = setup(capsys, config)
    assert "civic_watch: raw (autogen) kept 30 days" in changed
    assert "policy autogen changed" in changed
    assert policies(influxdb, "civic_watch")["autogen"] == ("720h0m0s", True)


def test_setup_names_a_bad_retention_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "gateway.yaml", "  retention:\n    watch-over: {raw_dayz: 3}")
    assert main(["gateway", "setup", "--config", str(config)]) == 2
    error = capsys.readouterr().err
    assert "gateway.yaml" in error and "raw_dayz" in error


def test_setup_on_victoriametrics_says_retention_is_the_servers(
    tmp_path: Path, victoria: VictoriaMetrics, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "gateway.yaml", f"  dialect: v2\n  url: {victoria.url}")
    assert "-retentionPeriod" in setup(capsys, config)
