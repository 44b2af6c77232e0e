"""InfluxDB 1.x ``/write`` (also InfluxDB 2.x/3.x v1-compatibility endpoints)."""

from __future__ import annotations

from urllib.parse import urlencode

import urllib3

from gateway.errors import WriteError


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

    def ensure_databases(self, names: list[str]) -> None:
        for name in names:
            statement = f'CREATE DATABASE "{name}"'  # idempotent in InfluxQL
            self._request(name, f"/query?{urlencode({'q': statement})}", b"")

    def close(self) -> None:
        self._http.clear()

    def _request(self, database: str, path: str, body: bytes) -> None:
        try:
            response = self._http.request(
                "POST", self._url + path, body=body, headers=self._headers
            )
        except urllib3.exceptions.HTTPError as exc:
            raise WriteError(database, f"{self._url}: {exc}", retryable=True) from None
        if response.status < 300:
            return
        text = response.data.decode("utf-8", errors="replace").strip()[:500]
        raise WriteError(
            database,
            f"HTTP {response.status}: {text}",
            retryable=response.status >= 500 or response.status == 429,
            status=response.status,
        )
