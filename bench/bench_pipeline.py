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
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from benchlib import (
    mqtt_client,
    running,
    start_gateway,
    wait_for_count,
    write_inventory,
)
from paho.mqtt.enums import CallbackAPIVersion

from civic_iot.services import InfluxDB, Mosquitto, process_rss_peak_kib
from gateway.writers.v1 import V1Writer
from wire import Message, Reading, encode, now_ms, topics

SITE = "bench-0000"  # write_inventory puts every device there


def main() -> None:
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="civic-bench-") as tmp:
        work = Path(tmp)
        broker, influx = Mosquitto(work / "mosquitto"), InfluxDB(work / "influxdb")
        with running(broker, influx):
            ceiling = broker_ceiling(broker, args.messages, _payloads(1, 1, args.readings)[0])
            store_ceiling = influx_ceiling(influx, args.messages * args.readings)
            result = pipeline(work, broker, influx, args)
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
    publisher = mqtt_client(broker, "ceiling-pub")
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
    inventory = write_inventory(work / "firmware-config", devices, site_size=len(devices))
    gateway, _ = start_gateway(work, broker, influx, inventory, max_delay_s=0.5)
    per_device = args.messages // len(devices)
    expected = per_device * len(devices) * args.readings
    batches = {d: _payloads(per_device, 1, args.readings) for d in devices}
    clients = {d: mqtt_client(broker, d) for d in devices}
    started = time.perf_counter()
    for index in range(per_device):
        for device in devices:
            clients[device].publish(topics.telemetry(device), batches[device][index], qos=1)
    stored = wait_for_count(influx, expected, quiet_s=10.0, poll_s=0.1)
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


if __name__ == "__main__":
    main()
