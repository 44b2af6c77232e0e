"""End-to-end ingest, against real ceilings and peers, in one interleaved run.

A burst of N QoS 1 messages (R readings each, every reading a distinct point) from a
bench city of D devices goes through Mosquitto into InfluxDB 1.x. Each round runs, in
turn:
- the load generator alone (bench/mqpub.c, C on libmosquitto; nobody subscribed), to
  show it is faster than what it measures;
- the broker's ceiling: the same burst to ``mosquitto_sub -q 1`` (C);
- InfluxDB's ceiling: the same points written straight to /write in batches of 5,000
  from two connections;
- the gateway (``civic-iot gateway run``, one process);
- the gateway scaled out: W worker processes in one MQTT v5 shared subscription.
Medians over the rounds are printed with CPU µs per message, peak RSS, InfluxDB's CPU
per point and points lost, and the ratios to each ceiling. When ``../shared/peers``
is there (a minimal paho bridge and Node-RED, see its README), its compare.py runs the
gateway beside them in its own interleaved run and the ratios to each peer follow.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchlib import (
    REPO,
    running,
    start_gateway,
    stored_temperatures,
    write_inventory,
    written_points,
)
from loadgen import (
    build_mqpub,
    cpu_seconds,
    device_ids,
    measure,
    peak_rss_mib,
    publish,
    write_messages,
)

from civic_iot.services import InfluxDB, Mosquitto
from common.city.inventory import load_inventory
from gateway.schema import message_lines
from gateway.writers.v1 import V1Writer
from wire import Kind, decode_message, topics

PEERS = REPO.parent / "shared" / "peers"
DB = "civic_watch"  # the bench city's homes
Run = dict[str, float]


def main() -> None:
    args = _arguments()
    mqpub = build_mqpub()
    with tempfile.TemporaryDirectory(prefix="civic-bench-") as tmp:
        work = Path(tmp)
        broker, influx = Mosquitto(work / "mosquitto"), InfluxDB(work / "influxdb")
        with running(broker, influx):
            bench = Bench(work, broker, influx, mqpub, args)
            results = bench.rounds()
    report(results, args)
    if args.peers and (args.peers / "compare.py").exists():
        peers(args)
    elif args.peers:
        print(f"peers: {args.peers} not found; run where ../shared/peers exists for them")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--readings", type=int, default=1, help="readings per message")
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="for the scale-out (0: none)")
    parser.add_argument("--peers", type=Path, default=PEERS,
                        help="the peers' directory (compare.py); '' leaves them out")  # fmt: skip
    args = parser.parse_args()
    args.peers = args.peers if str(args.peers) not in ("", ".") else None
    return args


class Bench:
    def __init__(self, work: Path, broker: Mosquitto, influx: InfluxDB, mqpub: Path,
                 args: argparse.Namespace) -> None:  # fmt: skip
        self.work, self.broker, self.influx, self.mqpub, self.args = (
            work,
            broker,
            influx,
            mqpub,
            args,
        )
        devices = device_ids(args.devices)
        self.inventory = write_inventory(work / "firmware-config", devices, site_size=100)
        self.messages = write_messages(work / "messages.tsv", devices, args.messages,
                                       args.readings)  # fmt: skip
        self.expected = args.messages * args.readings
        assert influx.process is not None and broker.process is not None
        self.influxd_pid = influx.process.pid

    def rounds(self) -> dict[str, list[Run]]:
        consumers: dict[str, Callable[[int], Run]] = {
            "generator": self.generator, "broker": self.broker_ceiling,
            "influxdb": self.influx_ceiling, "gateway": self.gateway,
        }  # fmt: skip
        if self.args.workers > 1:
            consumers["workers"] = self.workers
        results: dict[str, list[Run]] = {name: [] for name in consumers}
        for round_no in range(1, self.args.rounds + 1):
            for name, consumer in consumers.items():
                result = consumer(round_no)
                results[name].append(result)
                print(f"round {round_no} {name:9} {result['points_per_s']:>12,.0f} points/s "
                      f"lost {result.get('lost', 0):.0f}", file=sys.stderr)  # fmt: skip
        return results

    # -- the consumers -----------------------------------------------------------------

    def generator(self, round_no: int) -> Run:
        sent = publish(self.mqpub, self.broker.host, self.broker.port, self.messages)
        rate = sent.messages / sent.seconds
        return {"points_per_s": rate * self.args.readings, "msgs_per_s": rate,
                "cpu_us_per_msg": sent.cpu_s / sent.messages * 1e6}  # fmt: skip

    def broker_ceiling(self, round_no: int) -> Run:
        command = ["mosquitto_sub", "-h", self.broker.host, "-p", str(self.broker.port),
                   "-q", "1", "-C", str(self.args.messages), "-i", f"bench-csub-{round_no}",
                   "-t", topics.all_devices(Kind.TELEMETRY)]  # fmt: skip
        subscriber = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        time.sleep(0.5)  # mosquitto_sub says nothing once subscribed
        started = time.perf_counter()
        publish(self.mqpub, self.broker.host, self.broker.port, self.messages)
        _, status, usage = os.wait4(subscriber.pid, 0)
        subscriber.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        rate = self.args.messages / elapsed
        return {"points_per_s": rate * self.args.readings, "msgs_per_s": rate,
                "cpu_us_per_msg": (usage.ru_utime + usage.ru_stime) / self.args.messages * 1e6,
}  # fmt: skip

    def influx_ceiling(self, round_no: int) -> Run:
        """The same points, written by two connections in batches of 5,000."""
        query(self.influx.url, 'DROP DATABASE "ceiling"')
        query(self.influx.url, 'CREATE DATABASE "ceiling"')
        lines = ceiling_lines(self.messages, self.inventory)
        batches = [lines[i : i + 5000] for i in range(0, len(lines), 5000)]
        with measure(self.influxd_pid) as influxd:
            threads = [threading.Thread(target=_write_all, args=(self.influx.url, batches[i::2]))
                       for i in range(2)]  # fmt: skip
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        points_per_s = len(lines) / influxd.elapsed_s
        return {"points_per_s": points_per_s, "msgs_per_s": points_per_s / self.args.readings,
                "influxd_us_per_point": influxd.cpu_s / len(lines) * 1e6}  # fmt: skip

    def gateway(self, round_no: int) -> Run:
        return self._gateways(round_no, 1)

    def workers(self, round_no: int) -> Run:
        return self._gateways(round_no, self.args.workers)

    def _gateways(self, round_no: int, count: int) -> Run:
        query(self.influx.url, f'DROP DATABASE "{DB}"')  # each run starts from nothing
        settings: dict[str, Any] = {"shared_group": "bench"} if count > 1 else {}
        processes = []
        for index in range(count):
            work = self.work / f"run-{round_no}-{count}-{index}"
            work.mkdir()
            gateway, _ = start_gateway(work, self.broker, self.influx, self.inventory,
                                       max_delay_s=0.5, gateway_id=f"bench-gw-{index}",
                                       state_dir=str(work / "state"), **settings)  # fmt: skip
            processes.append(gateway)
        before = [cpu_seconds(p.pid) for p in processes]
        with measure(self.influxd_pid) as influxd:
            started = time.perf_counter()
            publish(self.mqpub, self.broker.host, self.broker.port, self.messages)
            landed, last = wait_for_points(self.influx.url, self.expected)
            elapsed = last - started
        cpu = sum(cpu_seconds(p.pid) - b for p, b in zip(processes, before, strict=True))
        rss = sum(peak_rss_mib(p.pid) for p in processes)
        for process in processes:
            process.terminate()
        landed = stored_temperatures(self.influx)  # exact, after the last write
        rate = landed / elapsed
        return {"points_per_s": rate, "msgs_per_s": rate / self.args.readings,
                "cpu_us_per_msg": cpu / self.args.messages * 1e6, "rss_mib": rss,
                "influxd_us_per_point": influxd.cpu_s / max(landed, 1) * 1e6,
                "lost": self.expected - landed, "cores": cpu / elapsed}  # fmt: skip


# -- InfluxDB ----------------------------------------------------------------------------


def query(url: str, statement: str, database: str = "") -> None:
    writer = V1Writer(url)
    try:
        writer.query(statement, database)
    finally:
        writer.close()


def _write_all(url: str, batches: list[list[str]]) -> None:
    writer = V1Writer(url)  # one kept-alive connection, as the gateway has
    try:
        for batch in batches:
            writer.write("ceiling", batch)
    finally:
        writer.close()


def ceiling_lines(messages: Path, inventory: Path) -> list[str]:
    """The gateway's own points for these messages (its line-protocol mapping), built
    apart from the timing."""
    placements = load_inventory(inventory).devices
    lines = []
    for row in messages.read_text(encoding="utf-8").splitlines():
        topic, payload = row.split("\t", 1)
        device = topics.parse(topic).device_id
        for zone_lines in message_lines(decode_message(payload.encode()), device,
                                        placements[device]).values():  # fmt: skip
            lines += zone_lines
    return lines


def wait_for_points(url: str, expected: int, stall_s: float = 15.0) -> tuple[int, float]:
    """Poll until every point is in (or nothing moved for ``stall_s``); the points and
    when the last of them arrived."""
    last_count, last_change = -1, time.perf_counter()
    while True:
        count = written_points(url, DB)
        now = time.perf_counter()
        if count != last_count:
            last_count, last_change = count, now
        if count >= expected or now - last_change > stall_s:
            return count, last_change
        time.sleep(0.1)


# -- the report ----------------------------------------------------------------------------

NAMES = {
    "generator": "load generator alone (C, mqpub)",
    "broker": "broker ceiling (mosquitto_sub, C)",
    "influxdb": "InfluxDB ceiling (direct /write)",
    "gateway": "civic-iot gateway",
    "workers": "gateway, {w} workers (shared sub.)",
}
COLUMNS = (("points_per_s", "points/s", "{:,.0f}"), ("cpu_us_per_msg", "CPU µs/msg", "{:.1f}"),
           ("rss_mib", "peak RSS MiB", "{:.1f}"), ("influxd_us_per_point", "influxd µs/pt",
           "{:.2f}"), ("lost", "lost", "{:.0f}"))  # fmt: skip


def median(runs: list[Run], key: str) -> float | None:
    values = [run[key] for run in runs if key in run]
    return statistics.median(values) if values else None


def report(results: dict[str, list[Run]], args: argparse.Namespace) -> None:
    print(f"{args.messages:,} messages x {args.readings} reading(s) from {args.devices:,} devices, "
          f"{args.rounds} round(s) interleaved, medians; {os.cpu_count()} cores")  # fmt: skip
    print(f"{'':36}" + "".join(f"{title:>15}" for _, title, _ in COLUMNS))
    for name, runs in results.items():
        cells = []
        for key, _, form in COLUMNS:
            value = median(runs, key)
            cells.append(f"{form.format(value) if value is not None else '-':>15}")
        print(f"{NAMES[name].format(w=args.workers):36}" + "".join(cells))
    gateway = median(results["gateway"], "points_per_s") or 0.0
    for name in ("broker", "influxdb"):
        ceiling = median(results[name], "points_per_s") or 1.0
        print(f"gateway / {NAMES[name]}: {gateway / ceiling:.2f}x")
    generator = median(results["generator"], "points_per_s") or 0.0
    verdict = "fast enough" if generator >= 2 * gateway else "TOO SLOW: the figure is its own"
    print(f"load generator / gateway: {generator / max(gateway, 1):.1f}x ({verdict})")
    if "workers" in results:
        workers = median(results["workers"], "points_per_s") or 0.0
        cores = median(results["workers"], "cores") or 1.0
        single_cores = median(results["gateway"], "cores") or 1.0
        print(
            f"scale-out: {args.workers} workers {workers:,.0f} points/s = "
            f"{workers / max(gateway, 1):.2f}x one; per gateway core: {workers / cores:,.0f} "
            f"points/s ({args.workers} workers) vs {gateway / single_cores:,.0f} (one)"
        )
    lost = sum(
        run.get("lost", 0) for name in ("gateway", "workers") for run in results.get(name, [])
    )
    print(f"readings lost: {lost:.0f}")
    if lost:
        raise SystemExit(f"FAIL: {lost:.0f} readings lost")


def peers(args: argparse.Namespace) -> None:
    """The peers' own interleaved run (csub, py_bridge, Node-RED, the gateway), its
    ratios, and the issue's goals against them."""
    out = Path(tempfile.gettempdir()) / f"civic-peers-bench-r{args.readings}.json"
    command = [sys.executable, str(args.peers / "compare.py"), "--readings", str(args.readings),
               "--rounds", str(args.rounds), "--messages", str(args.messages),
               "--json", str(out)]  # fmt: skip
    print(f"peers: {' '.join(command[1:])}", flush=True)
    done = subprocess.run(command, cwd=REPO, check=False, capture_output=True, text=True)
    print(done.stdout.rstrip())
    if done.returncode != 0 or not out.exists():
        print(f"peers: compare.py failed ({done.returncode}): {done.stderr[-2000:]}")
        return
    summary = json.loads(out.read_text())["summary"]
    gateway = summary["gateway"]
    best = max((name for name in ("bridge", "nodered") if name in summary),
               key=lambda name: summary[name]["points_per_s"]["median"], default=None)  # fmt: skip
    if best is None:
        return
    ratio = gateway["points_per_s"]["median"] / summary[best]["points_per_s"]["median"]
    print(
        f"goal: gateway >= 1.2x the better peer ({best}): {ratio:.2f}x "
        f"{'met' if ratio >= 1.2 else 'missed'}"
    )
    ours, theirs = (
        gateway.get("influxd_us_per_point"),
        summary.get("bridge", {}).get("influxd_us_per_point"),
    )
    if ours and theirs:
        verdict = "met" if ours["median"] <= theirs["median"] else "missed"
        print(
            f"goal: InfluxDB CPU per point <= the bridge's: {ours['median']:.2f} vs "
            f"{theirs['median']:.2f} µs {verdict}"
        )
    rss = gateway["peak_rss_mib"]["median"]
    print(
        f"goal: gateway peak RSS <= 60 MiB at 2,000 devices: {rss:.1f} MiB "
        f"{'met' if rss <= 60 else 'missed'}"
    )


if __name__ == "__main__":
    main()
