"""Chaos run: the example city under steady load while its parts are SIGKILLed and
restarted at random (seeded, so a run can be repeated): the broker, the gateway, the
alerts service, InfluxDB and the agents. At the end it prints what a city would care
about: readings collected that never reached InfluxDB, the gateway's own count of
numbers missing from the agents' sequences, call-button presses whose alert never
reached the first person of the chain, and notifications delivered twice.

Every device is a real agent (outbox, sender, MQTT link, resends): two agent processes
(home-a001-hub, home-a003-hub, killed at random; their outboxes are the ground truth,
every message they hold must be in InfluxDB) and two agents inside this harness, never
killed, whose collectors record what they produced: home-a002-hub collects 20 readings
a second, home-a004-hub a call-button press every 15 s, each on its own button.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchlib import REPO, start_gateway

from civic_iot.catchers import SmtpCatcher
from civic_iot.children import CliProcess
from civic_iot.demo_alerts import write_local_config
from civic_iot.services import InfluxDB, Mosquitto
from civic_iot.watch import wait_online
from common.mqttlink import MqttConfig
from edge.agent import Agent
from edge.collectors.base import PolledCollector
from edge.config import AgentConfig
from wire import Reading, decode_message, topics

# home-a004's chain starts with its care manager (firmware-config).
LOAD_DEVICE, PRESS_DEVICE, FIRST = "home-a002-hub", "home-a004-hub", "care-b@example.jp"
AGENTS = ("home-a001-hub", "home-a003-hub")
HARNESS = (LOAD_DEVICE, PRESS_DEVICE)
# Every reading key of a device in InfluxDB: (measurement, field, sensor, time ms).
Key = tuple[str, str, str, int]


class LoadCollector(PolledCollector):
    """20 readings a second, each at its own millisecond; remembers each one."""

    name, interval_s = "chaos-load", 0.05

    def __init__(self) -> None:
        self.collected: set[int] = set()
        self.active = True

    def collect(self, now_ms: int) -> list[Reading]:
        if not self.active or now_ms in self.collected:
            return []
        self.collected.add(now_ms)
        return [Reading("climate.temperature", 20.0, "Cel", sensor="chaos")]


class PressCollector(PolledCollector):
    """A call-button press every 15 s, each on its own button."""

    name, interval_s = "chaos-presses", 15.0

    def __init__(self) -> None:
        self.pressed: list[str] = []
        self.active = True

    def collect(self, now_ms: int) -> list[Reading]:
        if not self.active:
            return []
        button = f"button-{len(self.pressed) + 1}"
        self.pressed.append(button)
        return [Reading("button.long_press", True, "1", sensor=button)]


class HarnessAgent:
    """A real agent in a thread of this harness, with one of the collectors above."""

    def __init__(self, work: Path, mqtt: MqttConfig, device: str, collector: Any) -> None:
        config = AgentConfig(device_id=device, mqtt=mqtt, state_dir=str(work / f"state-{device}"),
                             reconnect_max_s=2)  # fmt: skip
        self.agent = Agent(config, [collector])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.agent.run, args=(self._stop,), daemon=True)
        self._thread.start()

    def outbox_depth(self) -> int:
        return outbox_depth(Path(self.agent.config.state_dir))

    def close(self) -> None:
        self._stop.set()
        self.agent.wake()
        self._thread.join(timeout=30)


class City:
    def __init__(self, work: Path, *, seed: int) -> None:
        self.work = work
        self.rng = random.Random(seed)
        self.broker = Mosquitto(work / "mqtt")
        self.influx = InfluxDB(work / "influx")
        self.smtp = SmtpCatcher()
        self.broker.start()
        self.influx.start()
        self.mqtt = MqttConfig(host=self.broker.host, port=self.broker.port)
        self.gateway = self._gateway()
        self.alerts_config = write_local_config(
            work / "alerts", "alerts-1", self.mqtt, email={"url": self.smtp.url()}, tick_s=1.0,
            group_wait_s=1.0, state_dir=str(work / "alerts" / "state"),
        )  # fmt: skip
        self.alerts = self._alerts()
        self.agents = {device: self._agent(device) for device in AGENTS}
        self.load, self.presses = LoadCollector(), PressCollector()
        self.harness = [HarnessAgent(work, self.mqtt, LOAD_DEVICE, self.load),
                        HarnessAgent(work, self.mqtt, PRESS_DEVICE, self.presses)]  # fmt: skip
        self.kills: Counter[str] = Counter()

    # -- the parts ------------------------------------------------------------------------

    def _gateway(self) -> CliProcess:
        # Gaps a killed broker leaves are asked for again 2 s after they show.
        return start_gateway(self.work, self.broker, self.influx, REPO / "firmware-config",
                             max_delay_s=0.2, resend={"after_s": 2})[0]  # fmt: skip

    def _alerts(self) -> CliProcess:
        process = CliProcess(self.work / "alerts.log", "--log-level", "warning", "alerts", "run",
                             "--config", str(self.alerts_config))  # fmt: skip
        wait_online(self.mqtt, topics.service_status("alerts-1"), timeout_s=60)
        return process

    def _agent(self, device: str) -> CliProcess:
        config = self.work / f"{device}.yaml"
        config.write_text(json.dumps({
            "device_id": device, "state_dir": str(self.work / f"state-{device}"),
            "mqtt": {"host": self.broker.host, "port": self.broker.port, "keepalive_s": 5},
            "reconnect_max_s": 2,
            "collectors": [{"type": "simulated", "interval_s": 0.5, "kinds": ["climate"]}],
        }), encoding="utf-8")  # fmt: skip
        return CliProcess(self.work / f"{device}.log", "--log-level", "warning", "edge", "run",
                          "--config", str(config))  # fmt: skip

    def strike(self, target: str) -> None:
        """SIGKILL one part and start it again after a moment."""
        self.kills[target] += 1
        down_s = self.rng.uniform(0.5, 3.0)
        if target == "broker":
            self.broker.kill()
            time.sleep(down_s)
            self.broker.start()
        elif target == "server":  # a power cut in the server room: what the broker had
            self.gateway.kill()  # queued for the gateway since its last save is gone
            time.sleep(down_s)
            self.broker.kill()
            self.broker.start()
            self.gateway = self._gateway()
        elif target == "influxdb":
            self.influx.kill()
            time.sleep(down_s)
            self.influx.start()
        elif target == "gateway":
            self.gateway.kill()
            time.sleep(down_s)
            self.gateway = self._gateway()
        elif target == "alerts":
            self.alerts.kill()
            time.sleep(down_s)
            self.alerts = self._alerts()
        else:
            self.agents[target].kill()
            time.sleep(down_s)
            self.agents[target] = self._agent(target)

    def close(self) -> None:
        for harness in self.harness:
            harness.close()
        for agent in self.agents.values():
            agent.terminate()
        self.alerts.terminate()
        self.gateway.terminate()
        self.smtp.close()
        self.influx.stop()
        self.broker.stop()


def run(minutes: float, seed: int, *, broker_kills: bool) -> dict[str, int]:
    with tempfile.TemporaryDirectory(prefix="civic-chaos-") as tmp:
        city = City(Path(tmp), seed=seed)
        try:
            return _run(city, minutes, broker_kills=broker_kills)
        finally:
            city.close()


def _run(city: City, minutes: float, *, broker_kills: bool) -> dict[str, int]:
    targets = ["gateway", "alerts", "influxdb", *AGENTS]
    targets += ["broker", "server"] if broker_kills else []
    order = _rounds(targets, city.rng)
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        time.sleep(city.rng.uniform(4.0, 10.0))
        city.strike(next(order))
    city.load.active = city.presses.active = False
    settle = time.monotonic() + 120
    while time.monotonic() < settle and any(h.outbox_depth() for h in city.harness):
        time.sleep(0.5)
    collected, pressed = set(city.load.collected), set(city.presses.pressed)
    stored = _wait_stored(city.influx, collected, timeout_s=120)
    held = {device: _outbox_keys(city.work / f"state-{device}") for device in AGENTS}
    agents_stored = _wait_agents_stored(city.influx, held, timeout_s=120)
    told = _wait_told(city.smtp, pressed, timeout_s=60)
    twice = Counter((m.subject, m.body, tuple(m.to)) for m in city.smtp.mails)
    # A gap the gateway found late (its registry trails a SIGKILL by a few seconds) is
    # asked for after resend.after_s: give the repair its time, as the readings had.
    _wait_no_gaps(city.work / "gateway.yaml", timeout_s=90)
    city.gateway.terminate()  # its registry is saved every few seconds, and at stop
    return {
        "kills": sum(city.kills.values()),
        "readings collected": len(collected),
        "readings lost": len(collected - stored),
        "agent readings held": sum(len(keys) for keys in held.values()),
        "agent readings lost": sum(len(held[d] - agents_stored[d]) for d in AGENTS),
        "missing in agents' sequences": _gateway_missing(city.work / "gateway.yaml"),
        "messages sent again on the gateway's request": sum(
            _requeued(city.work / f"state-{device}") for device in (*AGENTS, *HARNESS)
        ),
        "presses": len(pressed),
        "alerts lost": len(pressed - told),
        "notifications twice": sum(count - 1 for count in twice.values()),
        **{f"killed {name}": count for name, count in sorted(city.kills.items())},
    }


def _rounds(targets: list[str], rng: random.Random) -> Iterator[str]:
    """Every part once per round, in an order shuffled each round: a short run still
    strikes each of them."""
    while True:
        yield from rng.sample(targets, len(targets))


def outbox_depth(state: Path) -> int:
    with sqlite3.connect(state / "outbox.sqlite3", timeout=30) as db:
        return int(db.execute("SELECT count(*) FROM outbox").fetchone()[0])


def _requeued(state: Path) -> int:
    with sqlite3.connect(state / "outbox.sqlite3", timeout=30) as db:
        row = db.execute("SELECT value FROM counters WHERE name = 'requeued'").fetchone()
    return int(row[0]) if row else 0


def _outbox_keys(state: Path) -> set[Key]:
    """Every reading an agent process holds: acknowledged (kept for resends) or not yet
    sent. Its outbox keeps 20,000 acknowledged messages, more than a run produces."""
    with sqlite3.connect(state / "outbox.sqlite3", timeout=30) as db:
        payloads = [row[0] for row in db.execute("SELECT payload FROM sent UNION ALL "
                                                 "SELECT payload FROM outbox")]  # fmt: skip
    keys = set()
    for payload in payloads:
        message = decode_message(bytes(payload))
        for reading in message.readings:
            measurement, field = reading.quantity.split(".", 1)
            ts = reading.ts if reading.ts is not None else message.ts
            keys.add((measurement, field, reading.sensor, ts))
    return keys


def _influxql(influx: InfluxDB, database: str, query: str) -> list[dict[str, Any]]:
    """Rows as dicts, with the measurement as ``_measurement``; none if InfluxDB is away."""
    params = urllib.parse.urlencode({"db": database, "q": query, "epoch": "ms"})
    try:
        with urllib.request.urlopen(f"{influx.url}/query?{params}", timeout=60) as answer:  # noqa: S310
            series = json.load(answer)["results"][0].get("series") or []
    except OSError:
        return []
    return [
        {"_measurement": one["name"], **dict(zip(one["columns"], values, strict=True))}
        for one in series
        for values in one["values"]
    ]


# A constant device ID, never data.
_LOAD_QUERY = f"SELECT temperature FROM climate WHERE device = '{LOAD_DEVICE}'"  # noqa: S608


_SKIPPED = {"time", "device", "site", "sensor", "_measurement"}


def _device_keys(influx: InfluxDB, device: str) -> set[Key]:
    query = f"SELECT * FROM /.*/ WHERE device = '{device}'"  # noqa: S608 - our device IDs
    rows = _influxql(influx, "civic_watch", query) + _influxql(influx, "civic_ops", query)
    return {
        (row["_measurement"], key, row.get("sensor") or "", row["time"])
        for row in rows
        for key, value in row.items()
        if key not in _SKIPPED and value is not None
    }


def _wait_agents_stored(influx: InfluxDB, held: dict[str, set[Key]], timeout_s: float
                        ) -> dict[str, set[Key]]:  # fmt: skip
    deadline = time.monotonic() + timeout_s
    while True:
        stored = {device: _device_keys(influx, device) for device in held}
        if all(held[d] <= stored[d] for d in held) or time.monotonic() > deadline:
            return stored
        time.sleep(2)


def _wait_stored(influx: InfluxDB, expected: set[int], timeout_s: float) -> set[int]:
    deadline = time.monotonic() + timeout_s
    while True:
        rows = _influxql(influx, "civic_watch", _LOAD_QUERY)
        stored = {int(row["time"]) for row in rows}
        if expected <= stored or time.monotonic() > deadline:
            return stored
        time.sleep(2)


def _wait_told(smtp: SmtpCatcher, pressed: set[str], timeout_s: float) -> set[str]:
    deadline = time.monotonic() + timeout_s
    while True:
        told = {b for b in pressed for mail in smtp.to(FIRST) if f"（{b}）" in mail.body}
        if told >= pressed or time.monotonic() > deadline:
            return told
        time.sleep(1)


def _wait_no_gaps(config: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _gateway_missing(config) and time.monotonic() < deadline:
        time.sleep(2)


def _gateway_missing(config: Path) -> int:
    """The gateway's registry on the agents' sequences: numbers never received."""
    result = subprocess.run([sys.executable, "-m", "civic_iot", "devices", "--config",
                             str(config), "--json"], capture_output=True, check=True)  # fmt: skip
    records = json.loads(result.stdout)
    missing = [r["sequence"]["missing"] for r in records if r["device_id"] in AGENTS]
    return sum(last - first + 1 for spans in missing for first, last in spans)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-broker-kills", action="store_true", help="leave the broker alone (see README)"
    )
    args, _ = parser.parse_known_args()
    figures = run(args.minutes, args.seed, broker_kills=not args.no_broker_kills)
    print(f"chaos run: {args.minutes:g} min, seed {args.seed}")
    for name, value in figures.items():
        print(f"  {name}: {value}")


if __name__ == "__main__":
    main()
