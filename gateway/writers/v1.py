"""InfluxDB 1.x ``/write`` (also InfluxDB 2.x/3.x v1-compatibility endpoints).

Kept-alive connections from the standard library's ``http.client``, one per write in
flight (the durable core writes from a few threads at once: InfluxDB parses each
request on about one core); urllib3 (urllib3-future, which niquests brings) cost a
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
        self._idle: list[http.client.HTTPConnection] = []  # kept alive between requests
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
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _request(self, database: str, path: str, body: bytes) -> bytes:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        try:
            try:
                connection, status, data = self._exchange(connection, path, body)
            except _STALE:
                # InfluxDB closed the kept-alive connection between two writes; a write
                # is idempotent, so once more on a new one.
                connection, status, data = self._exchange(None, path, body)
        except (OSError, http.client.HTTPException) as exc:
            reason = f"{self._url}: {network_reason(exc)}"
            raise WriteError(database, reason, retryable=True) from None
        if connection is not None:
            with self._lock:
                self._idle.append(connection)
        if status < 300:
            return data
        text = data.decode("utf-8", errors="replace").strip()[:500]
        raise WriteError(
            database,
            f"HTTP {status}: {text}",
            retryable=status >= 500 or status == 429,
            status=status,
        )

    def _exchange(
        self, connection: http.client.HTTPConnection | None, path: str, body: bytes
    ) -> tuple[http.client.HTTPConnection | None, int, bytes]:
        """One request; the connection to keep (None: the server closes it). A
        connection that failed is closed, never kept."""
        if connection is None:
            connection = _connect(self._url, self._timeout_s)
        try:
            url_path = urlsplit(self._url).path
            connection.request("POST", url_path + path, body=body, headers=self._headers)
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
            return None, response.status, data
        return connection, response.status, data


def _connect(url: str, timeout_s: float) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise http.client.InvalidURL(f"expected http(s)://host[:port], found {url!r}")
    if parts.scheme == "https":
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=timeout_s)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout_s)
