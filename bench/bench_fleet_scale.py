"""City scale: D simulated devices, each one message every I seconds, for M minutes,
through Mosquitto and one gateway into InfluxDB 1.x.

Devices are topics, not connections: P publisher processes each publish for their
share of device IDs (the gateway's load is the same; 50,000 TCP connections would
measure the test machine instead). Every 30 s it prints the offered and ingested
rates, the backlog (published and PUBACKed but not yet written) and the gateway's RSS.
At the end: readings lost (InfluxDB count against PUBACKs), the RSS drift after
warm-up and whether the backlog grew.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import tempfile
import time
import urllib.request
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import paho.mqtt.client as mqtt
from benchlib import running, start_gateway, wait_for_count, write_inventory
from paho.mqtt.enums import CallbackAPIVersion

from civic_iot.children import CliProcess
from civic_iot.services import InfluxDB, Mosquitto
from wire import Message, Reading, encode, now_ms, topics

SITE_SIZE = 100
SAMPLE_S = 30


def main() -> None:
    args = _arguments()
    offered = args.devices / args.interval
    print(
        f"{args.devices:,} devices x 1 message / {args.interval:g} s = {offered:,.0f} msg/s, "
        f"{args.minutes:g} min, {args.publishers} publisher processes"
    )
    with tempfile.TemporaryDirectory(prefix="civic-bench-") as tmp:
        work = Path(tmp)
        broker, influx = Mosquitto(work / "mosquitto"), InfluxDB(work / "influxdb")
        with running(broker, influx):
            run(work, broker, influx, args)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=50_000)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds per device")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--publishers", type=int, default=3)
    return parser.parse_args()


def run(work: Path, broker: Mosquitto, influx: InfluxDB, args: argparse.Namespace) -> None:
    devices = [f"bench-{i:06d}" for i in range(args.devices)]
    started = time.perf_counter()
    inventory = write_inventory(work / "firmware-config", devices, SITE_SIZE)
    gateway, port = start_gateway(work, broker, influx, inventory, max_delay_s=1.0)
    print(f"gateway up with {len(devices):,} devices in {time.perf_counter() - started:.1f} s")
    published: Synchronized[int] = multiprocessing.Value("q", 0)  # type: ignore[assignment]
    deadline = time.time() + args.minutes * 60
    workers = [
        multiprocessing.Process(
            target=_publish,
            args=(
                broker.host,
                broker.port,
                devices[p :: args.publishers],
                args.interval,
                deadline,
                published,
            ),
        )
        for p in range(args.publishers)
    ]
    for worker in workers:
        worker.start()
    samples = _monitor(gateway, port, published, deadline)
    for worker in workers:
        worker.join()
    stored = wait_for_count(influx, published.value, quiet_s=30.0, poll_s=1.0)
    gateway.terminate()
    _report(samples, published.value, stored, args)


def _publish(  # noqa: PLR0917
    host: str,
    port: int,
    devices: list[str],
    interval: float,
    deadline: float,
    published: Synchronized[int],
) -> None:
    """Publish for this share of devices on schedule; add PUBACKs to the shared count."""
    acked = reported = sent = 0

    def on_publish(client: mqtt.Client, userdata: object, mid: int, rc: object, p: object) -> None:
        nonlocal acked
        acked += 1

    def report() -> None:
        nonlocal reported
        if acked > reported:
            new, reported = acked - reported, acked
            with published.get_lock():
                published.value += new

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.on_publish = on_publish
    client.connect(host, port)
    client.loop_start()
    start = time.time()
    per_second = len(devices) / interval
    while time.time() < deadline:
        due = int((time.time() - start) * per_second)
        if sent >= due:
            time.sleep(0.05)
        while sent < due:
            device, seq = devices[sent % len(devices)], sent // len(devices) + 1
            reading = Reading("climate.temperature", 20.5, "Cel", "room")
            client.publish(
                topics.telemetry(device), encode(Message(1, seq, now_ms(), [reading])), qos=1
            )
            sent += 1
        report()
    while acked < sent and time.time() < deadline + 120:
        time.sleep(0.1)
    report()
    client.disconnect()
    client.loop_stop()


def _monitor(
    gateway: CliProcess, port: int, published: Synchronized[int], deadline: float
) -> list[tuple[float, int, int, float]]:
    samples: list[tuple[float, int, int, float]] = []
    begin = time.time()
    print(f"{'t (s)':>6} {'offered/s':>10} {'ingested/s':>11} {'backlog':>8} {'RSS MiB':>8}")
    last_pub, last_in, last_t = 0, 0, begin
    while time.time() < deadline:
        time.sleep(min(SAMPLE_S, max(0.0, deadline - time.time())))
        now = time.time()
        pub, ingested, rss = published.value, _readings(port), _rss_mib(gateway.pid)
        span = max(now - last_t, 1e-6)
        print(
            f"{now - begin:6.0f} {(pub - last_pub) / span:10,.0f} "
            f"{(ingested - last_in) / span:11,.0f} {pub - ingested:8,} {rss:8.1f}",
            flush=True,
        )
        samples.append((now - begin, pub, ingested, rss))
        last_pub, last_in, last_t = pub, ingested, now
    return samples


def _report(
    samples: list[tuple[float, int, int, float]],
    published: int,
    stored: int,
    args: argparse.Namespace,
) -> None:
    lost = published - stored
    warm = [s for s in samples if s[0] >= 120] or samples
    drift = warm[-1][3] - warm[0][3]
    backlogs = [pub - ingested for _, pub, ingested, _ in warm]
    offered = args.devices / args.interval
    achieved = published / (args.minutes * 60)
    print(
        f"published (PUBACKed): {published:,} = {achieved:,.0f} msg/s of {offered:,.0f} offered "
        f"({achieved / offered:.2f}x)"
    )
    print(f"stored in InfluxDB: {stored:,}; readings lost: {lost}")
    print(
        f"gateway RSS after warm-up: {warm[0][3]:.1f} -> {warm[-1][3]:.1f} MiB "
        f"(drift {drift:+.1f} MiB), peak {max(s[3] for s in samples):.1f} MiB"
    )
    trend = "growing" if backlogs[-1] > 2 * max(backlogs[0], offered * 5) else "flat"
    print(f"backlog after warm-up: {backlogs[0]:,} -> {backlogs[-1]:,} ({trend})")
    if lost:
        raise SystemExit(f"FAIL: {lost} readings lost")


def _readings(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    match = re.search(r"^civic_gateway_readings_total (\S+)$", text, re.MULTILINE)
    return int(float(match[1])) if match else 0


def _rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) / 1024 if match else 0.0


if __name__ == "__main__":
    main()
