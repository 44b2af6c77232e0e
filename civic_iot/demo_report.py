"""What the demo prints at the end: the device registry and the operations figures."""

from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from civic_iot import cli_reports
from civic_iot.devicetable import render
from civic_iot.services import InfluxDB
from common.yamlconf import ConfigError
from gateway import config as gateway_config
from gateway import registry
from gateway.schema import Databases
from wire import now_ms


def print_registry(config_path: Path) -> None:
    config = gateway_config.load(config_path)
    path = Path(config.state_dir) / "registry.sqlite3"
    print(f"\ndevice registry (civic-iot devices --config {config_path}):")
    print(render(registry.read(path), now_ms(), config.offline_after_s), flush=True)


def print_operations(influx: InfluxDB) -> None:
    """Per device: messages, sequence numbers missing or twice, worst lag; dead letters."""
    ops = Databases().operations
    query = (
        "SELECT sum(messages), last(seq_missing), sum(seq_duplicates), max(lag_max_ms) "
        "FROM ingest GROUP BY device"
    )
    print(f"\noperations figures ({ops}.ingest, {ops}.gateway):")
    print(f"  {'device':<22} {'messages':>8} {'missing':>8} {'dup':>5} {'worst lag':>10}")
    for series in query_influx(influx, ops, query).get("series", []):
        _, messages, missing, duplicates, lag = series["values"][0]
        print(
            f"  {series['tags']['device']:<22} {messages or 0:>8} {missing or 0:>8} "
            f"{duplicates or 0:>5} {(lag or 0) / 1000:>9.1f}s"
        )
    totals = query_influx(
        influx, ops, "SELECT last(dead_letters), last(unknown_device_messages) FROM gateway"
    )
    for series in totals.get("series", []):
        _, dead, unknown = series["values"][0]
        print(f"  dead letters: {dead}, messages from unknown devices: {unknown}", flush=True)


def query_influx(influx: InfluxDB, database: str, query: str) -> dict[str, Any]:
    params = urllib.parse.urlencode({"db": database, "q": query})
    try:
        with urllib.request.urlopen(f"{influx.url}/query?{params}", timeout=5) as response:  # noqa: S310
            result: dict[str, Any] = json.load(response)["results"][0]
    except OSError:
        return {}
    return result


def write_reports(state: Path, config_path: Path) -> None:
    """The open-data AP list and today's Wi-Fi usage, as `civic-iot reports` writes them."""
    reports = state / "reports"
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    # What `civic-iot reports opendata` and `reports wifi-usage` write for a clerk; a
    # report that cannot be made is said, and the demo goes on.
    try:
        cli_reports.write_opendata(cli_reports.REPO_ROOT / "firmware-config",
                                   reports / "public_wireless_lan.csv")  # fmt: skip
        cli_reports.write_wifi_usage(config_path, str(today), str(today + timedelta(days=1)),
                                     reports)  # fmt: skip
    except ConfigError as exc:
        print(f"civic-iot: error: {exc}", file=sys.stderr)


def provision_grafana(state: Path, influx_url: str) -> None:
    """Dashboards and provisioning files for a Grafana to show the demo's live data."""
    from dashboards.generate import write_provisioning  # noqa: PLC0415

    write_provisioning(state / "grafana", influx_url)
    target = state / "grafana" / "provisioning"
    print(f"  Grafana dashboards:     point a Grafana's paths.provisioning at {target}")


def print_open_alerts(influx: InfluxDB) -> None:
    """The dashboards' 「対応が必要な通知」 panel, run on the demo's InfluxDB."""
    from dashboards.catalog import open_alerts_query  # noqa: PLC0415

    databases = Databases()
    print("\nopen alerts as the dashboards show them (対応が必要な通知):")
    for database in (databases.watch_over, databases.facility):
        stored = query_influx(influx, database, 'SELECT count("open") FROM "alert"')
        count = sum(s["values"][0][1] for s in stored.get("series", []))
        query = open_alerts_query().replace("$site", ".*")
        rows = [(series["tags"], row) for series in query_influx(influx, database, query).get(
            "series", []) for row in series["values"]]  # fmt: skip
        print(f"  {database}: {count} alert states stored, {len(rows)} open")
        for tags, (_, opened, title, state) in rows:
            since = datetime.fromtimestamp(opened / 1000, ZoneInfo("Asia/Tokyo"))
            print(f"    {tags['site']:<18} {tags['severity']:<12} {state:<13} "
                  f"since {since:%H:%M}  {title}")  # fmt: skip
