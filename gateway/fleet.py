"""Fleet management for IT, over MQTT: look at a device, push its desired config and
wait for the version it reports, send it a command and wait for the answer."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from common.mqttlink import MqttConfig
from common.serviceclient import Inbound, ServiceClient
from wire import (
    CommandRequest,
    CommandResponse,
    ConfigDesired,
    ConfigReported,
    PayloadError,
    ReleaseReported,
    Status,
    TopicError,
    decode,
    encode,
    now_ms,
    topics,
)
from wire.topics import Kind

QOS = 1
log = logging.getLogger(__name__)


class FleetError(Exception):
    """A fleet request that got no (usable) answer in time; says what and from whom."""


@dataclass(frozen=True)
class DeviceView:
    device_id: str
    status: Status | None
    desired: ConfigDesired | None
    reported: ConfigReported | None
    ping: CommandResponse | None


@dataclass(frozen=True)
class GroupRow:
    device_id: str
    status: Status | None
    desired: ConfigDesired | None
    reported: ConfigReported | None
    release: ReleaseReported | None


class Fleet:
    """One MQTT connection for IT's requests; use as a context manager."""

    def __init__(self, config: MqttConfig, client_id: str | None = None) -> None:
        self._config = config
        self._messages: list[tuple[str, bytes, Any]] = []
        self._changed = threading.Condition()
        self._subscribed: set[int] = set()
        client = client_id or config.username or f"it-{secrets.token_hex(4)}"
        self.mqtt = ServiceClient(client, config, log, deliver=self._on_message)
        self.client = self.mqtt.client
        self.client.on_subscribe = self._on_subscribe

    def __enter__(self) -> Fleet:
        self.mqtt.connect_now()
        return self

    def __exit__(self, *exc: object) -> None:
        self.mqtt.close()

    # -- requests ------------------------------------------------------------------------

    def retained(self, device_id: str, timeout_s: float = 2.0) -> DeviceView:
        """The device's retained status, desired and reported config."""
        wanted = {
            topics.status(device_id): Status,
            topics.config_desired(device_id): ConfigDesired,
            topics.config_reported(device_id): ConfigReported,
        }
        found: dict[str, Any] = {}
        self._subscribe(list(wanted))
        deadline = time.monotonic() + timeout_s
        while len(found) < len(wanted) and time.monotonic() < deadline:
            for topic, payload, _ in self._take(lambda t, p, props: t in wanted, deadline):
                found[topic] = _decode_or_none(payload, wanted[topic])
        return DeviceView(
            device_id,
            found.get(topics.status(device_id)),
            found.get(topics.config_desired(device_id)),
            found.get(topics.config_reported(device_id)),
            None,
        )

    def retained_many(self, device_ids: list[str], wait_s: float = 1.5) -> list[GroupRow]:
        """Status, config and release of many devices from their retained messages (one
        subscription per kind; what has not arrived within ``wait_s`` was never said)."""
        kinds: dict[Kind, type[Any]] = {Kind.STATUS: Status, Kind.CONFIG_DESIRED: ConfigDesired,
                                        Kind.CONFIG_REPORTED: ConfigReported,
                                        Kind.RELEASE_REPORTED: ReleaseReported}  # fmt: skip
        self._subscribe([topics.all_devices(kind) for kind in kinds])
        wanted = set(device_ids)
        found: dict[tuple[str, Kind], Any] = {}
        time.sleep(wait_s)  # retained messages come at once; what is not here was never said
        for topic, payload, _ in self._take(lambda t, p, props: True, time.monotonic()):
            try:
                device = topics.parse(topic)
            except TopicError:
                continue
            if device.device_id in wanted and device.kind in kinds:
                found[device.device_id, device.kind] = _decode_or_none(payload, kinds[device.kind])
        return [GroupRow(d, *(found.get((d, kind)) for kind in kinds)) for d in device_ids]

    def show(self, device_id: str, timeout_s: float = 5.0) -> DeviceView:
        view = self.retained(device_id)
        ping = None
        if view.status is not None and view.status.state == "online":
            try:
                ping = self.command(device_id, "ping", {}, timeout_s)
            except FleetError:
                ping = None
        return DeviceView(device_id, view.status, view.desired, view.reported, ping)

    def command(
        self, device_id: str, command: str, args: dict[str, Any], timeout_s: float = 10.0
    ) -> CommandResponse:
        correlation = secrets.token_bytes(8)
        response_topic = topics.command_response(device_id)
        self._subscribe([response_topic])
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        properties.ResponseTopic = response_topic
        properties.CorrelationData = correlation
        request = CommandRequest(schema=1, command=command, ts=now_ms(), args=args)
        self.client.publish(
            topics.command_request(device_id), encode(request), qos=QOS, properties=properties
        )

        def answers(topic: str, payload: bytes, props: Any) -> bool:
            return (
                topic == response_topic and getattr(props, "CorrelationData", None) == correlation
            )

        for _, payload, _ in self._take(answers, time.monotonic() + timeout_s, first_only=True):
            return decode(payload, CommandResponse, topic=response_topic)
        raise FleetError(f"{device_id} did not answer {command!r} within {timeout_s:g}s")

    def push_config(
        self,
        device_id: str,
        config: dict[str, Any],
        version: int | None = None,
        timeout_s: float = 30.0,
    ) -> ConfigReported:
        """Publish a desired config (retained) and wait for the device's report on it."""
        current = self.retained(device_id).desired
        version = version or (current.version + 1 if current else 1)
        reported_topic = topics.config_reported(device_id)
        self._subscribe([reported_topic])
        desired = ConfigDesired(schema=1, version=version, config=config)
        self.client.publish(topics.config_desired(device_id), encode(desired), qos=QOS, retain=True)

        def answers(topic: str, payload: bytes, props: Any) -> bool:
            report = _decode_or_none(payload, ConfigReported) if topic == reported_topic else None
            return report is not None and report.desired == version

        for _, payload, _ in self._take(answers, time.monotonic() + timeout_s, first_only=True):
            return decode(payload, ConfigReported)
        raise FleetError(
            f"{device_id} has not reported on desired config version {version} within "
            f"{timeout_s:g}s; it is retained, so the device will pick it up when it connects"
        )

    # -- plumbing ------------------------------------------------------------------------

    def _subscribe(self, filters: list[str]) -> None:
        _, mid = self.client.subscribe([(f, QOS) for f in filters])
        with self._changed:
            if not self._changed.wait_for(lambda: mid in self._subscribed, timeout=10):
                raise FleetError(f"the broker did not confirm the subscription to {filters}")

    def _take(
        self, wanted: Any, deadline: float, *, first_only: bool = False
    ) -> list[tuple[str, bytes, Any]]:
        with self._changed:
            while True:
                matching = [m for m in self._messages if wanted(*m)]
                if matching or time.monotonic() >= deadline:
                    for message in matching:
                        self._messages.remove(message)
                    return matching[:1] if first_only else matching
                self._changed.wait(timeout=max(0.0, deadline - time.monotonic()))

    def _on_message(self, message: Inbound) -> None:
        with self._changed:
            self._messages.append((message.topic, message.payload, message.properties))
            self._changed.notify_all()

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, codes: Any, props: Any
    ) -> None:
        with self._changed:
            self._subscribed.add(mid)
            self._changed.notify_all()


def _decode_or_none(payload: bytes, kind: Any) -> Any:
    if not payload:
        return None
    try:
        return decode(payload, kind)
    except PayloadError:
        return None
