from pathlib import Path

import pytest

from common.yamlconf import ConfigError
from edge import config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_example_loads(repo_root: Path) -> None:
    agent, collectors = config.load(repo_root / "edge" / "examples" / "agent.yaml")
    assert agent.device_id == "home-a001-hub"
    assert [c.name for c in collectors] == ["system", "simulated"]


@pytest.mark.parametrize(
    ("text", "line", "key", "reason"),
    [
        ("device_id: d1\nmqtt:\n  hots: x\n", 3, "mqtt.hots", "unknown key"),
        ("device_id: D1\n", 1, "device_id", "matching regex"),
        ("device_id: d1\nmqtt: {port: 99999}\n", 2, "mqtt.port", "<= 65535"),
        (
            "device_id: d1\ncollectors:\n  - type: sytem\n",
            3,
            "collectors[0].type",
            "found 'sytem'",
        ),
        (
            "device_id: d1\ncollectors:\n  - type: system\n    interval: 5\n",
            4,
            "collectors[0].interval",
            "unknown key",
        ),
        (
            "device_id: d1\ncollectors:\n  - type: simulated\n    kinds: [wifi, radar]\n",
            4,
            "collectors[0].kinds[1]",
            "expected one of: climate, door, energy, motion, wifi",
        ),
        (
            "device_id: d1\ncollectors:\n  - {type: system}\n  - {type: system}\n",
            4,
            "collectors[1]",
            "a second collector named 'system'",
        ),
    ],
)
def test_mistakes_name_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str, reason: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert info.value.source == str(path)
    assert (info.value.line, info.value.key) == (line, key)
    assert reason in info.value.reason
