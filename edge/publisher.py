"""The agent's MQTT link: MQTT v5, QoS 1, retained online/offline status.

paho callbacks run on paho's network thread; they only put a note on the agent's queue
so that all real work happens on the agent's own thread.
"""

from __future__ import annotations

import logging
import queue
from dataclasses import dataclass
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from civic_iot.mqttlink import MqttConfig, new_client
from wire import Status, encode, now_ms, topics

log = logging.getLogger(__name__)
QOS = 1


@dataclass(frozen=True)
class LinkEvent:
    """A connection change seen by paho's thread, handled on the agent's thread."""

    connected: bool
    reason: str


class MqttLink:
    def __init__(
        self, device_id: str, config: MqttConfig, agent: str, events: queue.Queue[Any]
    ) -> None:
        self._config = config
        self._agent = agent
        self._events = events
        self._status_topic = topics.status(device_id)
        self.client = new_client(device_id, config)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.will_set(
            self._status_topic, self._status("offline", "connection-lost"), qos=QOS, retain=True
        )

    def start(self) -> None:
        self.client.connect_async(self._config.host, self._config.port, self._config.keepalive_s)
        self.client.loop_start()

    def announce_online(self) -> None:
        self.client.publish(self._status_topic, self._status("online"), qos=QOS, retain=True)

    def publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=QOS)

    def close(self, timeout_s: float = 5.0) -> None:
        """Say offline (retained) so nobody waits for the will, then disconnect."""
        if self.client.is_connected():
            info = self.client.publish(
                self._status_topic, self._status("offline", "graceful"), qos=QOS, retain=True
            )
            try:
                info.wait_for_publish(timeout=timeout_s)
            except (RuntimeError, ValueError) as exc:
                log.warning("offline status not confirmed before shutdown: %s", exc)
        self.client.disconnect()
        self.client.loop_stop()

    def _status(self, state: Literal["online", "offline"], reason: str = "") -> bytes:
        return encode(Status(schema=1, state=state, ts=now_ms(), agent=self._agent, reason=reason))

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._events.put(LinkEvent(not reason_code.is_failure, str(reason_code)))

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._events.put(LinkEvent(False, str(reason_code)))
