"""Each benchmark still runs (at a tiny size): `make bench` must not rot between runs.
The figures themselves are for `make bench`, never asserted here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.services


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_pipeline_benchmark_runs_and_loses_nothing() -> None:
    output = run("bench_pipeline.py", "--messages", "400", "--devices", "4", "--rounds", "1",
                 "--peers", "")  # fmt: skip
    assert "readings lost: 0" in output
    for line in ("gateway / broker ceiling (mosquitto_sub, C):", "load generator / gateway:",
                 "scale-out: 2 workers"):  # fmt: skip
        assert line in output


def test_outbox_benchmark_runs() -> None:
    output = run("bench_outbox.py")
    assert "ratio full / normal:" in output and "ratio kept / none:" in output


def test_agent_benchmark_runs() -> None:
    output = run("bench_agent.py", "--quick")
    assert "agent idle: RSS" in output
    assert "1,200 of 1,200 readings" in output  # a 60 s outage replayed in full


def test_fleet_scale_benchmark_runs_and_loses_nothing() -> None:
    output = run("bench_fleet_scale.py", "--devices", "200", "--interval", "2", "--minutes", "0.2")
    assert "readings lost: 0" in output
    assert "gateway RSS after warm-up:" in output


def test_alerts_benchmark_runs() -> None:
    output = run("bench_alerts.py", "--residents", "2", "--days", "8", "--presses", "5")
    assert "false caregiver alerts:" in output and "fall-night" in output
    assert "5 presses" in output


def test_fuzz_benchmark_runs() -> None:
    output = run("bench_fuzz.py", "--examples", "30")
    assert "parsers with a crash: 0" in output and "BLE decoders" in output


def test_rollout_benchmark_runs_to_done() -> None:
    output = run("bench_rollout.py", "--devices", "20", "--install-s", "0.5", "--check-s", "0.5",
                 "--idle-s", "1")  # fmt: skip
    assert "rollout to 20 simulated agents" in output and ": done in" in output
    assert "broker CPU added:" in output and "gateway CPU added:" in output
