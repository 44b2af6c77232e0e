"""Dashboards as JSON files (committed, so a review shows what changes) and Grafana's
file provisioning: one datasource per trust zone, one folder per audience."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from common.city.inventory import load_inventory
from dashboards.catalog import BOARDS, build
from dashboards.influxql import DATASOURCE_UID

GENERATED = Path(__file__).parent / "generated"
CITY = Path(__file__).resolve().parents[1] / "firmware-config"
DATABASES = {"watch": "civic_watch", "facility": "civic_facility", "ops": "civic_ops"}
ZONE_NAMES = {"watch": "見守り (civic_watch)", "facility": "施設 (civic_facility)",
              "ops": "運用 (civic_ops)"}  # fmt: skip


def site_names(inventory: Path = CITY) -> dict[str, dict[str, str]]:
    """Per board zone, the sites it shows (ID -> Japanese name): homes on the
    watch-over board, facilities on the Wi-Fi board."""
    city = load_inventory(inventory)
    kinds = {"watch": "home", "facility": "facility"}
    return {zone: {s.id: s.name.ja for s in city.sites.values() if s.kind == kind}
            for zone, kind in kinds.items()}  # fmt: skip


def dashboards_json(inventory: Path = CITY) -> dict[str, str]:
    """Relative path (folder/uid.json) -> JSON text, for every dashboard of the city in
    ``inventory`` (its site pickers show the sites' names)."""
    names = site_names(inventory)
    files = {}
    for factory in BOARDS:
        board, dashboard = build(factory, names)
        text = json.dumps(dashboard, cls=JSONEncoder, ensure_ascii=False, indent=2, sort_keys=True)
        files[f"{board.folder}/{board.uid}.json"] = text + "\n"
    return files


def write_dashboards(target: Path = GENERATED, inventory: Path = CITY) -> list[Path]:
    written = []
    for relative, text in dashboards_json(inventory).items():
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
