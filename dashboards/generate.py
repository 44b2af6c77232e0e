"""Dashboards as JSON files (committed, so a review shows what changes) and Grafana's
file provisioning: one datasource per trust zone, one folder per audience."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from dashboards.catalog import BOARDS, build
from dashboards.influxql import DATASOURCE_UID

GENERATED = Path(__file__).parent / "generated"
DATABASES = {"watch": "civic_watch", "facility": "civic_facility", "ops": "civic_ops"}
ZONE_NAMES = {"watch": "見守り (civic_watch)", "facility": "施設 (civic_facility)",
              "ops": "運用 (civic_ops)"}  # fmt: skip


def dashboards_json() -> dict[str, str]:
    """Relative path (folder/uid.json) -> JSON text, for every dashboard."""
    files = {}
    for factory in BOARDS:
        board, dashboard = build(factory)
        text = json.dumps(dashboard, cls=JSONEncoder, ensure_ascii=False, indent=2, sort_keys=True)
        files[f"{board.folder}/{board.uid}.json"] = text + "\n"
    return files


def write_dashboards(target: Path = GENERATED) -> list[Path]:
    written = []
    for relative, text in dashboards_json().items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def datasources(influx_url: str) -> list[dict[str, Any]]:
    """One InfluxDB (InfluxQL) datasource per trust zone, as Grafana describes them."""
    return [
        {
            "name": ZONE_NAMES[zone],
            "uid": uid,
            "type": "influxdb",
            "access": "proxy",
            "url": influx_url,
            "jsonData": {"dbName": DATABASES[zone], "httpMode": "GET"},
            "editable": False,
        }
        for zone, uid in DATASOURCE_UID.items()
    ]


def provisioning_files(influx_url: str, dashboards_dir: Path) -> dict[str, str]:
    """Grafana's provisioning/datasources and provisioning/dashboards files."""
    sources = datasources(influx_url)
    providers = [{
        "name": "civic-iot",
        "type": "file",
        "disableDeletion": True,
        "allowUiUpdates": False,
        "options": {"path": str(dashboards_dir), "foldersFromFilesStructure": True},
    }]  # fmt: skip
    return {
        "datasources/civic-iot.yaml": json.dumps(
            {"apiVersion": 1, "datasources": sources}, ensure_ascii=False, indent=2
        ),
        "dashboards/civic-iot.yaml": json.dumps(
            {"apiVersion": 1, "providers": providers}, ensure_ascii=False, indent=2
        ),
    }


def write_provisioning(target: Path, influx_url: str) -> list[Path]:
    """Dashboards under target/dashboards and Grafana's files under target/provisioning."""
    boards = target / "dashboards"
    written = write_dashboards(boards)
    for relative, text in provisioning_files(influx_url, boards.resolve()).items():
        path = target / "provisioning" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        written.append(path)
    return written
