"""Streams for `alerts replay`, written the way a broker delivers them: a resident's
sensors as the edge publishes them (event, telemetry, status), and operator actions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alerts.replay import replay_to_file
from civic_iot.demo_alerts import write_local_config
from common.mqttlink import MqttConfig
from wire import topics

JST = ZoneInfo("Asia/Tokyo")
MIN = 60_000
HOUR = 60 * MIN


def jst(text: str) -> int:
    """Epoch ms of a local Abashiri time 'YYYY-MM-DD HH:MM'."""
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=JST).timestamp() * 1000)


class Stream:
    def __init__(self, device: str = "home-a001-hub") -> None:
        self.device = device
        self.lines: list[dict[str, Any]] = []
        self._seq = 0

    def readings(self, at: int, kind: str, *readings: tuple[str, Any, str, str],
                 ts: int | None = None, delay_ms: int = 200) -> Stream:  # fmt: skip
        self._seq += 1
        payload = {"schema": 1, "seq": self._seq, "ts": ts or at, "readings": [
            {"quantity": q, "value": v, "unit": u, "sensor": s} for q, v, u, s in readings
        ]}  # fmt: skip
        topic = topics.device_topic(self.device, topics.Kind(kind))
        self.lines.append({"at": at + delay_ms, "topic": topic, "payload": payload})
        return self

    def online(self, at: int, state: str = "online", ts: int | None = None) -> Stream:
        payload = {"schema": 1, "state": state, "ts": ts or at, "agent": "civic-iot-edge/0.1"}
        topic = topics.status(self.device)
        self.lines.append({"at": at, "topic": topic, "payload": payload, "retain": True})
        return self

    def motion(self, at: int, room: str, **kw: Any) -> Stream:
        return self.readings(at, "event", ("motion.detected", True, "1", room), **kw)

    def door(self, at: int, sensor: str = "entrance", is_open: bool = True) -> Stream:
        return self.readings(at, "event", ("door.open", is_open, "1", sensor))

    def tag(self, at: int, present: bool) -> Stream:
        return self.readings(at, "telemetry", ("tag.present", present, "1", "tag"))

    def temperature(self, at: int, room: str, value: float) -> Stream:
        return self.readings(at, "telemetry", ("climate.temperature", value, "Cel", room))

    def press(self, at: int, room: str = "bedside") -> Stream:
        return self.readings(at, "event", ("button.long_press", True, "1", room))

    def action(self, at: int, action: str, **fields: Any) -> Stream:
        self.lines.append({"at": at, "action": action, **fields})
        return self

    def day(self, day: str, *, up: str = "07:00", bed: str = "21:30", rooms: tuple[str, ...] = (
            "bedroom", "toilet", "kitchen", "living-room")) -> Stream:  # fmt: skip
        """An ordinary day: up at ``up``, moving between rooms every 20 minutes."""
        t, end = jst(f"{day} {up}"), jst(f"{day} {bed}")
        index = 0
        while t < end:
            self.motion(t, rooms[index % len(rooms)])
            t += 20 * MIN
            index += 1
        self.motion(end, "bedroom")
        return self

    def merged(self, *others: Stream) -> list[dict[str, Any]]:
        lines = [*self.lines, *(line for other in others for line in other.lines)]
        return sorted(lines, key=lambda line: int(line["at"]))

    def write(self, path: Path, *others: Stream) -> Path:
        path.write_text("".join(json.dumps(line) + "\n" for line in self.merged(*others)))
        return path


def alerts_config(tmp_path: Path, **settings: object) -> Path:
    """The example city's alerts config as a city would run it (quiet hours 22-07)."""
    settings.setdefault("quiet_hours", "22:00-07:00")
    settings.setdefault("email", {"url": "mailto://127.0.0.1:25?from=alerts@abashiri.example"})
    settings.setdefault("it_channels", ["json://127.0.0.1:9/it"])
    return write_local_config(tmp_path / "config", "alerts-1", MqttConfig(), **settings)


def replay(tmp_path: Path, stream: Stream, *others: Stream, **settings: object
           ) -> list[dict[str, Any]]:  # fmt: skip
    config = alerts_config(tmp_path, **settings)
    out = tmp_path / "notifications.jsonl"
    replay_to_file(config, stream.write(tmp_path / "stream.jsonl", *others), out)
    return [json.loads(line) for line in out.read_text().splitlines()]
