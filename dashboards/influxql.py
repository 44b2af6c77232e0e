"""InfluxQL targets and template variables for grafana-foundation-sdk, which has no
InfluxDB builder of its own. Every query is InfluxQL so it runs on InfluxDB 1.x, 2.x
(v1 compatibility) and 3.x."""

from __future__ import annotations

from typing import Literal

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard as model

Zone = Literal["watch", "facility", "ops"]
DATASOURCE_UID = {"watch": "civic-watch", "facility": "civic-facility", "ops": "civic-ops"}


def datasource(zone: Zone) -> model.DataSourceRef:
    return model.DataSourceRef(type_val="influxdb", uid=DATASOURCE_UID[zone])


class InfluxQLQuery(cogvariants.Dataquery):
    def __init__(self, ref_id: str, query: str, zone: Zone, result_format: str) -> None:
        self.ref_id, self.query, self.zone, self.result_format = ref_id, query, zone, result_format

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": datasource(self.zone).to_json(),
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }


class InfluxQL(cogbuilder.Builder[cogvariants.Dataquery]):
    def __init__(self, query: str, zone: Zone, ref_id: str = "A", *, table: bool = False) -> None:
        self._query = InfluxQLQuery(ref_id, query, zone, "table" if table else "time_series")

    def build(self) -> cogvariants.Dataquery:
        return self._query


def tag_variable(name: str, label: str, measurement: str, zone: Zone) -> dash.QueryVariable:
    """A multi-value variable over a tag's values, "All" included."""
    return (
        dash.QueryVariable(name)
        .label(label)
        .datasource(datasource(zone))
        .query(f'SHOW TAG VALUES FROM "{measurement}" WITH KEY = "{name}"')
        .multi(True)
        .include_all(True)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
    )
