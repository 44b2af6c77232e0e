"""Every MQTT topic of civic-iot is built and parsed here, and nowhere else.

Device topics live under ``civic/v1/<device-id>/`` so that one broker ACL pattern
(``civic/v1/%u/#``) confines each device to its own subtree. Identity comes from the
topic, never from the payload.
"""

from __future__ import annotations

import enum
import re
from typing import NamedTuple

from wire.errors import TopicError

ROOT = "civic/v1"
DEVICE_ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# Service topics sit beside device topics; the underscore keeps them out of the
# device-ID namespace, so no device can ever be named like them.
_SERVICE_PREFIX = f"{ROOT}/_svc"


class Kind(enum.Enum):
    """What a device topic carries; the value is the topic suffix."""

    TELEMETRY = "telemetry"
    EVENT = "event"
    HEALTH = "health"
    STATUS = "status"
    CONFIG_DESIRED = "config/desired"
    CONFIG_REPORTED = "config/reported"
    COMMAND_REQUEST = "cmd/req"
    COMMAND_RESPONSE = "cmd/res"
    RELEASE_DESIRED = "release/desired"
    RELEASE_REPORTED = "release/reported"


_BY_SUFFIX = {kind.value: kind for kind in Kind}
# Kinds that carry readings (the Message payload).
# A tuple: looking a kind up in it compares identities, where a set would call Enum's
# hash (Python code) for every message a receiver gets.
READING_KINDS = (Kind.TELEMETRY, Kind.EVENT, Kind.HEALTH)


class DeviceTopic(NamedTuple):
    device_id: str
    kind: Kind

    def __str__(self) -> str:
        return device_topic(self.device_id, self.kind)


def validate_device_id(device_id: str) -> str:
    if not DEVICE_ID_PATTERN.match(device_id):
        raise TopicError(
            f"device ID {device_id!r} is not valid: expected 1-64 characters of "
            "a-z, 0-9 and '-', not starting or ending with '-'"
        )
    return device_id


def device_topic(device_id: str, kind: Kind) -> str:
    return f"{ROOT}/{validate_device_id(device_id)}/{kind.value}"


def telemetry(device_id: str) -> str:
    return device_topic(device_id, Kind.TELEMETRY)


def event(device_id: str) -> str:
    return device_topic(device_id, Kind.EVENT)


def health(device_id: str) -> str:
    return device_topic(device_id, Kind.HEALTH)


def status(device_id: str) -> str:
    return device_topic(device_id, Kind.STATUS)


def config_desired(device_id: str) -> str:
    return device_topic(device_id, Kind.CONFIG_DESIRED)


def config_reported(device_id: str) -> str:
    return device_topic(device_id, Kind.CONFIG_REPORTED)


def command_request(device_id: str) -> str:
    return device_topic(device_id, Kind.COMMAND_REQUEST)


def command_response(device_id: str) -> str:
    return device_topic(device_id, Kind.COMMAND_RESPONSE)


def release_desired(device_id: str) -> str:
    return device_topic(device_id, Kind.RELEASE_DESIRED)


def release_reported(device_id: str) -> str:
    return device_topic(device_id, Kind.RELEASE_REPORTED)


def device_subtree(device_id: str) -> str:
    """The filter for everything one device may publish or receive."""
    return f"{ROOT}/{validate_device_id(device_id)}/#"


def all_devices(kind: Kind) -> str:
    """Subscription filter for one kind of topic from every device."""
    return f"{ROOT}/+/{kind.value}"


def shared(group: str, topic_filter: str) -> str:
    """An MQTT v5 shared subscription, so several gateway workers split one stream."""
    if not re.fullmatch(r"[a-z0-9-]+", group):
        raise TopicError(f"shared subscription group {group!r}: expected a-z, 0-9 and '-'")
    return f"$share/{group}/{topic_filter}"


