"""A staged rollout to N simulated agents (default 500): how long from `fleet rollout
start` to done, and the CPU it adds to the broker and the gateway.

The gateway, the broker and the rollout command are the real ones. The agents are
simulated in one process (one MQTT client answering for every device ID, as devices
are topics here, not connections): each reports the release it runs, and when asked
for a new one says ``installing`` and, ``--install-s`` later (a Pi's verify, install and
restart; on this machine a real one takes about 5 s), ``running``. Load is measured as
the CPU seconds the broker and the gateway used during the rollout, minus what they use
idle over as long (measured just before).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from benchlib import REPO, mqtt_client, running, start_gateway, write_inventory

from civic_iot.services import InfluxDB, Mosquitto
from gateway import registry_db, rollout
from wire import ReleaseDesired, ReleaseReported, decode, encode, now_ms, topics

BASE, NEW = "1.0.0", "1.0.1"


class SimulatedAgents:
    """Every device's side of an update, over one connection."""

    def __init__(self, broker: Mosquitto, devices: list[str], install_s: float) -> None:
        self.install_s = install_s
        self.client = mqtt_client(broker, "bench-agents")
        self.client.on_message = self._desired
        for device in devices:
            self._report(device, BASE, "running", "")
        self.client.subscribe(topics.all_devices(topics.Kind.RELEASE_DESIRED), qos=1)

    def _report(self, device: str, running_version: str, state: str, desired: str) -> None:
        report = ReleaseReported(schema=1, running=running_version, state=state, ts=now_ms(),
                                 desired=desired)  # fmt: skip
        self.client.publish(topics.release_reported(device), encode(report), qos=1, retain=True)

    def _desired(self, client: object, userdata: object, message: object) -> None:
        topic, payload = message.topic, message.payload  # type: ignore[attr-defined]
        if not payload:
            return
        device = topics.parse(topic).device_id
        desired = decode(payload, ReleaseDesired, topic=topic)
        self._report(device, BASE, "installing", desired.version)
        timer = threading.Timer(self.install_s, self._report,
                                (device, desired.version, "running", desired.version))  # fmt: skip
        timer.daemon = True
        timer.start()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--install-s", type=float, default=5.0)
    parser.add_argument("--check-s", type=float, default=2.0, help="the gateway's rollout tick")
    parser.add_argument("--idle-s", type=float, default=10.0, help="idle baseline to subtract")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        devices = [f"bench-{n:05d}" for n in range(args.devices)]
        inventory = write_inventory(work / "city", devices, site_size=1)
        source = work / "releases"
        (source / NEW).mkdir(parents=True)
        (source / NEW / "manifest.json").write_text("{}")  # the agents are simulated
        broker, influx = Mosquitto(work / "mosquitto"), InfluxDB(work / "influx")
        with running(broker, influx):
            settings = {"rollouts": {"source": str(source), "home_window": "",
                                     "deadline_s": 60, "check_s": args.check_s}}  # fmt: skip
            gateway, _ = start_gateway(work, broker, influx, inventory, max_delay_s=0.2,
                                       **settings)  # fmt: skip
            agents = SimulatedAgents(broker, devices, args.install_s)
            try:
                _measure(work, broker, gateway.pid, args)
            finally:
                agents.close()
                gateway.terminate()


def _measure(work: Path, broker: Mosquitto, gateway_pid: int, args: argparse.Namespace) -> None:
    assert broker.process is not None
    broker_pid = broker.process.pid
    time.sleep(3)  # the initial reports are in
    idle_from = time.monotonic()
    idle = (cpu_s(broker_pid), cpu_s(gateway_pid))
    time.sleep(args.idle_s)
    idle_rate = [(cpu_s(pid) - before) / (time.monotonic() - idle_from)
                 for pid, before in zip((broker_pid, gateway_pid), idle, strict=True)]  # fmt: skip
    config = work / "gateway.yaml"
    command = [sys.executable, "-m", "civic_iot", "fleet", "rollout", "start", NEW, "--config",
               str(config), "--group", "all", "--canary", "5%", "--waves", "25%,100%"]  # fmt: skip
    started = subprocess.run(command, capture_output=True, text=True, check=True, cwd=REPO)
    print(started.stdout.strip())
    begin, before = time.monotonic(), (cpu_s(broker_pid), cpu_s(gateway_pid))
    state_dir = work / json.loads(config.read_text()).get("state_dir", "gateway-state")
    db = registry_db.connect(state_dir / "bench-gateway" / "registry.sqlite3")
    while (current := rollout.find(db, None)).state == "running":
        if time.monotonic() - begin > 1800:
            raise SystemExit("the rollout did not finish within 30 minutes")
        time.sleep(0.5)
    took = time.monotonic() - begin
    pids = (broker_pid, gateway_pid)
    added = [cpu_s(pid) - start - rate * took
             for pid, start, rate in zip(pids, before, idle_rate, strict=True)]  # fmt: skip
    waves = " → ".join(str(len(w)) for w in current.plan)
    print(f"rollout to {args.devices:,} simulated agents ({waves}; install {args.install_s:g} s, "
          f"gateway tick {args.check_s:g} s): {current.state} in {took:.1f} s")  # fmt: skip
    print(f"  per wave, at best: install + tick = {args.install_s + args.check_s:.1f} s; "
          f"{len(current.plan)} waves")  # fmt: skip
    print(f"broker CPU added: {added[0]:.2f} s ({added[0] / took:.1%} of a core); "
          f"gateway CPU added: {added[1]:.2f} s ({added[1] / took:.1%} of a core)")  # fmt: skip


if __name__ == "__main__":
    main()
