"""The gateway's own HTTP endpoint: ``/metrics`` (Prometheus) and ``/healthz``.

Both read a snapshot the ingest thread publishes; nothing here touches ingest state.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """What the endpoint shows; replaced as a whole by the ingest thread."""

    counters: dict[str, int] = field(default_factory=dict)
    gauges: dict[str, int] = field(default_factory=dict)
    devices: dict[str, int] = field(default_factory=dict)
    broker_connected: bool = False
    influx_problem: str = ""
    spool_full: bool = False

    def health(self) -> tuple[int, dict[str, object]]:
        """HTTP status and body: 503 when readings cannot reach durability."""
        failing = [
            *([] if self.broker_connected else ["not connected to the MQTT broker"]),
            *(["the spool is full: points are being dropped"] if self.spool_full else []),
        ]
        degraded = [f"InfluxDB: {self.influx_problem}; spooling"] if self.influx_problem else []
        state = "failing" if failing else "degraded" if degraded else "ok"
        body: dict[str, object] = {
            "status": state,
            "problems": failing + degraded,
            "broker_connected": self.broker_connected,
            **self.gauges,
            "devices": self.devices,
        }
        return (503 if failing else 200), body


class _SnapshotCollector(Collector):
    def __init__(self, read: Callable[[], Snapshot]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        snapshot = self._read()
        for name, value in snapshot.counters.items():
            counter = CounterMetricFamily(f"civic_gateway_{name}", f"gateway {name} since start")
            counter.add_metric([], value)
            yield counter
        for name, value in snapshot.gauges.items():
            gauge = GaugeMetricFamily(f"civic_gateway_{name}", f"gateway {name} now")
            gauge.add_metric([], value)
            yield gauge
        devices = GaugeMetricFamily(
            "civic_gateway_devices", "devices in the registry by state", labels=["state"]
        )
        for state, count in snapshot.devices.items():
            devices.add_metric([state], count)
        yield devices
        up = GaugeMetricFamily("civic_gateway_broker_connected", "1 while connected to MQTT")
        up.add_metric([], int(snapshot.broker_connected))
        yield up


class HttpApi:
    def __init__(self, host: str, port: int, read: Callable[[], Snapshot]) -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_SnapshotCollector(read))
        handler = _handler(registry, read)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="gateway-http", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        log.info("metrics and health on http://%s:%d/", *self._server.server_address[:2])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(
    registry: CollectorRegistry, read: Callable[[], Snapshot]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, "text/plain; version=0.0.4", generate_latest(registry))
            elif self.path in ("/healthz", "/health"):
                status, body = read().health()
                self._send(status, "application/json", json.dumps(body).encode())
            else:
                self._send(404, "text/plain", b"try /metrics or /healthz\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("http: " + format, *args)

    return Handler
