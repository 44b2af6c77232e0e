"""The alerts service's own figures: ``/metrics`` (Prometheus text) and ``/healthz``.

The loop refreshes a snapshot at every tick (SQLite belongs to the loop's thread); the
HTTP thread only reads it. /healthz answers 503 while the broker is unreachable: the
service keeps running and says so.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from alerts.core import AlertsCore

_COUNTERS = {
    "messages": "MQTT messages handled",
    "refused": "messages refused (contract, clock ahead, unknown topic)",
    "errors": "inputs whose handling failed and was skipped",
}
_GAUGES = {
    "open_alerts": "alerts firing or acknowledged",
    "pending_notifications": "notifications waiting for delivery (incl. quiet hours)",
    "failed_notifications": "notifications given up on",
    "last_message_age_s": "seconds since the last MQTT message (-1: none yet)",
}


class Health(Collector):
    def __init__(
        self, core: AlertsCore, connected: threading.Event, inbox: queue.Queue[Any]
    ) -> None:
        self._core = core
        self._connected = connected
        self._inbox = inbox
        self._snapshot: dict[str, float] = {}
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self)

    def refresh(self) -> None:
        """On the loop's thread."""
        self._snapshot = self._core.figures()

    def figures(self) -> dict[str, float]:
        figures = dict(self._snapshot)
        figures.update({name: float(self._core.counts[name]) for name in _COUNTERS})
        figures["inbox"] = float(self._inbox.qsize())
        figures["broker_connected"] = 1.0 if self._connected.is_set() else 0.0
        return figures

    def healthz(self) -> tuple[int, bytes]:
        figures = self.figures()
        problems = [] if self._connected.is_set() else ["broker not connected"]
        if figures.get("failed_notifications", 0) > 0:
            problems.append("some notifications could not be delivered")
        status = "ok" if not problems else "degraded"
        body = {"status": status, "problems": problems, **figures}
        code = 503 if not self._connected.is_set() else 200
        return code, json.dumps(body, ensure_ascii=False).encode()

    def metrics(self) -> bytes:
        return generate_latest(self._registry)

    def collect(self) -> Iterator[Metric]:
        figures = self.figures()
        for name, text in _COUNTERS.items():
            yield CounterMetricFamily(f"civic_alerts_{name}", text, value=figures.get(name, 0))
        for name, text in _GAUGES.items():
            yield GaugeMetricFamily(f"civic_alerts_{name}", text, value=figures.get(name, 0))
        connected = figures["broker_connected"]
        yield GaugeMetricFamily("civic_alerts_broker_connected", "1 when connected", connected)
