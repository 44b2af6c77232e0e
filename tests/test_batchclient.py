"""The batch-receiving paho client (common/batchclient.py) against a real Mosquitto:
every message arrives once, in order, with its exact payload, whatever its size, QoS
or properties; what it acknowledges is not sent again, what it does not is."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from civic_iot.services import Mosquitto
from common.batchclient import BatchClient, Received
from common.mqttlink import MqttConfig
from common.serviceclient import ServiceClient
from tests.support.mqtt import wait_for

pytestmark = pytest.mark.services
log = logging.getLogger(__name__)


class Collected:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.probes = 0  # messages on "probe": the subscription is in place
        self.batches = 0
        self.open = threading.Event()  # cleared: the receiving thread waits (a busy service)
        self.open.set()
        self._lock = threading.Lock()

    def deliver(self, received: list[Received]) -> None:
        self.open.wait()
        with self._lock:
            self.messages += [m for m in received if m.topic != "probe"]
            self.probes += sum(m.topic == "probe" for m in received)
            self.batches += 1


@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[mqtt.Client]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, "test-pub", protocol=mqtt.MQTTv5)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    yield client
    client.disconnect()
    client.loop_stop()


def service(mosquitto: Mosquitto, collected: Collected, publisher: mqtt.Client) -> ServiceClient:
    """Connected and subscribed: a probe published until one arrives."""
    client = ServiceClient(
        "batch", MqttConfig(host=mosquitto.host, port=mosquitto.port), log,
        deliver_batch=collected.deliver, subscriptions=lambda: ["t/#", "probe"],
        manual_ack=True,
    )  # fmt: skip
    client.start(session_expiry_s=600, receive_maximum=5000)
    assert client.connected.wait(10)
    wait_for(lambda: publisher.publish("probe", b"", qos=0) and collected.probes,
             what="the subscription")  # fmt: skip
    return client


def test_every_message_arrives_once_in_order_whatever_its_size_qos_or_properties(
    mosquitto: Mosquitto, publisher: mqtt.Client
) -> None:
    collected = Collected()
    client = service(mosquitto, collected, publisher)
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.UserProperty = ("trace", "x" * 300)
    properties.MessageExpiryInterval = 600
    sent = []
    collected.open.clear()  # what comes in meanwhile piles up, as behind a busy gateway
    for index in range(3000):
        size = 700_000 if index % 997 == 0 else index % 300  # some span many reads
        payload = bytes([index % 251]) * size
        qos = index % 2
        props = properties if index % 3 == 0 else None
        publisher.publish(f"t/{index % 7}/ü", payload, qos=qos, properties=props)
        sent.append((f"t/{index % 7}/ü", payload, qos))
    publisher.publish("probe", b"", qos=1).wait_for_publish(10)  # after every t/ message
    collected.open.set()
    wait_for(lambda: len(collected.messages) >= len(sent), what="every message", timeout_s=30)
    got = [(m.topic, m.payload, m.qos) for m in collected.messages]
    # In order within each QoS (a publisher holds QoS 1 back past its in-flight window
    # while QoS 0 goes out at once).
    for qos in (0, 1):
        assert [m for m in got if m[2] == qos] == [m for m in sent if m[2] == qos]
    assert len(got) == len(sent)
    assert collected.batches < len(sent) / 5, "messages are handed over in batches"
    client.ack_many(m.mid for m in collected.messages if m.qos == 1)
    client.close()


def test_what_is_acknowledged_is_not_sent_again_and_what_is_not_is(
    mosquitto: Mosquitto, publisher: mqtt.Client
) -> None:
    first = Collected()
    client = service(mosquitto, first, publisher)
    for index in range(10):
        publisher.publish("t/x", str(index).encode(), qos=1)
    wait_for(lambda: len(first.messages) == 10, what="ten messages")
    chatter = threading.Event()  # messages still coming in while it disconnects
    threading.Thread(target=_chatter, args=(publisher, chatter), daemon=True).start()
    client.ack_many(m.mid for m in first.messages[:6])
    client.close()  # once the broker has handled the acknowledgements
    chatter.set()

    again = Collected()
    client = service(mosquitto, again, publisher)  # the same session
    wait_for(lambda: len(again.messages) == 4, what="the four unacknowledged again")
    assert [m.payload for m in again.messages] == [b"6", b"7", b"8", b"9"]
    client.close()


def _chatter(publisher: mqtt.Client, stop: threading.Event) -> None:
    while not stop.wait(0.0002):
        publisher.publish("probe", b"", qos=0)


packet = st.tuples(
    st.sampled_from([0, 1]),  # QoS
    st.text(alphabet="ab/ü", min_size=1, max_size=20),
    st.binary(max_size=600),
    st.binary(max_size=40),  # properties (skipped, whatever they hold)
)


@settings(max_examples=200, deadline=None)
@given(packets=st.lists(packet, min_size=1, max_size=20), cuts=st.lists(st.integers(1, 50)))
def test_packets_split_anywhere_between_reads_come_out_whole(
    packets: list[tuple[int, str, bytes, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(_publish_bytes(mid, *p) for mid, p in enumerate(packets, start=1))
    collected = Collected()
    client = BatchClient(
        collected.deliver, callback_api_version=CallbackAPIVersion.VERSION2,
        protocol=mqtt.MQTTv5,
    )  # fmt: skip
    at = 0
    for cut in [*cuts, len(stream)]:
        client._buffer += stream[at : at + cut]
        at += cut
        assert client._handle_buffer() == mqtt.MQTT_ERR_SUCCESS
        client._hand_over()
    expected = [(topic, payload, qos) for qos, topic, payload, _ in packets]
    assert [(m.topic, m.payload, m.qos) for m in collected.messages] == expected
    assert not client._buffer


def _publish_bytes(mid: int, qos: int, topic: str, payload: bytes, properties: bytes) -> bytes:
    name = topic.encode()
    body = len(name).to_bytes(2, "big") + name
    if qos:
        body += mid.to_bytes(2, "big")
    body += _varint(len(properties)) + properties + payload
    return bytes([0x30 | qos << 1]) + _varint(len(body)) + body


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value % 128, value // 128
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
