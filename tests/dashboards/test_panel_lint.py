"""Every generated panel a clerk reads at a glance: a unit, colours where a value means
something, and legend names from room, site or device (never "climate.mean {…}")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

GENERATED = Path(__file__).resolve().parents[2] / "dashboards" / "generated"
# Counts and loads with no good or bad in themselves: one neutral colour is right.
NEUTRAL = {"動きの回数（1時間ごと）", "接続数", "1日の利用者数", "電力", "稼働中の機器"}
PANELS = [
    (path.stem, panel)
    for path in sorted(GENERATED.rglob("*.json"))
    for panel in json.loads(path.read_text(encoding="utf-8"))["panels"]
]


def test_there_are_panels_to_lint() -> None:
    assert len(PANELS) >= 25


@pytest.mark.parametrize(("board", "panel"), PANELS, ids=[p["title"] for _, p in PANELS])
def test_each_number_has_a_unit_colours_and_legend_names(board: str, panel: dict[str, Any]) -> None:
    if panel["type"] not in ("timeseries", "stat"):
        return  # tables and state timelines carry value mappings instead
    defaults = panel["fieldConfig"]["defaults"]
    assert defaults.get("unit"), f"{board}: {panel['title']} has no unit"
    steps = defaults.get("thresholds", {}).get("steps", [])
    assert steps, f"{board}: {panel['title']} has no colours"
    if panel["title"] not in NEUTRAL:
        colours = {step["color"] for step in steps}
        assert len(steps) >= 2 and colours & {"red", "orange", "yellow"}, (
            f"{board}: {panel['title']} shows no value as a problem"
        )
    if panel["type"] == "timeseries":
        assert "${__field.labels." in defaults.get("displayName", ""), (
            f"{board}: {panel['title']}: legend names come from the series' tags"
        )
        shown = defaults.get("custom", {}).get("thresholdsStyle", {}).get("mode")
        assert shown == ("off" if panel["title"] in NEUTRAL else "line")