class ServiceKind(enum.Enum):
    """What a service topic carries; the value is the topic suffix."""

    DEAD_LETTER = "deadletter"
    EVENT = "event"
    ACK = "ack"
    ALERT = "alert"
    STATUS = "status"


_SERVICE_BY_SUFFIX = {kind.value: kind for kind in ServiceKind}


class ServiceTopic(NamedTuple):
    service_id: str
    kind: ServiceKind


def service_topic(service_id: str, kind: ServiceKind) -> str:
    return f"{_SERVICE_PREFIX}/{validate_device_id(service_id)}/{kind.value}"


def all_services(kind: ServiceKind) -> str:
    """Subscription filter for one kind of topic from every service."""
    return f"{_SERVICE_PREFIX}/+/{kind.value}"


def parse_service(topic: str) -> ServiceTopic | None:
    """A service topic's service and kind; None for a device topic or anything else."""
    prefix = _SERVICE_PREFIX + "/"
    if not topic.startswith(prefix):
        return None
    service_id, _, suffix = topic[len(prefix) :].partition("/")
    kind = _SERVICE_BY_SUFFIX.get(suffix)
    if kind is None or not DEVICE_ID_PATTERN.match(service_id):
        return None
    return ServiceTopic(service_id, kind)


def dead_letter(service_id: str) -> str:
    """Where a service republishes a payload it could not accept, with the reason."""
    return service_topic(service_id, ServiceKind.DEAD_LETTER)


def service_event(service_id: str) -> str:
    """Events a service raises for people (see wire.ServiceEvent)."""
    return service_topic(service_id, ServiceKind.EVENT)


def all_service_events() -> str:
    return all_services(ServiceKind.EVENT)


def service_ack(service_id: str) -> str:
    """Acknowledgements of alerts, sent to the alerts service (see wire.AlertAck)."""
    return service_topic(service_id, ServiceKind.ACK)


def all_service_acks() -> str:
    return all_services(ServiceKind.ACK)


def service_alert(service_id: str) -> str:
    """The state of each alert, from the alerts service (see wire.AlertState)."""
    return service_topic(service_id, ServiceKind.ALERT)


def all_service_alerts() -> str:
    return all_services(ServiceKind.ALERT)


def service_status(service_id: str) -> str:
    """Retained online/offline status of a service such as a gateway worker."""
    return service_topic(service_id, ServiceKind.STATUS)


# Broker ACLs (rendered by provisioning) -------------------------------------------------
# Mosquitto substitutes %u with the username, which is the device ID.
ACL_USERNAME = "%u"


def acl_device_pattern(kind: Kind) -> str:
    """``civic/v1/%u/<kind>``: one device's own topic, for a Mosquitto ``pattern`` line."""
    return f"{ROOT}/{ACL_USERNAME}/{kind.value}"


def service_subtree(service_id: str) -> str:
    """Everything one service publishes under (status, dead letters)."""
    return f"{_SERVICE_PREFIX}/{validate_device_id(service_id)}/#"


def everything() -> str:
    return f"{ROOT}/#"


def parse(topic: str) -> DeviceTopic:
    """Parse a device topic; raises TopicError naming the topic and what was expected."""
    prefix = ROOT + "/"
    if not topic.startswith(prefix):
        raise TopicError(f"topic {topic!r}: expected it to start with {prefix!r}")
    device_id, sep, suffix = topic[len(prefix) :].partition("/")
    if not sep:
        raise TopicError(f"topic {topic!r}: expected {prefix}<device-id>/<kind>")
    kind = _BY_SUFFIX.get(suffix)
    if kind is None:
        expected = ", ".join(sorted(_BY_SUFFIX))
        raise TopicError(f"topic {topic!r}: unknown kind {suffix!r}, expected one of {expected}")
    try:
        validate_device_id(device_id)
    except TopicError as exc:
        raise TopicError(f"topic {topic!r}: {exc}") from None
    return DeviceTopic(device_id, kind)
