"""Over-the-air updates with a real agent process on a real broker: the agent runs from
an installed, signed release; a desired release is installed beside it, switched to and
confirmed once healthy; a release whose agent cannot start is rolled back by itself and
the failure reported, and never tried again."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from civic_iot.devicehost import DeviceHost
from civic_iot.services import Mosquitto
from common import __version__
from provisioning.release import REPO_ROOT, BuildRequest, build, ensure_key
from tests.edge.agent_process import DEVICE
from tests.provisioning.releases import build_release, public_key
from tests.support.mqtt import Recorder, publish, wait_for
from wire import ReleaseDesired, ReleaseReported, encode, now_ms, topics

pytestmark = pytest.mark.services
GOOD, BROKEN = "99.0.1", "99.0.2"


def broken_checkout(into: Path) -> Path:
    """civic-iot whose agent dies at start, as a bad release would."""
    shutil.copytree(REPO_ROOT, into, ignore=shutil.ignore_patterns(
        ".git", ".venv", "*.egg-info", "__pycache__", "build", ".*cache", ".benchmarks"))  # fmt: skip
    agent = into / "edge" / "agent.py"
    agent.write_text(agent.read_text() + '\nraise SystemExit("this release is broken")\n')
    return into


@pytest.fixture(scope="module")
def city_releases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(key, release directory) with the project's release, a good and a broken one."""
    root = tmp_path_factory.mktemp("city")
    state, out = root / "state", root / "releases"
    ensure_key(state / "release")
    build_release(state, out)
    build_release(state, out, GOOD)
    import platform  # noqa: PLC0415

    build(BuildRequest(out=out, key_dir=state / "release", machines=(platform.machine(),),
                       version=BROKEN, source=broken_checkout(root / "broken")))  # fmt: skip
    yield public_key(state), out


def agent_config(tmp: Path, port: int) -> Path:
    path = tmp / "agent.yaml"
    path.write_text(f"""device_id: {DEVICE}
state_dir: {tmp / "state"}
health_interval_s: 1
reconnect_max_s: 1
mqtt: {{host: 127.0.0.1, port: {port}, keepalive_s: 5}}
collectors:
  - {{type: simulated, interval_s: 1, kinds: [climate], rooms: [kitchen]}}
""", encoding="utf-8")  # fmt: skip
    return path


def reports(recorder: Recorder) -> list[ReleaseReported]:
    topic = topics.release_reported(DEVICE)
    return [msgspec.json.decode(payload, type=ReleaseReported)
            for t, payload, _ in recorder.snapshot() if t == topic]  # fmt: skip


def desire(broker: Mosquitto, version: str, source: Path, deadline_s: int) -> None:
    desired = ReleaseDesired(schema=1, version=version, source=str(source), ts=now_ms(),
                             deadline_s=deadline_s)  # fmt: skip
    publish(broker, topics.release_desired(DEVICE), encode(desired), retain=True)


@pytest.mark.timeout(300)
def test_an_update_is_kept_when_healthy_and_a_broken_one_rolls_back(
    tmp_path: Path, mosquitto: Mosquitto, city_releases: tuple[Path, Path]
) -> None:
    key, out = city_releases
    host = DeviceHost(tmp_path, agent_config(tmp_path, mosquitto.port), tmp_path / "state", key)
    host.install(str(out), __version__)
    recorder = Recorder(mosquitto, topics.release_reported(DEVICE))
    host.start()
    try:
        desire(mosquitto, GOOD, out, deadline_s=60)
        wait_for(lambda: any(r.running == GOOD and r.state == "running"
                             for r in reports(recorder)),
                 timeout_s=120, what=f"{GOOD} running")  # fmt: skip
        assert host.running_version() == GOOD
        assert (tmp_path / "opt" / "releases" / __version__).exists()  # kept for a rollback
        states = [r.state for r in reports(recorder)]
        assert "installing" in states and states[-1] == "running"

        desire(mosquitto, BROKEN, out, deadline_s=15)
        failed = wait_for(lambda: [r for r in reports(recorder)
                                   if r.desired == BROKEN and r.state == "failed"],
                          timeout_s=120, what=f"{BROKEN} rolled back")  # fmt: skip
        assert failed[-1].running == GOOD
        assert f"{BROKEN} was not healthy within 15 s" in failed[-1].error
        assert f"rolled back to {GOOD}" in failed[-1].error
        assert host.running_version() == GOOD
        assert "this release is broken" in host.log()
        time.sleep(3)  # three health ticks of the rolled-back agent: it must not ask again
        assert host.log().count(f"asked the installer for release {BROKEN}") == 1
        assert not (tmp_path / "state" / "update-request.json").exists()
    finally:
        host.stop()
        recorder.close()
