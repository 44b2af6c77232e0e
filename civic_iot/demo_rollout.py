"""The demo's rollout: IT builds and signs the agent's release and a patch, the
watch-over homes are reinstalled from the signed release (as firstboot.sh does), and
the patch rolls out in stages through the gateway: the canary, then the other homes."""

from __future__ import annotations

import platform
import subprocess
import sys
import threading
from pathlib import Path

from civic_iot.children import CliProcess
from civic_iot.devicehost import DeviceHost
from common import __version__
from common.releases import ReleaseError
from provisioning.provision import Provisioner
from provisioning.release import PUBLIC_KEY, BuildRequest, build

START_AT_S = 20.0
PATCH = f"{__version__}.1"


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - the demo talks to its user


class DemoRollout:
    def __init__(
        self, state: Path, provisioner: Provisioner, agents: dict[str, CliProcess]
    ) -> None:
        self.state, self.provisioner, self.agents = state, provisioner, agents
        self.releases = state / "releases"
        self.hosts: list[DeviceHost] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-rollout", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        for host in self.hosts:
            host.stop()

    def _run(self) -> None:
        if self._stop.wait(START_AT_S) or not self._build():
            return
        homes = [d for d, p in self.provisioner.inventory.devices.items() if p.site.kind == "home"]
        for device in homes:
            if self._stop.is_set():
                return
            self._reinstall(device)
        self._roll_out()

    def _build(self) -> bool:
        say(f"IT builds the agent's release {__version__} and a patch {PATCH} for "
            f"{platform.machine()}, signed with the city's release key ...")  # fmt: skip
        key_dir = self.provisioner.release_dir
        try:
            for version in (None, PATCH):
                build(BuildRequest(out=self.releases, key_dir=key_dir,
                                   machines=(platform.machine(),), version=version))  # fmt: skip
        except ReleaseError as exc:
            say(f"  no rollout in this demo: {exc}")
            return False
        say(f"  releases in {self.releases}")
        return True

    def _reinstall(self, device: str) -> None:
        directory = self.provisioner.device_dir(device)
        self.agents[device].terminate()
        host = DeviceHost(directory / "pi", directory / "demo-agent.yaml", directory / "state",
                          self.provisioner.release_dir / PUBLIC_KEY,
                          ("--stand-ins", str(directory / "demo-stand-ins.json")))  # fmt: skip
        try:
            host.install(str(self.releases), __version__)
        except ReleaseError as exc:
            say(f"  {device}: {exc}")
            return
        host.start()
        self.hosts.append(host)
        say(f"{device}: runs the signed release {__version__} (installed as firstboot.sh does)")

    def _roll_out(self) -> None:
        started = self._rollout("start", PATCH, "--group", "kind:home", "--canary", "25%",
                                "--waves", "100%")  # fmt: skip
        say(f"IT: civic-iot fleet rollout start {PATCH} --group kind:home --canary 25% "
            f"--waves 100%\n  {started.strip()}")  # fmt: skip
        for _ in range(120):
            if self._stop.wait(3):
                return
            status = self._rollout("status")
            if "— done" in status or "— paused" in status:
                break
        say("IT: civic-iot fleet rollout status\n" + status.rstrip())

    def _rollout(self, *args: str) -> str:
        config = self.state / "config" / "gateway.yaml"
        command = [sys.executable, "-m", "civic_iot", "fleet", "rollout", args[0], *args[1:],
                   "--config", str(config)]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        return result.stdout + result.stderr
