"""A plain paho client for tests: subscribe and record, or publish and wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from civic_iot.services import Mosquitto


class Recorder:
    """Subscribes to filters and keeps every message (topic, payload, retain)."""

    def __init__(
        self,
        broker: Mosquitto,
        *filters: str,
        client_id: str = "test-recorder",
        persistent: bool = False,
    ):
        """``persistent``: an MQTT v5 session the broker keeps (and queues for) while
        this recorder or the broker itself is restarting."""
        self.messages: list[tuple[str, bytes, bool]] = []
        self.arrivals: list[float] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in filters])
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._subscribed.set()
        self.client.on_message = self._on_message
        properties = None
        if persistent:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 3600
        self.client.reconnect_delay_set(0.1, 1)
        self.client.connect(
            broker.host, broker.port, clean_start=not persistent, properties=properties
        )
        self.client.loop_start()
        assert self._subscribed.wait(10), "test recorder could not subscribe"

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))
            self.arrivals.append(time.time())

    def snapshot(self) -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return list(self.messages)

    def timed(self) -> list[tuple[bytes, float]]:
        """Each payload with its arrival time, read together under the lock."""
        with self._lock:
            return [
                (payload, at)
                for (_, payload, _), at in zip(self.messages, self.arrivals, strict=True)
            ]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish(broker: Mosquitto, topic: str, payload: bytes, *, retain: bool = False) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def publish_many(broker: Mosquitto, messages: list[tuple[str, bytes]]) -> None:
    """Publish at QoS 1 over one connection; return when the broker has them all."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(100)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()


def wait_for(condition: Callable[[], Any], timeout_s: float = 20.0, what: str = "") -> Any:
    """Poll until condition() is truthy; fail with ``what`` when it never is."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.1)


def settle(condition: Callable[[], Any], timeout_s: float = 20.0) -> None:
    """Poll until condition() is truthy or time is up; the caller then asserts, so a
    failure shows pytest's diff of what arrived instead of a bare time-out."""
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
