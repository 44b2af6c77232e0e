"""The demo's replay: one recorded night in two homes through `civic-iot alerts replay`
(a fall in the toilet at 03:00 in one, an early riser fetching the newspaper in the
other), printed as the family would have received it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alerts.replay import replay_to_file
from wire import topics

_JST = ZoneInfo("Asia/Tokyo")
_MIN = 60_000


def write_night(path: Path, day: datetime) -> Path:
    """The stream of the night before ``day`` (local midnight) until 08:00."""
    lines: list[dict[str, Any]] = []
    seq = 0

    def at(hours: float) -> int:
        return int((day + timedelta(hours=hours)).timestamp() * 1000)

    def event(device: str, ts: int, quantity: str, value: bool, sensor: str) -> None:
        nonlocal seq
        seq += 1
        reading = {"quantity": quantity, "value": value, "unit": "1", "sensor": sensor}
        payload = {"schema": 1, "seq": seq, "ts": ts, "readings": [reading]}
        lines.append({"at": ts + 200, "topic": topics.event(device), "payload": payload})

    for device in ("home-a001-hub", "home-a002-hub"):
        status = {"schema": 1, "state": "online", "ts": at(-7), "agent": "civic-iot-edge"}
        lines.append({"at": at(-7), "topic": topics.status(device), "payload": status})
        for minute in range(0, 270, 30):
            event(device, at(-7) + minute * _MIN, "motion.detected", True, "living-room")
        event(device, at(-2.5), "motion.detected", True, "bedroom")
    event("home-a001-hub", at(3) - 2 * _MIN, "motion.detected", True, "hall")
    event("home-a001-hub", at(3), "motion.detected", True, "toilet")  # and nothing after
    event("home-a002-hub", at(5.5), "door.open", True, "entrance")
    event("home-a002-hub", at(5.5) + _MIN, "door.open", False, "entrance")
    event("home-a002-hub", at(5.5) + 2 * _MIN, "motion.detected", True, "hall")
    event("home-a002-hub", at(8), "motion.detected", True, "kitchen")
    lines.sort(key=lambda line: int(line["at"]))
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    return path


def show_replay(config: Path, work: Path) -> None:
    """Replay last night with quiet hours 22:00-07:00 and print what people received."""
    work.mkdir(parents=True, exist_ok=True)
    settings = json.loads(config.read_text(encoding="utf-8"))
    settings["quiet_hours"] = "22:00-07:00"
    replay_config = work / "alerts-replay.yaml"
    replay_config.write_text(json.dumps(settings, ensure_ascii=False), encoding="utf-8")
    today = datetime.now(_JST).replace(hour=0, minute=0, second=0, microsecond=0)
    stream = write_night(work / "night.jsonl", today - timedelta(days=1))
    out = work / "notifications.jsonl"
    result = replay_to_file(replay_config, stream, out)
    print("\nreplay: a recorded night through the same rules, on virtual time:")
    print(f"  civic-iot alerts replay --config {replay_config} --input {stream} --out {out}")
    for note in result.delivered:
        if note.to == "it" or not note.site.startswith(("home-a001", "home-a002")):
            continue
        when = datetime.fromtimestamp(note.at / 1000, _JST).strftime("%H:%M")
        print(f"  {when} {note.kind:<10} {note.to:<22} {note.channel:<6} {note.subject}")
    print(flush=True)
