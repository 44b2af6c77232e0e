"""A staged rollout to the example city's four watch-over homes, with real agent
processes (each installed from the city's signed releases), the real gateway driving
it and a real broker: the canary first, then the waves; then a release whose agent
cannot start, which rolls itself back on the canary (and is not tried again) and
pauses the rollout before any other home is asked. The agent's own rules (update
windows, older releases, confirming only when healthy) are in tests/edge/test_update_rules.py."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec
import pytest

from civic_iot.devicehost import DeviceHost
from civic_iot.services import InfluxDB, Mosquitto
from gateway import registry_db
from gateway import rollout as gateway_rollout
from tests.e2e.stack import gateway_config, start_gateway
from tests.provisioning.releases import CityReleases
from tests.support.mqtt import Recorder, wait_for
from wire import ReleaseReported, topics

pytestmark = pytest.mark.services
HOMES = ["home-a001-hub", "home-a002-hub", "home-a003-hub", "home-a004-hub"]


def agent_config(root: Path, device: str, port: int) -> Path:
    path = root / "agent.yaml"
    path.write_text(f"""device_id: {device}
state_dir: {root / "state"}
health_interval_s: 60
reconnect_max_s: 1
mqtt: {{host: 127.0.0.1, port: {port}, keepalive_s: 5}}
collectors:
  - {{type: simulated, interval_s: 1, kinds: [motion], rooms: [living-room]}}
""", encoding="utf-8")  # fmt: skip
    return path


@pytest.fixture
def homes(
    tmp_path: Path, mosquitto: Mosquitto, city_releases: CityReleases
) -> Iterator[dict[str, DeviceHost]]:
    hosts = {}
    for device in HOMES:
        root = tmp_path / device
        root.mkdir()
        hosts[device] = DeviceHost(root, agent_config(root, device, mosquitto.port),
                                   root / "state", city_releases.key)  # fmt: skip
    with ThreadPoolExecutor(max_workers=len(HOMES)) as pool:  # firstboot on four Pis at once
        list(pool.map(lambda h: h.install(str(city_releases.out), city_releases.base),
                      hosts.values()))  # fmt: skip
    for host in hosts.values():
        host.start()
    try:
        yield hosts
    finally:
        for host in hosts.values():
            host.stop()


def rollout(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "civic_iot", "fleet", "rollout", *args,
               "--config", str(config)]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def state_of(tmp_path: Path) -> str:
    """The latest rollout's state, read from the gateway's registry as `status` does
    (without starting a process on every poll)."""
    db = registry_db.connect(tmp_path / "gateway-state" / "gw-test" / "registry.sqlite3")
    try:
        return gateway_rollout.find(db, None).state
    finally:
        db.close()


def reports(recorder: Recorder) -> list[tuple[str, ReleaseReported]]:
    return [(topics.parse(t).device_id, msgspec.json.decode(p, type=ReleaseReported))
            for t, p, _ in recorder.snapshot()]  # fmt: skip


def first(recorder: Recorder, device: str, state: str, version: str) -> int:
    """When ``device`` first said ``state`` about ``version`` (its report's time)."""
    return min(r.ts for d, r in reports(recorder)
               if d == device and r.state == state and r.desired == version)  # fmt: skip


@pytest.mark.timeout(400)
def test_a_rollout_goes_canary_then_waves_and_a_broken_release_pauses_it(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, repo_root: Path,
    city_releases: CityReleases, homes: dict[str, DeviceHost],
) -> None:  # fmt: skip
    extra = ("http_listen: null\nrollouts: {source: " + str(city_releases.out) +
             ", home_window: '', deadline_s: 15, check_s: 0.5}\n")  # fmt: skip
    config = gateway_config(tmp_path, mosquitto, repo_root / "firmware-config",
                            f"  url: {influxdb.url}", extra=extra)  # fmt: skip
    recorder = Recorder(mosquitto, topics.all_devices(topics.Kind.RELEASE_REPORTED))
    gateway = start_gateway(tmp_path, mosquitto, config)
    try:
        good, broken = city_releases.good, city_releases.broken
        started = rollout(config, "start", good, "--group", "kind:home", "--canary", "25%",
                          "--waves", "100%", "--max-failures", "10%")  # fmt: skip
        assert started.returncode == 0, started.stderr
        assert "to 4 devices (kind:home), waves of 1 → 3" in started.stdout
        wait_for(lambda: state_of(tmp_path) == "done", timeout_s=180, what="the rollout done")
        assert all(host.running_version() == good for host in homes.values())
        # The canary ran the release before any other home was asked for it.
        running = {d: first(recorder, d, "running", good) for d in HOMES}
        asked = {d: first(recorder, d, "installing", good) for d in HOMES}
        canary = min(running, key=running.__getitem__)
        assert all(running[canary] <= asked[d] for d in HOMES if d != canary)
        status = rollout(config, "status").stdout
        assert "— done" in status and "canary" in status and "wave 1" in status and "━" in status

        started = rollout(config, "start", broken, "--group", "kind:home", "--canary", "25%",
                          "--waves", "100%")  # fmt: skip
        assert started.returncode == 0, started.stderr
        wait_for(lambda: state_of(tmp_path) == "paused", timeout_s=120, what="the rollout paused")
        status = rollout(config, "status").stdout
        assert "— paused" in status and "1 of 1 devices failed (limit 10%): paused" in status
        assert f"{broken} was not healthy within 15 s" in status
        assert all(host.running_version() == good for host in homes.values())
        told = {d for d, r in reports(recorder) if r.desired == broken}
        assert len(told) == 1  # only the canary was ever asked
        (canary,) = told
        assert "this release is broken" in homes[canary].log()
        # Rolled back to the release kept beside it, and never tried again.
        assert (homes[canary].prefix / "releases" / good).exists()
        time.sleep(3)  # three health ticks of the rolled-back agent: it must not ask again
        assert homes[canary].log().count(f"asked the installer for release {broken}") == 1
        assert rollout(config, "abort").returncode == 0
        assert "— aborted" in rollout(config, "status").stdout
        assert rollout(config, "resume").returncode == 1  # an aborted rollout stays so
    finally:
        gateway.terminate()
        recorder.close()
