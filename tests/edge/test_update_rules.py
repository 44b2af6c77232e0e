"""What the agent answers to a desired release, before anything is installed: the
update window (local time, across midnight), older releases, a release that failed
here before, and confirming a new release only once it is healthy."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from edge.update import Updater, in_window
from wire import ReleaseDesired, ReleaseReported

JST = dt.timezone(dt.timedelta(hours=9))


def at(local: str) -> dt.datetime:
    return dt.datetime.fromisoformat(local).replace(tzinfo=JST)


def desired(version: str, window: str = "") -> ReleaseDesired:
    return ReleaseDesired(schema=1, version=version, source="/srv/releases", ts=0, window=window)


def updater(tmp_path: Path, now: str = "2026-12-01 02:30") -> tuple[Updater, list[ReleaseReported]]:
    said: list[ReleaseReported] = []
    return Updater(tmp_path, "1.2.0", said.append, lambda: at(now)), said


def test_the_window_is_local_time_and_may_cross_midnight() -> None:
    assert in_window("01:00-04:00", "Asia/Tokyo", at("2026-12-01 03:59"))
    assert not in_window("01:00-04:00", "Asia/Tokyo", at("2026-12-01 04:00"))
    assert in_window("22:00-05:00", "Asia/Tokyo", at("2026-12-01 23:30"))
    assert in_window("22:00-05:00", "Asia/Tokyo", at("2026-12-02 04:10"))
    assert not in_window("22:00-05:00", "Asia/Tokyo", at("2026-12-01 12:00"))
    assert in_window("", "Asia/Tokyo", at("2026-12-01 12:00"))


def test_outside_its_window_a_home_waits_and_says_so(tmp_path: Path) -> None:
    agent, said = updater(tmp_path, now="2026-12-01 09:00")
    agent.desired_changed(desired("1.3.0", window="01:00-04:00"))
    assert said[-1].state == "scheduled" and "01:00-04:00" in said[-1].error
    assert not (tmp_path / "update-request.json").exists()


def test_inside_its_window_it_asks_the_installer_once(tmp_path: Path) -> None:
    agent, said = updater(tmp_path)
    agent.desired_changed(desired("1.3.0", window="01:00-04:00"))
    request = json.loads((tmp_path / "update-request.json").read_text())
    assert request["version"] == "1.3.0" and request["source"] == "/srv/releases"
    agent.check()
    assert [r.state for r in said] == ["installing"]  # said once, not on every tick


def test_an_older_release_is_refused(tmp_path: Path) -> None:
    agent, said = updater(tmp_path)
    agent.desired_changed(desired("1.1.9"))
    assert said[-1].state == "refused" and "older than the running 1.2.0" in said[-1].error


def test_a_release_that_failed_here_is_not_tried_again(tmp_path: Path) -> None:
    (tmp_path / "update-result.json").write_text(json.dumps(
        {"version": "1.3.0", "ok": False, "stage": "verify", "error": "signature does not match"}))  # fmt: skip
    agent, said = updater(tmp_path)
    agent.desired_changed(desired("1.3.0"))
    assert said[-1].state == "refused" and "signature" in said[-1].error
    assert not (tmp_path / "update-request.json").exists()


def test_a_new_release_is_confirmed_only_once_healthy(tmp_path: Path) -> None:
    (tmp_path / "update-pending.json").write_text(json.dumps({"from": "1.1.0", "to": "1.2.0"}))
    agent, said = updater(tmp_path)
    agent.desired_changed(desired("1.2.0"))
    assert said[-1].state == "installing"  # on probation
    assert not (tmp_path / "update-committed").exists()
    agent.healthy()
    agent.check()
    assert (tmp_path / "update-committed").read_text().strip() == "1.2.0"
    assert said[-1].state == "running"
