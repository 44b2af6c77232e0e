"""Read back from the real stores: InfluxQL on InfluxDB 1.x, export on VictoriaMetrics."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

from civic_iot.services import InfluxDB, VictoriaMetrics


def influxql(server: InfluxDB, database: str, query: str) -> list[dict[str, Any]]:
    """Rows of the first statement's series, each row a dict with series tags merged."""
    params = urllib.parse.urlencode({"db": database, "q": query, "epoch": "ms"})
    with urllib.request.urlopen(f"{server.url}/query?{params}", timeout=10) as response:
        body = json.load(response)
    result = body["results"][0]
    if "error" in result:
        raise AssertionError(f"InfluxQL error for {query!r}: {result['error']}")
    rows = []
    for series in result.get("series", []):
        for values in series["values"]:
            row = dict(zip(series["columns"], values, strict=True))
            row.update(series.get("tags", {}))
            row["_measurement"] = series.get("name", "")
            rows.append(row)
    return rows


def vm_export(server: VictoriaMetrics, match: str) -> list[dict[str, Any]]:
    """Every series matching a selector, with raw values and timestamps."""
    urllib.request.urlopen(f"{server.url}/internal/force_flush", timeout=10).close()
    data = urllib.parse.urlencode({"match[]": match}).encode()
    with urllib.request.urlopen(f"{server.url}/api/v1/export", data=data, timeout=10) as resp:
        return [json.loads(line) for line in resp.read().splitlines() if line.strip()]
