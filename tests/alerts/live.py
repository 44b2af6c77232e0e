"""For tests of the alerts service as a process: the example residents file with a
change, the service started and online, a call-button press published."""

from __future__ import annotations

from pathlib import Path

from civic_iot.children import CliProcess
from civic_iot.services import Mosquitto
from civic_iot.watch import wait_online
from common.mqttlink import MqttConfig
from tests.support.mqtt import publish
from wire import Message, Reading, encode, now_ms, topics

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "residents.fictitious.yaml"
HANAKO = (
    "name: 網走 花子, email: hanako@example.jp, line_user_id: U0123456789abcdef0123456789abcdef"
)


def residents_with(path: Path, old: str, new: str) -> Path:
    """The example residents file with ``old`` replaced by ``new``, at ``path`` (0600)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text, f"the example residents file no longer holds {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    path.chmod(0o600)
    return path


def start_service(tmp_path: Path, broker: Mosquitto, config: Path) -> CliProcess:
    """The alerts service as systemd runs it, once it says it is online."""
    service = CliProcess(tmp_path / "alerts.log", "alerts", "run", "--config", str(config))
    mqtt = MqttConfig(host=broker.host, port=broker.port)
    assert wait_online(mqtt, topics.service_status("alerts-1")), service.log()
    return service


def press_call_button(broker: Mosquitto, device: str = "home-a001-hub") -> None:
    press = Reading("button.long_press", True, "1", sensor="bedside")
    publish(broker, topics.event(device), encode(Message(1, 1, now_ms(), [press])))
