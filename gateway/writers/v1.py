"""InfluxDB 1.x ``/write`` (also InfluxDB 2.x/3.x v1-compatibility endpoints)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import urllib3

from gateway import setup_v1
from gateway.errors import WriteError, network_reason
from gateway.retention import ZonePlan


class V1Writer:
    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        retention_policy: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self._url = url.rstrip("/")
        self._rp = retention_policy
        self._http = urllib3.PoolManager(
            maxsize=4, retries=False, timeout=urllib3.Timeout(total=timeout_s)
        )
        self._headers = {"Content-Type": "text/plain; charset=utf-8"}
        if username is not None:
            self._headers |= urllib3.make_headers(basic_auth=f"{username}:{password or ''}")

    def write(self, database: str, lines: list[str]) -> None:
        query = {"db": database, "precision": "ms"}
        if self._rp:
            query["rp"] = self._rp
        body = "\n".join(lines).encode("utf-8")
        self._request(database, f"/write?{urlencode(query)}", body)

    def set_up(self, zones: list[ZonePlan]) -> list[str]:
        return setup_v1.set_up(self.query, zones, self._rp)

    def query(self, statement: str, database: str) -> list[dict[str, Any]]:
        """Run one InfluxQL statement; its series, or WriteError with the server's reason."""
        data = self._request(database, f"/query?{urlencode({'q': statement, 'db': database})}", b"")
        results = json.loads(data or b"{}").get("results") or [{}]
        if "error" in results[0]:
            raise WriteError(database, f"{statement}: {results[0]['error']}", retryable=False)
        return list(results[0].get("series", []))

    def close(self) -> None:
        self._http.clear()

    def _request(self, database: str, path: str, body: bytes) -> bytes:
        try:
            response = self._http.request(
                "POST", self._url + path, body=body, headers=self._headers
            )
        except urllib3.exceptions.HTTPError as exc:
            reason = f"{self._url}: {network_reason(exc)}"
            raise WriteError(database, reason, retryable=True) from None
        if response.status < 300:
            return bytes(response.data)
        text = response.data.decode("utf-8", errors="replace").strip()[:500]
        raise WriteError(
            database,
            f"HTTP {response.status}: {text}",
            retryable=response.status >= 500 or response.status == 429,
            status=response.status,
        )
