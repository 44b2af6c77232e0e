"""Alerts: (1) efficacy of the default rules, measured through `civic-iot alerts replay`
(the whole service on virtual time) on varied routines of residents living alone, written
for this benchmark (bench/alerts_life.py), with injected incidents of every kind, a
January month and an August month: per incident kind, how many were caught in time,
minutes to the first caregiver notification, notifications per incident; false caregiver
alerts per resident-month, caregiver alerts from device outages or never-connected homes,
failures, notifications delivered twice. (2) Alert latency under load: a call-button
press published to the broker until its e-mail reaches the SMTP server, while 1,000
readings/s flow in the background (goal p99 <= 100 ms).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from alerts_life import GOALS, City, Incident, write_city
from benchlib import REPO, mqtt_client

from alerts.replay import replay_to_file
from alerts.rules import SEVERITY_ORDER
from civic_iot.catchers import SmtpCatcher
from civic_iot.children import CliProcess
from civic_iot.demo_alerts import write_local_config
from civic_iot.services import Mosquitto
from civic_iot.watch import wait_online
from common.mqttlink import MqttConfig
from wire import Message, Reading, encode, now_ms, topics

HOMES = {
    "home-a001-hub": "hanako@example.jp",
    "home-a002-hub": "ken@example.jp",
    "home-a003-hub": "ben@example.com",
    "home-a004-hub": "care-b@example.jp",
}
MIN = 60_000
MONTHS = ("2026-01-05", "2026-07-27")  # a January and an August


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=25, help="homes per month")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--background", type=float, default=1000.0, help="readings/s")
    args = parser.parse_args()
    if args.residents:
        efficacy(args.residents, args.days)
    if args.presses:
        latency(args.presses, args.background)


def efficacy(residents: int, days: int) -> None:
    incidents: list[Incident] = []
    notes: list[dict[str, Any]] = []
    failures = 0
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="civic-bench-alerts-") as tmp:
        for number, month in enumerate(MONTHS):
            work = Path(tmp) / month
            work.mkdir()
            city = City(residents, days, month, seed=number + 1)
            config = write_city(work, REPO, city.homes, never_connected=2)
            city.write(work / "stream.jsonl")
            result = replay_to_file(config, work / "stream.jsonl", work / "out.jsonl")
            failures += result.errors
            incidents += [i for home in city.homes for i in home.incidents]
            notes += [json.loads(line) for line in (work / "out.jsonl").open(encoding="utf-8")]
    months = residents * days * len(MONTHS) / 30
    print(
        f"replayed {residents} homes x {days} days x {len(MONTHS)} months = {months:.0f} "
        f"resident-months in {time.perf_counter() - started:.0f} s"
    )
    report(incidents, notes, months, failures)


def report(
    incidents: list[Incident], notes: list[dict[str, Any]], months: float, failures: int
) -> None:
    caregiver = [n for n in notes if n["to"] != "it" and n["kind"] != "summary"]
    print(
        f"{'incident':<16} {'caught':>9} {'median min':>11} {'max min':>8} {'notes/incident':>15}"
        "  goal"
    )
    explained: set[int] = set()
    for kind, (rules, minutes, severity) in GOALS.items():
        mine = [i for i in incidents if i.kind == kind]
        if not mine:
            continue
        caught, delays, counts = 0, [], []
        for incident in mine:
            near = [
                n
                for n in notes
                if n["site"] == incident.site and incident.start <= n["at"] <= incident.until
            ]
            explained.update(id(n) for n in near)
            counts.append(len(near))
            first = next(
                (
                    n
                    for n in caregiver
                    if id(n) in {id(x) for x in near}
                    and n["rule"] in rules
                    and SEVERITY_ORDER[n["severity"]] >= SEVERITY_ORDER[severity]
                ),
                None,
            )
            if first is not None:
                delay = (first["at"] - incident.onset) / MIN
                delays.append(delay)
                caught += delay <= minutes
        median = statistics.median(delays) if delays else float("nan")
        worst = max(delays) if delays else float("nan")
        goal = f"{severity} <= {minutes} min" if rules else "no caregiver alert"
        print(
            f"{kind:<16} {caught if rules else '-':>4}/{len(mine):<4} {median:>11.1f} "
            f"{worst:>8.1f} {statistics.median(counts):>7.0f} (max {max(counts):>2})  {goal}"
        )
    outages = [i for i in incidents if i.kind == "device-outage"]
    # Alerts (not the news that one resolved) told to caregivers while a hub was away.
    from_outages = [
        n
        for n in caregiver
        if n["kind"] in ("firing", "escalation", "repeat")
        and any(i.site == n["site"] and i.onset <= n["at"] <= i.until for i in outages)
    ]
    never = [n for n in caregiver if n["site"].startswith("home-n")]
    false = [n for n in caregiver if id(n) not in explained and n["kind"] == "firing"]
    rules = Counter(n["rule"] for n in false)
    print(
        f"false caregiver alerts: {len(false)} = {len(false) / months:.2f} per resident-month "
        f"(goal <= 0.3) {dict(rules.most_common(5))}"
    )
    print(
        f"caregiver alerts from device outages: {len(from_outages)}, from never-connected "
        f"homes: {len(never)} (goal 0)"
    )
    twice = Counter((n["at"], n["to"], n["channel"], n["subject"], n["text"]) for n in notes)
    print(
        f"failures while handling inputs: {failures} (goal 0); notifications delivered twice: "
        f"{sum(c - 1 for c in twice.values())} (goal 0); all notifications: {len(notes)}"
    )


def latency(presses: int, background: float) -> None:
    with tempfile.TemporaryDirectory(prefix="civic-bench-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "mosquitto")
        broker.start()
        smtp = SmtpCatcher()
        try:
            service = _start_alerts(work, broker, smtp)
            stop = threading.Event()
            noise = threading.Thread(target=_background, args=(broker, background, stop))
            noise.start()
            delays = _presses(broker, smtp, presses)
            stop.set()
            noise.join()
            service.terminate()
        finally:
            smtp.close()
            broker.stop()
    print("first five presses (ms):", ", ".join(f"{d:.0f}" for d in delays[:5]))
    delays.sort()
    p50 = delays[len(delays) // 2]
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    print(
        f"alert latency, press published -> e-mail at the SMTP server, {len(delays)} presses, "
        f"{background:,.0f} readings/s background: p50 {p50:.0f} ms, p99 {p99:.0f} ms "
        f"(goal p99 <= 100 ms)"
    )


def _start_alerts(work: Path, broker: Mosquitto, smtp: SmtpCatcher) -> CliProcess:
    mqtt = MqttConfig(host=broker.host, port=broker.port)
    config = write_local_config(work, "alerts-1", mqtt, email={"url": smtp.url()})
    service = CliProcess(
        work / "alerts.log", "--log-level", "warning", "alerts", "run", "--config", str(config)
    )
    if not wait_online(mqtt, topics.service_status("alerts-1")):
        raise SystemExit(f"alerts service did not start:\n{service.log()}")
    return service


def _background(broker: Mosquitto, rate: float, stop: threading.Event) -> None:
    """Ordinary room temperatures from the homes at ``rate`` readings per second."""
    client = mqtt_client(broker)
    sent, started, seq = 0, time.monotonic(), 0
    devices = list(HOMES)
    while not stop.is_set():
        due = int((time.monotonic() - started) * rate)
        while sent < due:
            seq += 1
            reading = Reading("climate.temperature", 21.0, "Cel", sensor="living")
            payload = encode(Message(1, seq, now_ms(), [reading]))
            client.publish(topics.telemetry(devices[sent % len(devices)]), payload, qos=1)
            sent += 1
        time.sleep(0.005)
    client.disconnect()
    client.loop_stop()


def _presses(broker: Mosquitto, smtp: SmtpCatcher, count: int) -> list[float]:
    """Each press on a new sensor (a new alert); the delay until its mail arrives."""
    client = mqtt_client(broker)
    delays = []
    for number in range(count):
        device = list(HOMES)[number % len(HOMES)]
        before = len(smtp.mails)
        reading = Reading("button.long_press", True, "1", sensor=f"button-{number}")
        payload = encode(Message(1, 10_000_000 + number, now_ms(), [reading]))
        sent = time.perf_counter()
        client.publish(topics.event(device), payload, qos=1)
        while len(smtp.mails) <= before:
            if time.perf_counter() - sent > 30:
                raise SystemExit(f"press {number} never reached the mail server")
            time.sleep(0.0005)
        delays.append((time.perf_counter() - sent) * 1000)
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    return delays


if __name__ == "__main__":
    main()
