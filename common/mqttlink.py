"""MQTT connection settings shared by the agent, the gateway and the tools, and the one
place that makes a paho client: VERSION2 callbacks, MQTT v5, TLS and credentials."""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from common.statelog import StateLog
from wire import Status, encode, now_ms
from wire.payloads import MAX_PACKET_BYTES, fits_packet

log = logging.getLogger(__name__)

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]


class TlsConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    ca_file: str
    cert_file: str | None = None
    key_file: str | None = None


class MqttConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    host: str = "127.0.0.1"
    port: Port = 1883
    username: str | None = None
    # Secrets live in their own file (0600), never in the config itself.
    password_file: str | None = None
    keepalive_s: Annotated[int, msgspec.Meta(ge=5, le=3600)] = 30
    tls: TlsConfig | None = None

    def relative_to(self, base: Path) -> MqttConfig:
        """The same settings with relative file paths taken from ``base`` (the directory
        of the config file), so a config and its secrets can move together."""

        def resolve(path: str | None) -> str | None:
            return None if path is None else str(base / path)

        tls = self.tls
        if tls is not None:
            tls = TlsConfig(
                ca_file=str(resolve(tls.ca_file)),
                cert_file=resolve(tls.cert_file),
                key_file=resolve(tls.key_file),
            )
        return msgspec.structs.replace(self, password_file=resolve(self.password_file), tls=tls)

    def password(self) -> str | None:
        if self.password_file is None:
            return None
        return Path(self.password_file).read_text(encoding="utf-8").strip()


def new_client(
    client_id: str, config: MqttConfig, make: Callable[..., mqtt.Client] = mqtt.Client
) -> mqtt.Client:
    """A paho client with our conventions; callbacks and connect are the caller's.
    ``make`` builds it (a subclass of paho's client, common/batchclient.py)."""
    client = make(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=client_id,
        protocol=mqtt.MQTTv5,
    )  # fmt: skip
    client.reconnect_delay_set(min_delay=1, max_delay=60)
    if config.username is not None:
        client.username_pw_set(config.username, config.password())
    if config.tls is not None:
        client.tls_set(
            ca_certs=config.tls.ca_file,
            certfile=config.tls.cert_file,
            keyfile=config.tls.key_file,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    return client


class ConnectionLog:
    """For a service's paho callbacks: says once when the link to the broker starts
    failing, with the reason (refused, unreachable, TLS), and once when it is back."""

    def __init__(self, logger: logging.Logger, config: MqttConfig) -> None:
        self._states = StateLog(logger)
        self._config = config
        self._source = f"broker {config.host}:{config.port}"

    def connected(self, reason_code: ReasonCode) -> bool:
        """From on_connect: true if the broker accepted us."""
        if reason_code.is_failure:
            self._states.failed(self._source, f"refused the connection: {reason_code}")
            return False
        self._states.ok(self._source)
        return True

    def connect_failed(self) -> None:
        """From on_connect_fail (no CONNACK): find out why, once per failure."""
        if not self._states.is_failing(self._source):
            self._states.failed(self._source, diagnose_connect(self._config))


def diagnose_connect(config: MqttConfig, timeout_s: float = 3.0) -> str:
    """Why a connection without a CONNACK failed, in words: paho says only that it did.
    Tries the same TCP and TLS steps once (blocking up to ``timeout_s`` each)."""
    where = f"{config.host}:{config.port}"
    try:
        with socket.create_connection((config.host, config.port), timeout=timeout_s) as sock:
            if config.tls is not None:
                _tls_context(config.tls).wrap_socket(sock, server_hostname=config.host).close()
        layers = "TCP" if config.tls is None else "TCP and TLS"
        return f"{where} accepts {layers} but closed the MQTT connection"
    except ssl.SSLError as exc:
        return f"TLS handshake with {where} failed: {exc.reason or exc}"
    except socket.gaierror as exc:
        return f"cannot resolve {config.host!r}: {exc.strerror}"
    except ConnectionRefusedError:
        return f"connection refused by {where} (no broker listening there?)"
    except TimeoutError:
        return f"no answer from {where} within {timeout_s:g} s (unreachable or filtered)"
    except OSError as exc:
        return f"cannot connect to {where}: {exc.strerror or exc}"


def _tls_context(tls: TlsConfig) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=tls.ca_file)
    if tls.cert_file:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


# -- retained online/offline status, shared by agents and services -------------------------


def status_payload(state: Literal["online", "offline"], agent: str, reason: str = "") -> bytes:
    return encode(Status(schema=1, state=state, ts=now_ms(), agent=agent, reason=reason))


class BoundedPublisher:
    """Publishes only what fits the broker's packet limit: one packet too big and the
    broker disconnects the client, and a retry would loop. What does not fit is counted
    and logged, never sent."""

    def __init__(self, client: mqtt.Client) -> None:
        self.client = client
        self.refused = 0

    def __call__(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> bool:
        if not fits_packet(topic, payload):
            self.refused += 1
            log.error("not published on %s: %d bytes exceed the broker's limit of %d",
                      topic, len(payload), MAX_PACKET_BYTES)  # fmt: skip
            return False
        self.client.publish(topic, payload, qos=qos, retain=retain)
        return True


def set_last_will(client: mqtt.Client, topic: str, agent: str) -> None:
    """The broker says ``offline`` (retained, ``connection-lost``) if we vanish."""
    will = status_payload("offline", agent, "connection-lost")
    client.will_set(topic, will, qos=1, retain=True)


def say_offline(client: mqtt.Client, topic: str, agent: str, timeout_s: float = 5.0) -> None:
    """On a clean stop, say ``offline`` (retained) ourselves so nobody waits for the will."""
    if not client.is_connected():
        return
    info = client.publish(topic, status_payload("offline", agent, "graceful"), qos=1, retain=True)
    try:
        info.wait_for_publish(timeout=timeout_s)
    except (RuntimeError, ValueError) as exc:
        log.warning("offline status not confirmed before shutdown: %s", exc)
