"""Chaos run: the example city under steady load while its parts are SIGKILLed and
restarted at random (seeded, so a run can be repeated): the broker, the gateway, the
alerts service, InfluxDB and the agents. At the end it prints what a city would care
about: readings the broker acknowledged that never reached InfluxDB, the gateway's own
count of readings missing from the agents' sequences, call-button alerts that never
reached the first person of the chain, and notifications delivered twice.

Ground truth for readings is a publisher of this harness (device home-a002-hub): every
reading the broker acknowledged (PUBACK) must be in InfluxDB at the end. The agents
(home-a001-hub, home-a003-hub) run their real outbox; the gateway checks their sequences.
Presses come from home-a004-hub, each on its own button, so each is one alert.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from benchlib import REPO, start_gateway
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from civic_iot.catchers import SmtpCatcher
from civic_iot.children import CliProcess
from civic_iot.demo_alerts import write_local_config
from civic_iot.mqttlink import MqttConfig
from civic_iot.services import InfluxDB, Mosquitto
from civic_iot.watch import wait_online
from wire import Message, Reading, encode, now_ms, topics

# home-a004's chain starts with its care manager (firmware-config).
LOAD_DEVICE, PRESS_DEVICE, FIRST = "home-a002-hub", "home-a004-hub", "care-b@example.jp"
AGENTS = ("home-a001-hub", "home-a003-hub")


class Publisher:
    """QoS 1 with a persistent session: paho resends what the broker has not
    acknowledged after a reconnect; what it acknowledged is recorded."""

    def __init__(self, broker: Mosquitto, client_id: str) -> None:
        self.acked: set[int] = set()  # mids
        self.sent: dict[int, Any] = {}  # mid -> what it carried
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5)  # fmt: skip
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.on_publish = self._on_publish
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 3600
        self.client.connect_async(broker.host, broker.port, keepalive=5, clean_start=False,
                                  properties=properties)  # fmt: skip
        self.client.reconnect_delay_set(0.2, 2)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes, what: Any) -> None:
        info = self.client.publish(topic, payload, qos=1)
        with self._lock:
            self.sent[info.mid] = what

    def acknowledged(self) -> list[Any]:
        with self._lock:
            return [self.sent[mid] for mid in self.acked if mid in self.sent]

    def pending(self) -> int:
        with self._lock:
            return len(set(self.sent) - self.acked)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        if not reason.is_failure:
            with self._lock:
                self.acked.add(mid)


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
        self.kills: Counter[str] = Counter()

    # -- the parts ------------------------------------------------------------------------

    def _gateway(self) -> CliProcess:
        return start_gateway(self.work, self.broker, self.influx, REPO / "firmware-config",
                             max_delay_s=0.2)[0]  # fmt: skip

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
            "collectors": [{"type": "simulated", "interval_s": 0.5, "kinds": ["climate"]}],
        }), encoding="utf-8")  # fmt: skip
        return CliProcess(self.work / f"{device}.log", "--log-level", "warning", "edge", "run",
                          "--config", str(config))  # fmt: skip

    def strike(self, targets: list[str]) -> str:
        """SIGKILL one part at random and start it again after a moment."""
        target = self.rng.choice(targets)
        self.kills[target] += 1
        down_s = self.rng.uniform(0.5, 3.0)
        if target == "broker":
            self.broker.kill()
            time.sleep(down_s)
            self.broker.start()
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
        return target

    def close(self) -> None:
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
    load = Publisher(city.broker, "chaos-load")
    presses = Publisher(city.broker, "chaos-presses")
    targets = ["gateway", "alerts", "influxdb", *AGENTS] + (["broker"] if broker_kills else [])
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, args=(load, presses, stop), daemon=True)
    feeder.start()
    deadline = time.monotonic() + minutes * 60
    while time.monotonic() < deadline:
        time.sleep(city.rng.uniform(4.0, 10.0))
        city.strike(targets)
    stop.set()
    feeder.join()
    settle = time.monotonic() + 60
    while (load.pending() or presses.pending()) and time.monotonic() < settle:
        time.sleep(0.5)
    readings = load.acknowledged()
    expected = set(readings)
    stored = _wait_stored(city.influx, expected, timeout_s=90)
    pressed = set(presses.acknowledged())
    told = _wait_told(city.smtp, pressed, timeout_s=60)
    twice = Counter((m.subject, m.body, tuple(m.to)) for m in city.smtp.mails)
    load.close()
    presses.close()
    return {
        "kills": sum(city.kills.values()),
        "readings acknowledged": len(expected),
        "readings lost": len(expected - stored),
        "missing in agents' sequences": _gateway_missing(city.work / "gateway.yaml"),
        "presses acknowledged": len(pressed),
        "alerts lost": len(pressed - told),
        "notifications twice": sum(count - 1 for count in twice.values()),
        **{f"killed {name}": count for name, count in sorted(city.kills.items())},
    }


def _feed(load: Publisher, presses: Publisher, stop: threading.Event) -> None:
    """20 readings/s with distinct times; a call-button press every 15 s."""
    seq, next_press = 0, time.monotonic() + 5
    while not stop.is_set():
        seq += 1
        ts = now_ms()
        reading = Reading("climate.temperature", 20.0, "Cel", sensor="chaos")
        load.publish(topics.telemetry(LOAD_DEVICE), encode(Message(1, seq, ts, [reading])), ts)
        if time.monotonic() >= next_press:
            next_press += 15
            button = f"button-{seq}"
            press = Reading("button.long_press", True, "1", sensor=button)
            presses.publish(topics.event(PRESS_DEVICE), encode(Message(1, seq, ts, [press])),
                            button)  # fmt: skip
        time.sleep(0.05)


def _influxql(influx: InfluxDB, database: str, query: str) -> list[list[Any]]:
    params = urllib.parse.urlencode({"db": database, "q": query, "epoch": "ms"})
    try:
        with urllib.request.urlopen(f"{influx.url}/query?{params}", timeout=60) as answer:  # noqa: S310
            series = json.load(answer)["results"][0].get("series") or []
    except OSError:
        return []
    return [row for one in series for row in one["values"]]


# A constant device ID, never data.
_LOAD_QUERY = f"SELECT temperature FROM climate WHERE device = '{LOAD_DEVICE}'"  # noqa: S608


def _wait_stored(influx: InfluxDB, expected: set[int], timeout_s: float) -> set[int]:
    deadline = time.monotonic() + timeout_s
    while True:
        rows = _influxql(influx, "civic_watch", _LOAD_QUERY)
        stored = {int(row[0]) for row in rows}
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
