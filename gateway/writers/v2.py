"""The InfluxDB v2 write API through influxdb-client (InfluxDB 2.x/3.x, VictoriaMetrics)."""

from __future__ import annotations

from typing import cast

import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from gateway import setup_v2
from gateway.errors import WriteError, network_reason
from gateway.retention import ZonePlan

# The library types its precision constants as str; the parameter wants the enum type.
_MS = cast(WritePrecision, WritePrecision.MS)


class V2Writer:
    def __init__(self, url: str, *, org: str, token: str, timeout_s: float = 10.0) -> None:
        self._url = url
        self._org = org
        # Retries are ours (with backoff and counting), not the client's.
        self._client = InfluxDBClient(
            url=url, token=token, org=org, timeout=int(timeout_s * 1000), retries=False
        )
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, database: str, lines: list[str]) -> None:
        try:
            self._api.write(bucket=database, org=self._org, record=lines, write_precision=_MS)
        except ApiException as exc:
            status = int(exc.status or 0)
            raise WriteError(
                database,
                f"HTTP {status}: {str(exc.body or exc.reason)[:500]}",
                retryable=status >= 500 or status == 429,
                status=status,
            ) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = f"{self._url}: {network_reason(exc)}"
            raise WriteError(database, reason, retryable=True) from None

    def set_up(self, zones: list[ZonePlan]) -> list[str]:
        try:
            return setup_v2.set_up(self._client.buckets_api(), self._org, self._url, zones)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = f"{self._url}: {network_reason(exc)}"
            raise WriteError(zones[0].database, reason, retryable=True) from None

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]
