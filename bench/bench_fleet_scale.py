"""City scale: D simulated devices, each one message every I seconds, for M minutes,
through Mosquitto and one gateway into InfluxDB 1.x.

Devices are topics, not connections: the C load generator (bench/mqpub.c --fleet) paces
every device's messages from one connection (the gateway's load is the same; 50,000 TCP
connections would measure the test machine instead, and a Python publisher could not
keep up: three of them took 1.4 of the 2 cores at 5,000 msg/s). Every 30 s it prints
the offered and ingested rates, the backlog (published and PUBACKed but not yet
written) and the gateway's RSS.
At the end: readings lost (InfluxDB count against PUBACKs), the RSS drift after
warm-up and whether the backlog grew.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from benchlib import running, start_gateway, wait_for_count, write_inventory, written_points
from loadgen import build_mqpub

from civic_iot.children import CliProcess
from civic_iot.services import InfluxDB, Mosquitto
from wire import Message, Reading, encode, topics

SITE_SIZE = 100
SAMPLE_S = 30


def main() -> None:
    args = _arguments()
    offered = args.devices / args.interval
    print(
        f"{args.devices:,} devices x 1 message / {args.interval:g} s = {offered:,.0f} msg/s, "
        f"{args.minutes:g} min, paced by the C load generator"
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
    return parser.parse_args()


def run(work: Path, broker: Mosquitto, influx: InfluxDB, args: argparse.Namespace) -> None:
    devices = [f"bench-{i:06d}" for i in range(args.devices)]
    started = time.perf_counter()
    inventory = write_inventory(work / "firmware-config", devices, SITE_SIZE)
    gateway, _ = start_gateway(work, broker, influx, inventory, max_delay_s=1.0)
    print(f"gateway up with {len(devices):,} devices in {time.perf_counter() - started:.1f} s")
    published = Published()
    deadline = time.time() + args.minutes * 60
    generator = threading.Thread(
        target=_publish, args=(broker, args, published), name="mqpub", daemon=True
    )
    generator.start()
    samples = _monitor(gateway, influx, published, deadline)
    generator.join()
    stored = wait_for_count(influx, published.value, quiet_s=30.0, poll_s=1.0)
    gateway.terminate()
    _report(samples, published.value, stored, args)


class Published:
    """PUBACKs so far, set by the generator's reader thread, read by the monitor."""

    value = 0


def _publish(broker: Mosquitto, args: argparse.Namespace, published: Published) -> None:
    """The C generator paces the city; its "acked N" lines are the PUBACK count."""
    mqpub = build_mqpub()
    reading = Reading("climate.temperature", 20.5, "Cel", "room")
    # The wire contract writes the formats: sentinel values become printf fields.
    payload = encode(Message(1, 111_111_111, 2_222_222_222_222, [reading])).decode()
    payload = payload.replace("111111111", "%ld").replace("2222222222222", "%lld")
    topic = topics.telemetry("device-placeholder").replace("device-placeholder", "%s")
    command = [str(mqpub), broker.host, str(broker.port), "--fleet", str(args.devices),
               str(args.interval), str(args.minutes * 60), topic, payload]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            words = line.split()
            count = int(words[1]) if words[0] == "acked" else int(words[0])
            published.value = count


def _monitor(
    gateway: CliProcess, influx: InfluxDB, published: Published, deadline: float
) -> list[tuple[float, int, int, float]]:
    """Every SAMPLE_S: offered and stored rates, the backlog (PUBACKed by the broker, not
    yet in InfluxDB: both counted, not estimated) and the gateway's RSS."""
    samples: list[tuple[float, int, int, float]] = []
    begin = time.time()
    print(f"{'t (s)':>6} {'offered/s':>10} {'ingested/s':>11} {'backlog':>8} {'RSS MiB':>8}")
    last_pub, last_in, last_t = 0, 0, begin
    while time.time() < deadline:
        time.sleep(min(SAMPLE_S, max(0.0, deadline - time.time())))
        now = time.time()
        pub, ingested = published.value, written_points(influx.url, "civic_watch")
        rss = _rss_mib(gateway.pid)
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
    if achieved < 0.5 * offered:
        raise SystemExit(f"FAIL: the load generator published only {published:,} messages")


def _rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match[1]) / 1024 if match else 0.0


if __name__ == "__main__":
    main()
