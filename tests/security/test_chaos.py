"""Two minutes of chaos: the gateway, the alerts service, InfluxDB and the agents are
SIGKILLed at random and restarted under load (bench/chaos.py, seeded); nothing the
broker acknowledged is lost, no press goes untold, nobody is told twice. The broker's
own kills are measured by the full run (README: Benchmarks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.services


@pytest.mark.timeout(480)  # two minutes of chaos, then everything settles
def test_a_chaos_run_loses_nothing_and_tells_nobody_twice() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "chaos.py"), "--minutes", "2",
         "--no-broker-kills", "--seed", "7"],
        capture_output=True, text=True, timeout=420, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    figures = dict(line.strip().split(": ", 1) for line in result.stdout.splitlines()
                   if line.startswith("  "))  # fmt: skip
    assert int(figures["kills"]) >= 8, output
    assert int(figures["readings acknowledged"]) > 1000, output
    assert int(figures["presses acknowledged"]) >= 5, output
    for goal in ("readings lost", "missing in agents' sequences", "alerts lost",
                 "notifications twice"):  # fmt: skip
        assert figures[goal] == "0", output
