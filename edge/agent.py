"""The agent loop: poll collectors on their intervals, publish what they read."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from civic_iot.statelog import StateLog
from edge import AGENT_NAME
from edge.collectors import Collector
from edge.config import AgentConfig
from edge.publisher import LinkEvent, MqttLink
from wire import CATALOGUE, Kind, Message, Reading, encode, now_ms, topics
from wire.payloads import MAX_READINGS

log = logging.getLogger(__name__)


class Agent:
    def __init__(self, config: AgentConfig, collectors: Sequence[Collector]) -> None:
        self.config = config
        self.collectors = list(collectors)
        self.events: queue.Queue[Any] = queue.Queue()
        self.link = MqttLink(config.device_id, config.mqtt, AGENT_NAME, self.events)
        self._seq = 0
        self._states = StateLog(log)
        self._connected = False

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set; wake the loop early with ``wake()``."""
        self.link.start()
        due = {collector.name: time.monotonic() for collector in self.collectors}
        try:
            while not stop.is_set():
                wait = max(0.0, min(due.values()) - time.monotonic())
                try:
                    self._handle(self.events.get(timeout=wait))
                    continue
                except queue.Empty:
                    pass
                now = time.monotonic()
                for collector in self.collectors:
                    if due[collector.name] <= now:
                        due[collector.name] = now + collector.interval_s
                        self._collect(collector)
        finally:
            self.link.close()

    def wake(self) -> None:
        self.events.put(None)

    def _handle(self, event: Any) -> None:
        if not isinstance(event, LinkEvent) or event.connected == self._connected:
            return
        self._connected = event.connected
        if event.connected:
            log.info("connected to %s:%s", self.config.mqtt.host, self.config.mqtt.port)
            self.link.announce_online()
        else:
            log.warning("connection lost (%s); readings wait in memory", event.reason)

    def _collect(self, collector: Collector) -> None:
        timestamp = now_ms()
        try:
            readings = collector.collect(timestamp)
        except Exception as exc:  # noqa: BLE001 - one bad collector must not stop the others
            self._states.failed(f"collector {collector.name!r}", f"{type(exc).__name__}: {exc}")
            return
        self._states.ok(f"collector {collector.name!r}")
        self.publish_readings(readings, timestamp)

    def publish_readings(self, readings: list[Reading], timestamp: int) -> None:
        """Send readings, each on the topic its quantity belongs to."""
        by_kind: dict[Kind, list[Reading]] = defaultdict(list)
        for reading in readings:
            by_kind[CATALOGUE[reading.quantity].topic_kind].append(reading)
        for kind, group in by_kind.items():
            topic = topics.device_topic(self.config.device_id, kind)
            for start in range(0, len(group), MAX_READINGS):
                message = Message(
                    schema=1,
                    seq=self._next_seq(),
                    ts=timestamp,
                    readings=group[start : start + MAX_READINGS],
                )
                self.link.publish(topic, encode(message))

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq
