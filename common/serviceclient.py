"""The one MQTT client set-up the services share (gateway, alerts service, fleet tool):
MQTT v5 with VERSION2 callbacks, a retained online/offline status with a last will,
subscriptions made again on every connect, a connection log that says once why the
broker cannot be reached, publishing bounded by the broker's packet limit.

paho's callbacks stay tiny: a message only goes to ``deliver`` (a queue's put), and
the service's own thread does the work.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from common.batchclient import BatchClient, DeliverBatch, Received
from common.mqttlink import (
    BoundedPublisher,
    ConnectionLog,
    MqttConfig,
    new_client,
    say_offline,
    set_last_will,
    status_payload,
)
from common.roundtrip import RoundTripClient

QOS = 1
_ROUND_TRIP_S = 5.0
Inbound = Received  # topic, payload, mid, qos, properties


class ServiceStatus(NamedTuple):
    topic: str  # where the retained online/offline status goes
    agent: str  # "civic-iot-gateway/0.1.0"


class ServiceClient:
    def __init__(
        self,
        client_id: str,
        config: MqttConfig,
        logger: logging.Logger,
        *,
        deliver: Callable[[Inbound], None] | None = None,
        deliver_batch: DeliverBatch | None = None,
        subscriptions: Callable[[], list[str]] = list,
        status: ServiceStatus | None = None,
        manual_ack: bool = False,
        max_inflight: int | None = None,
    ) -> None:
        self.config = config
        self.connected = threading.Event()
        self._log = logger
        if deliver is not None:
            self._deliver = deliver
        elif deliver_batch is not None:
            self._deliver = lambda inbound: deliver_batch([inbound])
        else:
            raise ValueError("a service client needs deliver or deliver_batch")
        self._subscriptions = subscriptions
        self._status = status
        self._link_log = ConnectionLog(logger, config)
        # A service that takes messages in batches gets paho's reading replaced
        # (common/batchclient.py); the others get paho's own, with v5 properties.
        make: Callable[..., RoundTripClient] = RoundTripClient
        if deliver_batch is not None:
            make = functools.partial(BatchClient, deliver_batch)
        client = new_client(client_id, config, make)
        assert isinstance(client, RoundTripClient)
        self.client = client
        self.client.manual_ack_set(manual_ack)
        if max_inflight is not None:
            self.client.max_inflight_messages_set(max_inflight)
        if status is not None:
            set_last_will(self.client, status.topic, status.agent)
        self.client.on_connect = self._on_connect
        self.client.on_connect_fail = lambda client, userdata: self._link_log.connect_failed()
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.publish = BoundedPublisher(self.client)

    def start(self, *, session_expiry_s: int = 0, receive_maximum: int | None = None) -> None:
        """Connect in the background (and again whenever the link drops)."""
        self.client.connect_async(
            self.config.host,
            self.config.port,
            self.config.keepalive_s,
            clean_start=False,
            properties=self._connect_properties(session_expiry_s, receive_maximum),
        )
        self.client.loop_start()

    def connect_now(self) -> None:
        """Connect before returning (a command-line tool); OSError if it cannot."""
        self.client.connect(self.config.host, self.config.port, self.config.keepalive_s)
        self.client.loop_start()

    def ack(self, mid: int, qos: int) -> None:
        self.client.ack(mid, qos)

    def ack_many(self, mids: Iterable[int]) -> None:
        """Acknowledge QoS 1 messages; in one write with a batch-receiving client."""
        if isinstance(self.client, BatchClient):
            self.client.ack_many(mids)
            return
        for mid in mids:
            self.client.ack(mid, QOS)

    def unsubscribe(self) -> None:
        """Stop new messages (a service that is stopping drains what it has)."""
        topics = self._subscriptions()
        if topics:
            self.client.unsubscribe(topics)

    def close(self) -> None:
        """Disconnect once the broker has handled what was sent (acknowledgements
        above all: common/roundtrip.py says why)."""
        if self._status is not None:
            say_offline(self.client, self._status.topic, self._status.agent)  # a round trip
        elif self.client.is_connected() and not self.client.round_trip(_ROUND_TRIP_S):
            self._log.warning("the broker did not answer before disconnect; "
                              "unconfirmed acknowledgements may bring messages again")  # fmt: skip
        self.client.disconnect()
        self.client.loop_stop()

    # -- paho callbacks: tiny ----------------------------------------------------------

    def _connect_properties(self, session_expiry_s: int, receive_maximum: int | None) -> Any:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = session_expiry_s
        if receive_maximum is not None:
            properties.ReceiveMaximum = receive_maximum
        return properties

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if not self._link_log.connected(reason):
            return
        topics = self._subscriptions()
        if topics:
            client.subscribe([(topic, QOS) for topic in topics])
        if self._status is not None:
            online = status_payload("online", self._status.agent)
            client.publish(self._status.topic, online, qos=QOS, retain=True)
        self.connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, props: Any
    ) -> None:
        if self.connected.is_set():  # why matters: a packet too large, a session taken over
            self._log.warning("disconnected from the broker: %s", reason)
        self.connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        props = getattr(message, "properties", None)
        payload = bytes(message.payload)
        self._deliver(Inbound(message.topic, payload, message.mid, message.qos, props))
