"""What `civic-iot demo` shows besides data landing: IT changes a device's config
remotely, and a home loses its Internet for a while and comes back with nothing missing."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from civic_iot.outage import CuttableLink
from civic_iot.seqwatch import SequenceWatch
from common.mqttlink import MqttConfig
from gateway.fleet import Fleet, FleetError

CONFIG_AT_S = 2.0
CUT_AT_S = 4.0


@dataclass(frozen=True)
class ScenarioPlan:
    config_device: str
    desired_collectors: list[dict[str, object]]
    outage_device: str
    outage_s: float


class Scenario:
    def __init__(
        self, plan: ScenarioPlan, console: MqttConfig, monitor: MqttConfig, relay: CuttableLink
    ) -> None:
        self.plan = plan
        self._console = console
        self._relay = relay
        self._watch = SequenceWatch(monitor)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-scenario", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._relay.restore()
        self._thread.join(timeout=5)
        self._watch.close()
        self._relay.close()

    def _run(self) -> None:
        if self._stop.wait(CONFIG_AT_S):
            return
        self._push_config()
        if self._stop.wait(max(0.0, CUT_AT_S - CONFIG_AT_S)):
            return
        self._outage()

    def _push_config(self) -> None:
        device = self.plan.config_device
        say(f"IT pushes desired config version 1 to {device} (a new collector interval) ...")
        try:
            with Fleet(self._console) as fleet:
                report = fleet.push_config(
                    device, {"collectors": self.plan.desired_collectors}, version=None, timeout_s=30
                )
        except FleetError as exc:
            say(f"  {exc}")
            return
        state, wanted, running = report.state, report.desired, report.version
        say(f"  {device} reported: {state} version {wanted}, running {running}")

    def _outage(self) -> None:
        device = self.plan.outage_device
        before = self._watch.highest(device)
        self._relay.cut()
        outage = self.plan.outage_s
        say(f"{device}: its Internet goes down for {outage:g} s (readings wait in its outbox)")
        if self._stop.wait(self.plan.outage_s):
            return
        self._relay.restore()
        say(f"{device}: back online, replaying its outbox ...")
        deadline = time.monotonic() + 60
        while not self._stop.is_set() and time.monotonic() < deadline:
            top = self._watch.highest(device)
            if top > before + 2 and not self._watch.missing(device):
                arrived = top - before
                missing = len(self._watch.missing(device))
                say(f"{device}: caught up: {arrived} messages since the outage, {missing} missing")
                return
            self._stop.wait(0.5)
        say(f"{device}: still missing {self._watch.missing(device)[:10]}")


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - the demo talks to its user
