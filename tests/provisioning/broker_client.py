"""Connect to a provisioned broker as a device or a service, and see what it allows."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode


@dataclass
class Session:
    client: mqtt.Client
    connect_code: str = ""
    connected: threading.Event = field(default_factory=threading.Event)
    acks: dict[int, ReasonCode] = field(default_factory=dict)
    granted: dict[int, list[ReasonCode]] = field(default_factory=dict)
    messages: list[tuple[str, bytes]] = field(default_factory=list)
    done: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, topic: str, payload: bytes = b"x") -> ReasonCode:
        """Publish at QoS 1 and return the broker's PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=1)
        with self.done:
            self.done.wait_for(lambda: info.mid in self.acks, timeout=5)
        return self.acks[info.mid]

    def subscribe(self, topic: str) -> ReasonCode:
        _, mid = self.client.subscribe(topic, qos=1)
        with self.done:
            self.done.wait_for(lambda: mid in self.granted, timeout=5)
        return self.granted[mid][0]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(
    port: int,
    username: str | None,
    password: str | None,
    *,
    tls_dir: Path | None = None,
    client_cert: bool = True,
    client_id: str | None = None,
) -> Session:
    """Connect and wait for CONNACK; ``connect_code`` says what the broker answered
    ("Success", "Not authorized", ...) or why no MQTT session was possible."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id or username or "", protocol=mqtt.MQTTv5
    )
    session = Session(client)

    def on_connect(c: Any, u: Any, f: Any, rc: ReasonCode, p: Any) -> None:
        session.connect_code = str(rc)
        session.connected.set()

    def on_disconnect(c: Any, u: Any, f: Any, rc: ReasonCode, p: Any) -> None:
        # TLS 1.3 refuses a client certificate after the handshake: no CONNACK comes.
        if not session.connected.is_set():
            session.connect_code = f"disconnected: {rc}"
            session.connected.set()

    def on_publish(c: Any, u: Any, mid: int, rc: ReasonCode, p: Any) -> None:
        with session.done:
            session.acks[mid] = rc
            session.done.notify_all()

    def on_subscribe(c: Any, u: Any, mid: int, rcs: list[ReasonCode], p: Any) -> None:
        with session.done:
            session.granted[mid] = rcs
            session.done.notify_all()

    def on_message(c: Any, u: Any, message: mqtt.MQTTMessage) -> None:
        session.messages.append((message.topic, bytes(message.payload)))

    client.on_connect, client.on_publish = on_connect, on_publish
    client.on_subscribe, client.on_message = on_subscribe, on_message
    client.on_disconnect = on_disconnect
    if username is not None:
        client.username_pw_set(username, password)
    if tls_dir is not None:
        client.tls_set(
            ca_certs=str(tls_dir / "ca.crt"),
            certfile=str(tls_dir / "client.crt") if client_cert else None,
            keyfile=str(tls_dir / "client.key") if client_cert else None,
        )
    try:
        client.connect("127.0.0.1", port, keepalive=10)
    except OSError as exc:  # TLS refused before any MQTT packet
        session.connect_code = f"transport: {exc}"
        return session
    client.loop_start()
    if not session.connected.wait(5):
        session.connect_code = session.connect_code or "no CONNACK"
    return session
