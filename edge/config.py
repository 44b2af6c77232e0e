"""The agent's configuration file (YAML), validated strictly at load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from common import yamlconf
from common.mqttlink import MqttConfig
from common.strict import Strict
from edge.collectors import Collector, build_collectors
from edge.outbox import Limits
from wire import topics

DeviceId = Annotated[str, msgspec.Meta(pattern=topics.DEVICE_ID_PATTERN.pattern)]


class OutboxConfig(Strict):
    # full: fsync at every commit (survives a power cut); normal: survives a crash only.
    sync: Literal["full", "normal"] = "full"
    max_messages: Annotated[int, msgspec.Meta(ge=100)] = 500_000
    max_mb: Annotated[float, msgspec.Meta(gt=0)] = 256.0
    max_age_h: Annotated[float, msgspec.Meta(gt=0)] = 14 * 24.0
    # After an outage the backlog drains at this many messages per second at most.
    backlog_rate: Annotated[float, msgspec.Meta(gt=0)] = 2000.0
    window: Annotated[int, msgspec.Meta(ge=4, le=1000)] = 100
    # Acknowledged messages kept so the gateway can ask again for what a crashed broker
    # lost: at most this many, for at most this long (0 keeps none).
    keep_sent: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 20_000
    keep_sent_h: Annotated[float, msgspec.Meta(gt=0, le=14 * 24)] = 6.0

    def limits(self) -> Limits:
        return Limits(
            self.max_messages,
            int(self.max_mb * 1024 * 1024),
            self.max_age_h * 3600,
            self.keep_sent,
            self.keep_sent_h * 3600,
        )


class AgentConfig(Strict):
    device_id: DeviceId
    mqtt: MqttConfig = msgspec.field(default_factory=MqttConfig)
    # The outbox and the applied remote config live here (systemd's StateDirectory).
    state_dir: str = "/var/lib/civic-iot"
    health_interval_s: Annotated[float, msgspec.Meta(ge=1)] = 60.0
    session_expiry_s: Annotated[int, msgspec.Meta(ge=0)] = 7 * 24 * 3600
    # Reconnect attempts back off (with jitter) up to this many seconds apart.
    reconnect_max_s: Annotated[float, msgspec.Meta(ge=1, le=3600)] = 120.0
    outbox: OutboxConfig = msgspec.field(default_factory=OutboxConfig)
    collectors: Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: [{"type": "system"}]
    )


def load(path: Path) -> tuple[AgentConfig, list[Collector]]:
    """Read an agent config and build its collectors; ConfigError on any mistake."""
    document = yamlconf.read(path)
    config = yamlconf.convert(document, AgentConfig)
    config = msgspec.structs.replace(
        config,
        mqtt=config.mqtt.relative_to(path.parent),
        state_dir=str(path.parent / config.state_dir),
    )
    return config, build_collectors(document, config.device_id)
