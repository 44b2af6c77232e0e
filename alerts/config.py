"""The alerts service's configuration file (YAML), validated strictly at load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from alerts.schedule import Window
from common import yamlconf
from common.mqttlink import MqttConfig
from common.strict import Strict
from wire import topics

Positive = Annotated[float, msgspec.Meta(gt=0)]


class EmailConfig(Strict):
    """An apprise ``mailto://`` URL without ``to=``; each contact's address is added.
    Example: ``mailto://alerts:PASSWORD@city.example?smtp=smtp.city.example&mode=starttls``
    (put the password in ``url_file`` to keep it out of this file)."""

    url: str | None = None
    url_file: str | None = None


class LineConfig(Strict):
    """LINE Messaging API: the channel access token, in a file (0600)."""

    token_file: str
    api_url: str = "https://api.line.me"


class PhoneConfig(Strict):
    """SMS and automated voice calls for contacts with a phone number, through Twilio's
    API and its own library. The auth token lives in a file (0600)."""

    account_sid: Annotated[str, msgspec.Meta(pattern=r"^AC[0-9a-f]{32}$")]
    auth_token_file: str
    from_number: Annotated[str, msgspec.Meta(pattern=r"^\+[1-9][0-9]{6,14}$")]
    sms: bool = True
    # A call reads the alert in Japanese and asks the contact to press 1 to acknowledge.
    voice: bool = True
    api_url: str = "https://api.twilio.com"


class AlertsConfig(Strict):
    alerts_id: Annotated[str, msgspec.Meta(pattern=topics.DEVICE_ID_PATTERN.pattern)]
    inventory: str = "firmware-config"
    # The residents file: residents, their contacts and staff (personal data).
    residents: str = "residents.yaml"
    mqtt: MqttConfig = msgspec.field(default_factory=MqttConfig)
    # Rules: the defaults shipped in alerts/rules, then these directories in order.
    rule_dirs: list[str] = msgspec.field(default_factory=list)
    state_dir: str = "alerts-state"
    # Acknowledgement links point here; the service listens on http_listen.
    base_url: str = "http://127.0.0.1:9120"
    http_listen: Annotated[str, msgspec.Meta(pattern=r"^[\w.\-\[\]:]*:\d{1,5}$")] = "127.0.0.1:9120"
    # Acknowledgement links stop working this many days after they were sent.
    link_valid_days: Annotated[float, msgspec.Meta(gt=0, le=365)] = 7.0
    # Signs acknowledgement links (created with random content if missing).
    secret_file: str = "ack-secret"  # noqa: S105 - a file name, not a secret
    email: EmailConfig = msgspec.field(default_factory=EmailConfig)
    line: LineConfig | None = None
    phone: PhoneConfig | None = None
    # Apprise URLs for IT (device offline, failed deliveries): json://, slack://, ...
    it_channels: list[str] = msgspec.field(default_factory=list)
    it_language: Literal["ja", "en"] = "ja"
    # Caregivers and facility staff hear info and warnings only outside quiet hours;
    # urgent and life-safety alerts go out at once.
    quiet_hours: Window | None = "22:00-07:00"
    # Unacknowledged alerts repeat to the last step of the chain this often.
    repeat_min: Positive = 30.0
    # A threshold alert's first message waits this long for the home's other rooms, so
    # one message names them all.
    group_wait_s: Annotated[float, msgspec.Meta(ge=0, le=600)] = 60.0
    # Each repeat waits twice as long as the one before; at most this many repeats.
    max_repeats: Annotated[int, msgspec.Meta(ge=0, le=50)] = 2
    delivery_attempts: Annotated[int, msgspec.Meta(ge=1, le=20)] = 6
    tick_s: Positive = 10.0


def load(path: Path) -> AlertsConfig:
    config = yamlconf.load(path, AlertsConfig)
    base = path.parent

    def resolve(value: str) -> str:
        return value if Path(value).is_absolute() else str((base / value).resolve())

    return msgspec.structs.replace(
        config,
        inventory=resolve(config.inventory),
        residents=resolve(config.residents),
        mqtt=config.mqtt.relative_to(base),
        rule_dirs=[resolve(d) for d in config.rule_dirs],
        state_dir=resolve(config.state_dir),
        secret_file=resolve(config.secret_file),
    )
