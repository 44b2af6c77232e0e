"""One packet over the broker's limit and the broker disconnects the sender; a service
that retried it would loop. The limit the broker is given and the one our publishers
check are the same number."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from civic_iot.services import Mosquitto
from common.mqttlink import BoundedPublisher, MqttConfig, new_client
from provisioning.broker import BrokerFiles, mosquitto_conf
from tests.support.mqtt import Recorder, wait_for
from wire import topics
from wire.payloads import MAX_PACKET_BYTES, fits_packet

pytestmark = pytest.mark.services


def test_the_broker_is_given_the_limit_our_publishers_check(tmp_path: Path) -> None:
    conf = mosquitto_conf(BrokerFiles(tmp_path, tmp_path / "db"), port=8883, local_port=1883,
                          client_certificates="required", user="mosquitto")  # fmt: skip
    assert f"\nmax_packet_size {MAX_PACKET_BYTES}\n" in conf
    assert fits_packet(topics.dead_letter("gw-1"), b"x" * (MAX_PACKET_BYTES - 1024))
    assert not fits_packet(topics.dead_letter("gw-1"), b"x" * MAX_PACKET_BYTES)


def test_a_message_over_the_limit_is_refused_and_counted_and_the_link_stays_up(
    tmp_path: Path,
) -> None:
    broker = Mosquitto(tmp_path / "mqtt", extra_config=f"max_packet_size {MAX_PACKET_BYTES}")
    broker.start()
    recorder = Recorder(broker, "out/#")
    client = new_client("bounded", MqttConfig(host=broker.host, port=broker.port))
    connected = threading.Event()
    disconnects: list[object] = []
    client.on_connect = lambda *args: connected.set()
    client.on_disconnect = lambda *args: disconnects.append(args)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        assert connected.wait(10)
        publish = BoundedPublisher(client)
        assert publish("out/big", b"x" * MAX_PACKET_BYTES) is False
        assert publish("out/small", b"fine") is True
        wait_for(recorder.snapshot, what="the small message")
        assert [topic for topic, *_ in recorder.snapshot()] == ["out/small"]
        assert publish.refused == 1
        assert client.is_connected() and disconnects == []
    finally:
        client.loop_stop()
        client.disconnect()
        recorder.close()
        broker.stop()
