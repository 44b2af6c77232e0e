"""The edge agent's footprint and its catch-up after an outage.

1. RSS and CPU of the agent, idle and at 100 readings/s, each as a ratio to a bare
   paho-mqtt client publishing the same messages at the same rate, in the same run.
   (Goal: idle RSS <= 1.3x the bare client.)
2. Backlog replay after a simulated 1-hour outage: readings/s delivered from the
   outbox, and how long a door event that happens during the replay takes to arrive.
   (Goal: >= 5,000 readings/s while a live event still goes out within 1 s.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchlib import running  # noqa: E402

from civic_iot.services import Mosquitto  # noqa: E402
from edge.outbox import ROUTINE, Outbox  # noqa: E402
from wire import Message, Reading, decode_message, encode, now_ms, topics  # noqa: E402

DEVICE = "bench-agent"
SETTLE_S = 4.0
MEASURE_S = 10.0


def main() -> None:
    global SETTLE_S, MEASURE_S, OUTAGE_S
    if "--quick" in sys.argv:  # seconds instead of a minute: checks that it runs
        SETTLE_S, MEASURE_S, OUTAGE_S = 1.0, 1.0, 60
    with tempfile.TemporaryDirectory(prefix="civic-bench-agent-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto")
        with running(broker):
            footprint(work, broker)
            replay(work, broker)


# -- 1. footprint -----------------------------------------------------------------------


def footprint(work: Path, broker: Mosquitto) -> None:
    idle = {"type": "system", "interval_s": 3600}
    # 6 readings (temperature, humidity, battery of 2 rooms) per message, 16.7 messages/s.
    busy = {"type": "simulated", "interval_s": 0.06, "kinds": ["climate"], "rooms": ["r1", "r2"]}
    size = len(encode(sample_message(6)))
    rows = []
    for label, collector, rate in (("idle", idle, 0.0), ("100 readings/s", busy, 100 / 6)):
        agent = measure([*agent_command(work, broker, [collector], label)], SETTLE_S)
        bare = measure(
            [
                sys.executable,
                str(REPO / "bench" / "bare_client.py"),
                str(broker.port),
                str(rate),
                str(size),
            ],
            SETTLE_S,
        )
        rows.append((label, agent, bare))
    for label, (agent_rss, agent_cpu), (bare_rss, bare_cpu) in rows:
        print(
            f"agent {label}: RSS {agent_rss / 1024:.1f} MiB vs bare paho {bare_rss / 1024:.1f} MiB "
            f"= {agent_rss / bare_rss:.2f}x; CPU {agent_cpu:.1f}% vs {bare_cpu:.1f}%"
        )


def agent_command(
    work: Path, broker: Mosquitto, collectors: list[dict[str, object]], label: str
) -> list[str]:
    directory = work / label.replace(" ", "-").replace("/", "")
    directory.mkdir(exist_ok=True)
    config = directory / "agent.yaml"
    config.write_text(
        json.dumps(
            {
                "device_id": DEVICE,
                "state_dir": "state",
                "health_interval_s": 3600,
                "mqtt": {"host": broker.host, "port": broker.port},
                "collectors": collectors,
            }
        ),
        encoding="utf-8",
    )
    return [
        sys.executable,
        "-m",
        "civic_iot",
        "--log-level",
        "warning",
        "edge",
        "run",
        "--config",
        str(config),
    ]


def measure(command: list[str], settle_s: float) -> tuple[int, float]:
    """(RSS KiB after settling, CPU % over MEASURE_S)."""
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL)
    try:
        time.sleep(settle_s)
        cpu_before, wall_before = cpu_seconds(process.pid), time.monotonic()
        time.sleep(MEASURE_S)
        cpu = (cpu_seconds(process.pid) - cpu_before) / (time.monotonic() - wall_before) * 100
        return rss_kib(process.pid), cpu
    finally:
        process.terminate()
        process.wait(10)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks


# -- 2. replay --------------------------------------------------------------------------

READINGS_PER_MESSAGE = 20
OUTAGE_S = 3600


def sample_message(readings: int, seq: int = 1, ts: int | None = None) -> Message:
    return Message(
        schema=1,
        seq=seq,
        ts=ts or now_ms(),
        readings=[
            Reading("climate.temperature", 20.5, "Cel", sensor=f"s{n}") for n in range(readings)
        ],
    )


def replay(work: Path, broker: Mosquitto) -> None:
    directory = work / "replay"
    state = directory / "state"
    start = now_ms() - OUTAGE_S * 1000
    outbox = Outbox(state / "outbox.sqlite3", sync="normal")
    messages = [
        (
            ROUTINE,
            topics.telemetry(DEVICE),
            encode(sample_message(READINGS_PER_MESSAGE, seq, start + seq * 1000)),
        )
        for seq in range(1, OUTAGE_S + 1)
    ]
    outbox.add(messages, OUTAGE_S, start)
    outbox.close()
    backlog = OUTAGE_S * READINGS_PER_MESSAGE

    received = {"backlog": 0, "last": 0.0}
    latencies: list[float] = []
    done = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        decoded = decode_message(message.payload)
        if message.topic == topics.event(DEVICE):
            latencies.append(time.time() - decoded.ts / 1000)
        elif decoded.ts < start + (OUTAGE_S + 1) * 1000:
            received["backlog"] += len(decoded.readings)
            received["last"] = time.perf_counter()
            if received["backlog"] >= backlog:
                done.set()

    listener = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="bench-listener", protocol=mqtt.MQTTv5
    )
    listener.on_message = on_message
    listener.connect(broker.host, broker.port)
    listener.subscribe([(topics.telemetry(DEVICE), 1), (topics.event(DEVICE), 1)])
    listener.loop_start()
    time.sleep(0.5)
    door = {
        "type": "simulated",
        "name": "door",
        "interval_s": 0.25,
        "kinds": ["door"],
        "event_rate": 1.0,
    }
    command = agent_command(work, broker, [door], "replay")
    config = json.loads((directory / "agent.yaml").read_text())
    config["outbox"] = {"sync": "full"}
    (directory / "agent.yaml").write_text(json.dumps(config))
    began = time.perf_counter()
    agent = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        finished = done.wait(600)
    finally:
        agent.terminate()
        agent.wait(20)
        listener.disconnect()
        listener.loop_stop()
    elapsed = received["last"] - began
    rate = received["backlog"] / elapsed if elapsed > 0 else 0.0
    worst = max(latencies) if latencies else float("nan")
    print(
        f"replay of a 1-hour outage: {received['backlog']:,} of {backlog:,} readings "
        f"({OUTAGE_S:,} messages) in {elapsed:.1f} s = {rate:,.0f} readings/s (goal >= 5,000)"
    )
    print(
        f"live door events during the replay: {len(latencies)}, "
        f"worst latency {worst * 1000:.0f} ms (goal < 1,000 ms)"
        f"{'' if finished else '  INCOMPLETE'}"
    )


if __name__ == "__main__":
    main()
