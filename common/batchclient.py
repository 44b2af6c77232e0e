"""A paho client that receives in batches: for a service that takes thousands of
messages a second (the gateway).

paho reads a packet with three or more ``recv`` calls (the command byte, the length
byte by byte, the rest) and builds an ``MQTTMessage`` with MQTT v5 ``Properties`` and a
topic-filter match for every message; at 10,000 messages a second that was half of the
gateway's CPU. Here one ``recv`` takes whatever the socket holds (up to 256 KiB), every
complete PUBLISH at QoS 0 or 1 is cut out of it as ``(topic, payload, mid, qos)``
without building anything else, and the lot goes to ``deliver_batch`` in one call.
Everything else (CONNACK, SUBACK, PINGRESP, a QoS 2 PUBLISH, a topic alias, a topic
that is not UTF-8) goes through paho's own handlers, in order. ``ack_many``
acknowledges many messages with one queued write instead of one packet each.

paho stays what connects, reconnects, keeps alive, publishes and subscribes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.exception import MalformedPacket

from common.roundtrip import RoundTripClient

_PUBLISH = 0x30
_PUBACK = 0x40
_RECV_BYTES = 256 * 1024
_PUBACK_PACKET = struct.Struct("!BBH")


class Received(NamedTuple):
    topic: str
    payload: bytes
    mid: int
    qos: int
    properties: Any = None


DeliverBatch = Callable[[list[Received]], None]


class BatchClient(RoundTripClient):
    """``mqtt.Client`` (MQTT v5) whose incoming PUBLISH packets go to ``deliver_batch``."""

    def __init__(self, deliver_batch: DeliverBatch, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._deliver_batch = deliver_batch
        self._buffer = bytearray()
        self._received: list[Received] = []

    def ack_many(self, mids: Iterable[int]) -> None:
        """PUBACK each message id (QoS 1, manual acknowledgement) in one queued write."""
        packet = b"".join(_PUBACK_PACKET.pack(_PUBACK, 2, mid) for mid in mids)
        if packet:
            self._packet_queue(_PUBACK, packet, 0, 1)

    # -- paho's reading, replaced -------------------------------------------------------

    def _packet_read(self) -> MQTTErrorCode:
        try:
            data = self._sock_recv(_RECV_BYTES)
        except BlockingIOError:
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except OSError as err:
            self._easy_log(mqtt.MQTT_LOG_ERR, "failed to receive on socket: %s", err)
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if not data:
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        self._buffer += data
        rc = self._handle_buffer()
        self._hand_over()
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        return rc

    def _handle_buffer(self) -> MQTTErrorCode:
        buffer, start = self._buffer, 0
        try:
            while (header := _fixed_header(buffer, start)) is not None:
                command, body_start, end = header
                if end > len(buffer):
                    break
                rc = self._one_packet(command, buffer, body_start, end)
                start = end
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    return rc
        except ValueError:  # a length over four bytes: not MQTT
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        finally:
            del buffer[:start]
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _one_packet(self, command: int, buffer: bytearray, start: int, end: int) -> MQTTErrorCode:
        if command & 0xF0 == _PUBLISH:
            received = _publish(command, buffer, start, end)
            if received is not None:
                self._received.append(received)
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        self._hand_over()  # what came before goes first
        return self._paho_handles(command, bytes(buffer[start:end]))

    def _paho_handles(self, command: int, body: bytes) -> MQTTErrorCode:
        self._in_packet = {
            "command": command, "have_remaining": 1, "remaining_count": [],
            "remaining_mult": 1, "remaining_length": len(body), "packet": bytearray(body),
            "to_process": 0, "pos": 0,
        }  # fmt: skip
        try:
            return self._packet_handle()
        except MalformedPacket as exc:
            self._easy_log(mqtt.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            return MQTTErrorCode.MQTT_ERR_PROTOCOL
        finally:
            self._in_packet["command"] = 0

    def _hand_over(self) -> None:
        if self._received:
            received, self._received = self._received, []
            self._deliver_batch(received)


def _fixed_header(buffer: bytearray, start: int) -> tuple[int, int, int] | None:
    """(command, where the body starts, where the packet ends), or None until more
    bytes arrive."""
    size = len(buffer)
    if start + 2 > size:
        return None
    length, multiplier, at = 0, 1, start + 1
    while True:
        if at >= size:
            return None
        byte = buffer[at]
        length += (byte & 0x7F) * multiplier
        at += 1
        if not byte & 0x80:
            return buffer[start], at, at + length
        multiplier *= 128
        if at - start > 4:
            raise ValueError("remaining length over four bytes")


def _publish(command: int, buffer: bytearray, start: int, end: int) -> Received | None:
    """A QoS 0/1 PUBLISH (MQTT v5) cut out of the buffer; None for what paho should
    handle (QoS 2, a topic alias, a topic that is not UTF-8, anything malformed)."""
    qos = (command >> 1) & 0x03
    if qos == 2 or end - start < 3:
        return None
    topic_end = start + 2 + ((buffer[start] << 8) | buffer[start + 1])
    mid_end = topic_end + (2 if qos else 0)
    if topic_end == start + 2 or mid_end > end:
        return None
    mid = (buffer[topic_end] << 8) | buffer[topic_end + 1] if qos else 0
    payload_start = _after_properties(buffer, mid_end, end)  # a reading needs none
    if payload_start is None:
        return None
    try:
        topic = buffer[start + 2 : topic_end].decode()
    except UnicodeDecodeError:
        return None
    return Received(topic, bytes(buffer[payload_start:end]), mid, qos)


def _after_properties(buffer: bytearray, at: int, end: int) -> int | None:
    """Where the payload starts, past the properties' length and the properties."""
    length, multiplier = 0, 1
    while at < end:
        byte = buffer[at]
        at += 1
        length += (byte & 0x7F) * multiplier
        if not byte & 0x80:
            return at + length if at + length <= end else None
        multiplier *= 128
    return None
