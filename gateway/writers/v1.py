"""InfluxDB 1.x ``/write`` (also InfluxDB 2.x/3.x v1-compatibility endpoints).

One kept-alive connection from the standard library's ``http.client``: the gateway
writes from one thread, and urllib3 (urllib3-future, which niquests brings) cost a
sixth of the gateway's CPU at 150,000 points/s and 10 MiB of memory for nothing we use.
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit

from gateway import setup_v1
from gateway.errors import WriteError, network_reason
from gateway.retention import ZonePlan

_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


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
        self._timeout_s = timeout_s
        self._connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._headers = {"Content-Type": "text/plain; charset=utf-8"}
        if username is not None:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"

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
        with self._lock:
            self._drop_connection()

    def _request(self, database: str, path: str, body: bytes) -> bytes:
        with self._lock:
            try:
                try:
                    status, data = self._exchange(path, body)
                except _STALE:
                    # InfluxDB closed the kept-alive connection between two writes; a
                    # write is idempotent, so once more on a new one.
                    self._drop_connection()
                    status, data = self._exchange(path, body)
            except (OSError, http.client.HTTPException) as exc:
                self._drop_connection()  # a new one next time
                reason = f"{self._url}: {network_reason(exc)}"
                raise WriteError(database, reason, retryable=True) from None
        if status < 300:
            return data
        text = data.decode("utf-8", errors="replace").strip()[:500]
        raise WriteError(
            database,
            f"HTTP {status}: {text}",
            retryable=status >= 500 or status == 429,
            status=status,
        )

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def _exchange(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self._connection is None:
            self._connection = _connect(self._url, self._timeout_s)
        url_path = urlsplit(self._url).path
        self._connection.request("POST", url_path + path, body=body, headers=self._headers)
        response = self._connection.getresponse()
        data = response.read()
        if response.will_close:
            self._drop_connection()
        return response.status, data


def _connect(url: str, timeout_s: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise http.client.InvalidURL(f"expected http(s)://host[:port], found {url!r}")
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout_s)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
