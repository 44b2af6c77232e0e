"""Alerts: (1) the default rules on simulated daily life with injected incidents:
detection rate, minutes to alert, false alerts per resident-month (goal: every incident
within its rule's deadline, <= 0.5 false alerts per resident-month, none from device
outages); (2) alert latency under load: a call-button press published to the broker
until its e-mail reaches the SMTP server, while 1,000 readings/s flow in the background
(goal p99 <= 100 ms).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from benchlib import mqtt_client

from alerts.simulate import DETECTS, INCIDENTS, simulate
from civic_iot.catchers import SmtpCatcher
from civic_iot.children import CliProcess
from civic_iot.demo_alerts import write_local_config
from civic_iot.mqttlink import MqttConfig
from civic_iot.services import Mosquitto
from civic_iot.watch import wait_online
from wire import Message, Reading, encode, now_ms, topics

HOMES = {"home-a001-hub": "hanako@example.jp", "home-a002-hub": "ken@example.jp",
         "home-a003-hub": "ben@example.com", "home-a004-hub": "care-b@example.jp"}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=20)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--background", type=float, default=1000.0, help="readings/s")
    args = parser.parse_args()
    if args.residents:
        scenario(args.residents, args.days)
    latency(args.presses, args.background)


def scenario(residents: int, days: int) -> None:
    started = time.perf_counter()
    results = simulate(residents, days)
    print(f"simulated {residents} residents x {days} days = {results.resident_months:.0f} "
          f"resident-months in {time.perf_counter() - started:.0f} s")  # fmt: skip
    print(f"{'incident':<16} {'caught':>9} {'median min':>11} {'max min':>8}  rules")
    for kind in INCIDENTS:
        caught, injected, minutes = results.detection(kind)
        median = statistics.median(minutes) if minutes else float("nan")
        worst = max(minutes) if minutes else float("nan")
        rules = ", ".join(sorted(DETECTS[kind][0]))
        print(f"{kind:<16} {caught:>4}/{injected:<4} {median:>11.1f} {worst:>8.1f}  {rules}")
    rate = len(results.false_alerts) / results.resident_months
    print(
        f"false alerts: {len(results.false_alerts)} = {rate:.2f} per resident-month (goal <= 0.5)"
    )
    print(f"caregiver alerts caused by device outages: {len(results.outage_alerts)} (goal 0)")


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
    print(f"alert latency, press published -> e-mail at the SMTP server, {len(delays)} presses, "
          f"{background:,.0f} readings/s background: p50 {p50:.0f} ms, p99 {p99:.0f} ms "
          f"(goal p99 <= 100 ms)")  # fmt: skip


def _start_alerts(work: Path, broker: Mosquitto, smtp: SmtpCatcher) -> CliProcess:
    mqtt = MqttConfig(host=broker.host, port=broker.port)
    config = write_local_config(work, "alerts-1", mqtt, email={"url": smtp.url()})
    service = CliProcess(work / "alerts.log", "--log-level", "warning", "alerts", "run",
                         "--config", str(config))  # fmt: skip
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
