"""Wait for a retained online status, to know a service has subscribed and is ready."""

from __future__ import annotations

import threading
from typing import Any

import paho.mqtt.client as mqtt

from common.mqttlink import MqttConfig, new_client
from wire import PayloadError, Status, decode


def wait_online(config: MqttConfig, status_topic: str, timeout_s: float = 30.0) -> bool:
    """True once ``status_topic`` says online; False if it does not within the time."""
    online = threading.Event()

    def on_message(client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            if decode(bytes(message.payload), Status).state == "online":
                online.set()
        except PayloadError:
            pass

    client = new_client("", config)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(status_topic, qos=1)
    client.on_message = on_message
    client.connect(config.host, config.port, config.keepalive_s)
    client.loop_start()
    try:
        return online.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()
