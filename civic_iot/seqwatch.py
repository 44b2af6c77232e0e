"""Watch every device's sequence numbers on the broker: what arrived, what is missing."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import paho.mqtt.client as mqtt

from common.mqttlink import MqttConfig, new_client
from wire import Kind, WireError, decode_message, topics


class SequenceWatch:
    def __init__(self, config: MqttConfig) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, set[int]] = defaultdict(set)
        self._client = new_client("", config)
        kinds = (Kind.TELEMETRY, Kind.EVENT, Kind.HEALTH)
        self._client.on_connect = lambda c, u, f, rc, p: c.subscribe(
            [(topics.all_devices(kind), 1) for kind in kinds]
        )
        self._client.on_message = self._on_message
        self._client.connect(config.host, config.port, config.keepalive_s)
        self._client.loop_start()

    def received(self, device_id: str) -> int:
        with self._lock:
            return len(self._seen[device_id])

    def missing(self, device_id: str) -> list[int]:
        """Sequence numbers below the highest seen that never arrived."""
        with self._lock:
            seen = self._seen[device_id]
            top = max(seen, default=0)
            first = min(seen, default=1)
            return [seq for seq in range(first, top + 1) if seq not in seen]

    def highest(self, device_id: str) -> int:
        with self._lock:
            return max(self._seen[device_id], default=0)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            device = topics.parse(message.topic).device_id
            seq = decode_message(bytes(message.payload)).seq
        except WireError:
            return
        with self._lock:
            self._seen[device].add(seq)
