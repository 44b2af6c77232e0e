"""The agent's configuration file (YAML), validated strictly at load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec

from civic_iot import yamlconf
from civic_iot.mqttlink import MqttConfig
from edge.collectors import Collector, build_collector
from wire import topics

DeviceId = Annotated[str, msgspec.Meta(pattern=topics.DEVICE_ID_PATTERN.pattern)]


class _Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass


class AgentConfig(_Strict):
    device_id: DeviceId
    mqtt: MqttConfig = msgspec.field(default_factory=MqttConfig)
    collectors: Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1)] = msgspec.field(
        default_factory=lambda: [{"type": "system"}]
    )


def load(path: Path) -> tuple[AgentConfig, list[Collector]]:
    """Read an agent config and build its collectors; ConfigError on any mistake."""
    document = yamlconf.read(path)
    config = yamlconf.convert(document, AgentConfig)
    config = msgspec.structs.replace(config, mqtt=config.mqtt.relative_to(path.parent))
    collectors = [
        build_collector(document, f"$.collectors[{index}]", config.device_id)
        for index in range(len(config.collectors))
    ]
    names = [collector.name for collector in collectors]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise document.error(
                f"$.collectors[{index}]",
                f"a second collector named {name!r}; give it a distinct 'name'",
            )
    return config, collectors
