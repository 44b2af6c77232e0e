"""End-to-end ingest: N messages from M simulated devices through Mosquitto and the
gateway into InfluxDB 1.x, against two ceilings measured in the same run: the broker's
QoS 1 one-publisher-to-one-subscriber rate, and InfluxDB's own ingest rate for the same
points written straight to /write in batches of 5,000 (what the gateway sends).

Prints readings/s end to end, readings lost (must be 0), the gateway's peak RSS, both
ceilings and the ratio to each. With one reading per message the broker is the limit;
with 20 (--readings 20) InfluxDB is.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from civic_iot.children import CliProcess  # noqa: E402
from civic_iot.mqttlink import MqttConfig  # noqa: E402
from civic_iot.services import InfluxDB, Mosquitto, free_port, process_rss_peak_kib  # noqa: E402
from civic_iot.watch import wait_online  # noqa: E402
from gateway.writers.v1 import V1Writer  # noqa: E402
from wire import Message, Reading, encode, now_ms, topics  # noqa: E402

SITE = "bench-site"
INFLIGHT = 1000


def main() -> None:
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="civic-bench-") as tmp:
        work = Path(tmp)
        broker, influx = Mosquitto(work / "mosquitto"), InfluxDB(work / "influxdb")
        broker.start()
        influx.start()
        try:
            ceiling = broker_ceiling(broker, args.messages, _payloads(1, 1, args.readings)[0])
            store_ceiling = influx_ceiling(influx, args.messages * args.readings)
            result = pipeline(work, broker, influx, args)
        finally:
            broker.stop()
            influx.stop()
    ratio = result["readings_per_s"] / (ceiling * args.readings)
    print(f"messages: {args.messages} from {args.devices} devices, {args.readings} reading(s) each")
    print(
        f"end to end: {result['readings_per_s']:,.0f} readings/s "
        f"({result['messages_per_s']:,.0f} messages/s)"
    )
    print(f"readings lost: {result['lost']}")
    print(f"gateway peak RSS: {result['rss_mib']:.1f} MiB")
    print(f"broker QoS 1 ceiling (1 publisher -> 1 subscriber): {ceiling:,.0f} messages/s")
    print(f"ratio end to end / broker ceiling: {ratio:.2f}x")
    print(f"InfluxDB ingest ceiling (/write, 5,000-point batches): {store_ceiling:,.0f} points/s")
    print(f"ratio end to end / InfluxDB ceiling: {result['readings_per_s'] / store_ceiling:.2f}x")
    if result["lost"]:
        raise SystemExit(f"FAIL: {result['lost']} readings lost")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--readings", type=int, default=1, help="readings per message")
    return parser.parse_args()


def _device_ids(count: int) -> list[str]:
    return [f"bench-{index:05d}" for index in range(count)]


def _payloads(count: int, start_seq: int, readings: int, base_ms: int | None = None) -> list[bytes]:
    """Messages whose readings are all distinct points (distinct sensor or time)."""
    base = base_ms or now_ms() - 3_600_000
    return [
        encode(
            Message(
                schema=1,
                seq=seq,
                ts=base + seq,
                readings=[
                    Reading("climate.temperature", 20.0 + (seq % 50) / 10, "Cel", sensor=f"r{r}")
                    for r in range(readings)
                ],
            )
        )
        for seq in range(start_seq, start_seq + count)
    ]


def influx_ceiling(influx: InfluxDB, points: int) -> float:
    """Points/s InfluxDB takes from one writer, batches of 5,000 like the gateway's, the
    same shape of points (one field, device/sensor/site tags) into a scratch database."""
    writer = V1Writer(influx.url)
    writer.query('CREATE DATABASE "ceiling"', "ceiling")
    base = now_ms() - 3_600_000
    lines = [
        f"climate,device=bench-{i % 50:05d},sensor=r{i % 20},site={SITE} "
        f"temperature={20 + (i % 50) / 10} {base + i // 1000}"
        for i in range(points)
    ]
    started = time.perf_counter()
    for start in range(0, points, 5000):
        writer.write("ceiling", lines[start : start + 5000])
    elapsed = time.perf_counter() - started
    writer.close()
    return points / elapsed


def _client(broker: Mosquitto, client_id: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(INFLIGHT)
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def broker_ceiling(broker: Mosquitto, count: int, payload: bytes) -> float:
    """Messages/s from one QoS 1 publisher to one QoS 1 subscriber through this broker."""
    topic = topics.telemetry("ceiling-probe")
    received = 0
    done = threading.Event()
    subscribed = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal received
        received += 1
        if received == count:
            done.set()

    subscriber = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="ceiling-sub", protocol=mqtt.MQTTv5
    )
    subscriber.on_message = on_message
    subscriber.on_subscribe = lambda c, u, m, r, p: subscribed.set()
    subscriber.connect(broker.host, broker.port)
    subscriber.loop_start()
    subscriber.subscribe(topic, qos=1)
    subscribed.wait(10)
    publisher = _client(broker, "ceiling-pub")
    started = time.perf_counter()
    for _ in range(count):
        publisher.publish(topic, payload, qos=1)
    if not done.wait(300):
        raise SystemExit(f"ceiling run received only {received} of {count}")
    elapsed = time.perf_counter() - started
    for client in (publisher, subscriber):
        client.disconnect()
        client.loop_stop()
    return count / elapsed


def pipeline(
    work: Path, broker: Mosquitto, influx: InfluxDB, args: argparse.Namespace
) -> dict[str, float]:
    devices = _device_ids(args.devices)
    inventory = _write_inventory(work / "firmware-config", devices)
    config = work / "gateway.yaml"
    config.write_text(
        json.dumps(
            {
                "gateway_id": "bench-gateway",
                "inventory": str(inventory),
                "mqtt": {"host": broker.host, "port": broker.port},
                "influx": {"url": influx.url},
                "batch": {"max_points": 5000, "max_delay_s": 0.5},
                "http_listen": f"127.0.0.1:{free_port()}",
            }
        ),
        encoding="utf-8",
    )
    gateway = CliProcess(
        work / "gateway.log", "--log-level", "warning", "gateway", "run", "--config", str(config)
    )
    if not wait_online(
        MqttConfig(host=broker.host, port=broker.port), topics.service_status("bench-gateway")
    ):
        raise SystemExit(f"gateway did not start:\n{gateway.log()}")
    per_device = args.messages // len(devices)
    expected = per_device * len(devices) * args.readings
    batches = {d: _payloads(per_device, 1, args.readings) for d in devices}
    clients = {d: _client(broker, d) for d in devices}
    started = time.perf_counter()
    for index in range(per_device):
        for device in devices:
            clients[device].publish(topics.telemetry(device), batches[device][index], qos=1)
    stored = _wait_for_count(influx, expected)
    elapsed = time.perf_counter() - started
    rss_kib = process_rss_peak_kib(gateway.pid)
    gateway.terminate()
    for client in clients.values():
        client.disconnect()
        client.loop_stop()
    return {
        "readings_per_s": stored / elapsed,
        "messages_per_s": stored / args.readings / elapsed,
        "lost": expected - stored,
        "rss_mib": rss_kib / 1024,
    }


def _write_inventory(root: Path, devices: list[str]) -> Path:
    """The example city's city.yaml and profiles, and one bench site with every device."""
    shutil.copytree(REPO / "firmware-config", root, ignore=shutil.ignore_patterns("sites"))
    (root / "sites").mkdir(parents=True)
    listing = "\n".join(f"  - {{id: {d}, profile: watch-over-home}}" for d in devices)
    (root / "sites" / f"{SITE}.yaml").write_text(
        f"id: {SITE}\nkind: home\nname: {{ja: ベンチ, en: Bench}}\ndevices:\n{listing}\n",
        encoding="utf-8",
    )
    return root


def _wait_for_count(influx: InfluxDB, expected: int, quiet_s: float = 10.0) -> int:
    """Poll until every point is stored, or until the count stops moving for quiet_s."""
    last, last_change = -1, time.monotonic()
    while True:
        count = _count(influx)
        if count >= expected:
            return count
        if count != last:
            last, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > quiet_s:
            return count
        time.sleep(0.1)


def _count(influx: InfluxDB) -> int:
    query = urllib.parse.urlencode(
        {"db": "civic_watch", "q": "SELECT count(temperature) FROM climate"}
    )
    with urllib.request.urlopen(f"{influx.url}/query?{query}", timeout=30) as response:  # noqa: S310
        series = json.load(response)["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


if __name__ == "__main__":
    main()
