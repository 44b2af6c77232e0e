"""The agent's MQTT connection: MQTT v5, QoS 1, persistent session, retained status.

paho's own reconnect backs off without jitter, so hundreds of Pis that lost the same
uplink would all come back in the same second. This link runs paho's network loop on
its own thread and reconnects with full-jitter exponential backoff. paho callbacks only
put a note on the agent's queue; all real work happens on the agent's thread.
"""

from __future__ import annotations

import logging
import queue
import random
import ssl
import threading
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from common.mqttlink import MqttConfig, new_client, say_offline, set_last_will, status_payload
from wire import topics

log = logging.getLogger(__name__)
QOS = 1
BACKOFF_MIN_S = 1.0
BACKOFF_MAX_S = 120.0


class LinkEvent(NamedTuple):
    connected: bool
    reason: str


class Acked(NamedTuple):
    message_id: int
    # The broker's reason when it refused the message (an ACL, a size limit).
    refused: str = ""


class Inbound(NamedTuple):
    topic: str
    payload: bytes
    response_topic: str | None
    correlation: bytes | None


def _write_on_the_link_thread(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """paho's hook for an external event loop; the link's own loop() does the write."""


def jittered(attempt: int, cap_s: float = BACKOFF_MAX_S) -> float:
    """Full jitter: uniform over [0, min(cap, min * 2^attempt)], at least half a second."""
    ceiling = min(cap_s, BACKOFF_MIN_S * 2 ** min(attempt, 30))
    return max(0.5, random.uniform(0, ceiling))  # noqa: S311 - spreading load, not secrecy


class MqttLink:
    def __init__(
        self,
        device_id: str,
        config: MqttConfig,
        agent: str,
        events: queue.Queue[Any],
        *,
        session_expiry_s: int = 7 * 24 * 3600,
        reconnect_max_s: float = BACKOFF_MAX_S,
    ) -> None:
        self.device_id = device_id
        self._config = config
        self._agent = agent
        self._events = events
        self._session_expiry_s = session_expiry_s
        self._reconnect_max_s = reconnect_max_s
        self._status_topic = topics.status(device_id)
        self._stopping = threading.Event()
        self._attempt = 0
        self._thread = threading.Thread(target=self._run, name="mqtt-link", daemon=True)
        self.client = new_client(device_id, config)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        # All socket I/O stays on the link's thread. Without this hook paho writes a
        # publish from the caller's thread while this thread reads: two threads on one
        # TLS connection corrupt it (Mosquitto: "disconnected: Protocol error").
        # paho still wakes this thread's select() to send what was queued.
        self.client.on_socket_register_write = _write_on_the_link_thread
        set_last_will(self.client, self._status_topic, agent)

    # -- used by the agent's thread ------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int:
        return self.client.publish(topic, payload, qos=QOS, retain=retain).mid

    def respond(self, topic: str, payload: bytes, correlation: bytes | None) -> None:
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        if correlation is not None:
            properties.CorrelationData = correlation
        self.client.publish(topic, payload, qos=QOS, properties=properties)

    def announce_online(self) -> None:
        self.publish(self._status_topic, status_payload("online", self._agent), retain=True)

    def close(self, timeout_s: float = 5.0) -> None:
        """Say offline (retained) so nobody waits for the will, then disconnect."""
        say_offline(self.client, self._status_topic, self._agent, timeout_s)
        self._stopping.set()
        self.client.disconnect()
        self._thread.join(timeout=timeout_s)

    # -- the network thread --------------------------------------------------------------

    def _run(self) -> None:
        first = True
        while not self._stopping.is_set():
            try:
                if first:
                    first = False
                    self.client.connect(
                        self._config.host,
                        self._config.port,
                        self._config.keepalive_s,
                        clean_start=False,
                        properties=self._connect_properties(),
                    )
                else:
                    self.client.reconnect()
            except (OSError, ssl.SSLError, mqtt.WebsocketConnectionError) as exc:
                self._events.put(LinkEvent(False, f"cannot connect: {exc}"))
                self._back_off()
                continue
            while not self._stopping.is_set():
                if self.client.loop(timeout=1.0) != mqtt.MQTT_ERR_SUCCESS:
                    break
            if not self._stopping.is_set():
                self._back_off()

    def _back_off(self) -> None:
        self._stopping.wait(jittered(self._attempt, self._reconnect_max_s))
        self._attempt += 1

    def _connect_properties(self) -> Properties:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        # Keep our session, with queued commands and config, while we are away.
        properties.SessionExpiryInterval = self._session_expiry_s
        return properties

    # -- paho callbacks: tiny, they only queue -------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not reason_code.is_failure:
            self._attempt = 0
            # Subscribing again makes the broker resend the retained desired config.
            client.subscribe(
                [
                    (topics.config_desired(self.device_id), QOS),
                    (topics.command_request(self.device_id), QOS),
                    (topics.release_desired(self.device_id), QOS),
                ]
            )
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

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        """No CONNACK at all: the network refused, or the TLS handshake failed."""
        self._events.put(LinkEvent(False, "cannot connect (refused, unreachable or TLS)"))

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._events.put(Acked(mid, str(reason_code) if reason_code.is_failure else ""))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        props = message.properties
        self._events.put(
            Inbound(
                message.topic,
                bytes(message.payload),
                getattr(props, "ResponseTopic", None),
                getattr(props, "CorrelationData", None),
            )
        )
