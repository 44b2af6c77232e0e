"""The rule engine on the default Abashiri rules, in event time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from alerts.engine import STALE_AFTER_MS, Engine, SiteInfo
from alerts.engine_types import Observation
from alerts.rules import DEFAULT_RULES, load_rules
from alerts.state import EngineState, ThresholdState, Transition

HOME, HUB = "home-a001", "home-a001-hub"
MIN, HOUR = 60_000, 3_600_000


def jst(text: str) -> int:
    """Epoch ms of a local Abashiri time such as '2026-01-15 07:30'."""
    moment = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo("Asia/Tokyo"))
    return int(moment.timestamp() * 1000)


@pytest.fixture
def engine() -> Engine:
    sites = {
        HOME: SiteInfo(HOME, "home", "Asia/Tokyo", (HUB,)),
        "lib": SiteInfo("lib", "facility", "Asia/Tokyo", ("lib-wifi1",)),
    }
    return Engine(load_rules([DEFAULT_RULES]).values(), sites)


def temp(value: float, ts: int) -> Observation:
    return Observation("climate.temperature", value, "living", ts)


def motion(ts: int) -> Observation:
    return Observation("motion.detected", True, "living", ts)


def changes(transitions: list[Transition]) -> list[tuple[str, str]]:
    return [(t.rule.id, t.change) for t in transitions]


def feed(engine: Engine, start: int, minutes: int, value: float, now: int | None = None) -> list:
    out = []
    for minute in range(0, minutes, 5):
        ts = start + minute * MIN
        out += engine.observe(HUB, [temp(value, ts)], now or ts)
    return out


def test_a_cold_hour_fires_once_and_hysteresis_keeps_it_from_flapping(engine: Engine) -> None:
    t0 = jst("2026-01-15 13:00")
    assert feed(engine, t0, 55, 16.0) == []
    fired = engine.observe(HUB, [temp(16.0, t0 + 60 * MIN)], t0 + 60 * MIN)
    assert changes(fired) == [("room-cold", "fire")]
    assert fired[0].at_ms == t0 + 60 * MIN and fired[0].value == 16.0
    assert feed(engine, t0 + 65 * MIN, 30, 18.2) == []  # above 18, not above 18.5
    assert engine.observe(HUB, [temp(18.7, t0 + 100 * MIN)], t0 + 100 * MIN) == []
    # Resolved once it has stayed warm for 10 minutes, not at the first warm reading.
    resolved = engine.observe(HUB, [temp(18.7, t0 + 110 * MIN)], t0 + 110 * MIN)
    assert changes(resolved) == [("room-cold", "resolve")]


def test_a_room_hovering_at_the_limit_still_reaches_the_alert(engine: Engine) -> None:
    t0 = jst("2026-01-15 03:00")
    out = []
    for minute in range(40):
        ts = t0 + minute * MIN
        out += engine.observe(HUB, [temp(9.9 if minute % 2 else 10.1, ts)], ts)
    fired = [t for t in out if t.rule.id == "room-very-cold"]
    assert [(t.change, t.severity) for t in fired] == [("fire", "urgent")]
    assert fired[0].at_ms <= t0 + 12 * MIN


def test_a_room_just_above_the_limit_never_reaches_it(engine: Engine) -> None:
    t0 = jst("2026-01-15 03:00")
    out = engine.observe(HUB, [temp(9.8, t0)], t0)
    for minute in range(1, 180):
        ts = t0 + minute * MIN
        out += engine.observe(HUB, [temp(11.0, ts)], ts)
    assert "room-very-cold" not in [t.rule.id for t in out]


def test_all_cold_rooms_of_a_home_make_one_alert(engine: Engine) -> None:
    t0 = jst("2026-01-15 13:00")
    out = []
    for minute in range(0, 70, 5):
        ts = t0 + minute * MIN
        rooms = [Observation("climate.temperature", 15.0, r, ts) for r in ("living", "bedroom")]
        out += engine.observe(HUB, rooms, ts)
    cold = [t for t in out if t.rule.id == "room-cold"]
    assert [t.change for t in cold] == ["fire", "update"]
    assert cold[-1].detail is not None
    assert set(cold[-1].detail.args["rooms"]) == {"living", "bedroom"}


def test_a_replayed_backlog_of_a_past_cold_spell_fires_nothing(engine: Engine) -> None:
    """The home was offline; its backlog shows 90 cold minutes, now long over."""
    now = jst("2026-01-15 12:00")
    t0 = now - 4 * HOUR
    out = feed(engine, t0, 90, 9.0, now=now) + feed(engine, t0 + 90 * MIN, 60, 21.0, now=now)
    assert out == []


def test_a_cold_spell_still_going_fires_on_the_first_live_reading(engine: Engine) -> None:
    now = jst("2026-01-15 12:00")
    assert feed(engine, now - 2 * HOUR, 100, 16.0, now=now) == []  # up to 20 min ago
    assert changes(engine.observe(HUB, [temp(16.0, now)], now)) == [("room-cold", "fire")]


def test_twelve_quiet_hours_fire_inactivity_and_activity_resolves_it(engine: Engine) -> None:
    t0 = jst("2026-01-15 08:00")
    engine.observe(HUB, [motion(t0)], t0)
    assert "inactivity-12h" not in [r for r, _ in changes(engine.tick(t0 + 11 * HOUR))]
    assert ("inactivity-12h", "fire") in changes(engine.tick(t0 + 12 * HOUR))
    assert engine.tick(t0 + 13 * HOUR) == []  # fired once, not on every tick
    back = engine.observe(HUB, [motion(t0 + 13 * HOUR)], t0 + 13 * HOUR)
    assert ("inactivity-12h", "resolve") in changes(back)


def test_an_offline_hub_tells_it_not_the_family_and_restarts_the_clock(engine: Engine) -> None:
    t0 = jst("2026-01-15 08:00")
    engine.observe(HUB, [motion(t0)], t0)
    engine.device_online(HUB, False, t0 + HOUR)
    offline = changes(engine.tick(t0 + HOUR + 15 * MIN))
    assert offline == [("home-device-offline", "fire")]
    assert engine.tick(t0 + 14 * HOUR) == []  # no inactivity while nobody can see
    back = engine.device_online(HUB, True, t0 + 14 * HOUR)
    assert changes(back) == [("home-device-offline", "resolve")]
    assert engine.tick(t0 + 15 * HOUR) == []  # the clock restarted when it came back
    assert ("inactivity-12h", "fire") in changes(engine.tick(t0 + 26 * HOUR))


def test_no_wake_up_by_ten_fires_and_an_early_riser_does_not(engine: Engine) -> None:
    evening = jst("2026-01-14 20:00")
    engine.observe(HUB, [temp(20.0, evening)], evening)  # watching since last night
    late = engine.tick(jst("2026-01-15 10:01"))
    assert ("no-wake-up", "fire") in changes(late)
    other = Engine(engine.rules, engine.sites)
    other.observe(HUB, [temp(20.0, evening)], evening)
    other.observe(HUB, [motion(jst("2026-01-15 06:40"))], jst("2026-01-15 06:40"))
    assert "no-wake-up" not in [r for r, _ in changes(other.tick(jst("2026-01-15 10:01")))]


def test_a_panic_press_fires_at_once_and_even_from_a_backlog(engine: Engine) -> None:
    now = jst("2026-01-15 12:00")
    press = Observation("button.long_press", True, "bedside", now - 100)
    fired = engine.observe(HUB, [press], now)
    assert changes(fired) == [("panic", "fire")]
    assert fired[0].severity == "life-safety" and not fired[0].late
    assert engine.observe(HUB, [press], now) == []  # open until acknowledged
    other = Engine(engine.rules, engine.sites)
    old = Observation("button.long_press", True, "bedside", now - STALE_AFTER_MS - MIN)
    assert other.observe(HUB, [old], now)[0].late


def test_a_night_door_fires_only_without_indoor_activity_and_resolves_with_it(
    engine: Engine,
) -> None:
    opened = jst("2026-01-15 23:30")
    door = Observation("door.open", True, "entrance", opened)
    assert engine.observe(HUB, [door], opened) == []  # nothing yet: they may come back
    engine.observe(HUB, [Observation("door.open", False, "entrance", opened + MIN)], opened + MIN)
    fired = engine.tick(opened + 10 * MIN)
    assert [(t.rule.id, t.change, t.severity) for t in fired] == [("night-door", "fire", "warning")]
    back = engine.observe(HUB, [motion(opened + 12 * MIN)], opened + 12 * MIN)
    assert ("night-door", "resolve") in changes(back)
    day = jst("2026-01-16 14:00")
    assert engine.observe(HUB, [Observation("door.open", True, "entrance", day)], day) == []


def test_a_night_door_with_motion_inside_soon_after_is_only_noted(engine: Engine) -> None:
    opened = jst("2026-01-16 05:30")
    engine.observe(HUB, [Observation("door.open", True, "entrance", opened)], opened)
    back = engine.observe(HUB, [motion(opened + MIN)], opened + MIN)
    assert changes(back) == [("night-door", "note")]
    assert engine.tick(opened + 30 * MIN) == []


def test_summer_heat_rule_sleeps_in_winter(engine: Engine) -> None:
    winter, summer = jst("2026-01-15 13:00"), jst("2026-08-01 13:00")
    assert feed(engine, winter, 70, 32.0) == []
    assert ("room-hot", "fire") in changes(feed(engine, summer, 70, 32.0))


def test_facility_rules_do_not_touch_homes(engine: Engine) -> None:
    t0 = jst("2026-01-15 13:00")
    down = [Observation("wifi.ap_up", False, "", t0 + m * MIN) for m in range(4)]
    assert engine.observe(HUB, down, t0 + 3 * MIN) == []
    assert changes(engine.observe("lib-wifi1", down, t0 + 3 * MIN)) == [("wifi-ap-down", "fire")]


def test_away_mode_holds_inactivity_and_restarts_the_clock_on_return(engine: Engine) -> None:
    t0 = jst("2026-01-15 08:00")
    engine.observe(HUB, [motion(t0)], t0)
    engine.set_away(HOME, t0 + 72 * HOUR, t0 + HOUR)  # off to the family for three days
    assert engine.tick(t0 + 48 * HOUR) == []
    engine.set_away(HOME, None, t0 + 72 * HOUR)
    assert engine.tick(t0 + 80 * HOUR) == []
    assert ("inactivity-12h", "fire") in changes(engine.tick(t0 + 84 * HOUR))


def test_an_hour_in_the_bathroom_fires_by_day_and_by_night(engine: Engine) -> None:
    day = jst("2026-01-15 14:00")
    engine.observe(HUB, [Observation("motion.detected", True, "bathroom", day)], day)
    assert engine.tick(day + 59 * MIN) == []
    assert changes(engine.tick(day + 60 * MIN)) == [("long-stay-bathroom", "fire")]
    back = engine.observe(HUB, [motion(day + 70 * MIN)], day + 70 * MIN)
    assert ("long-stay-bathroom", "resolve") in changes(back)
    night = jst("2026-01-16 03:00")
    engine.observe(HUB, [Observation("motion.detected", True, "toilet", night)], night)
    # Moving in the toilet after the fall does not restart the clock.
    still = Observation("motion.detected", True, "toilet", night + 30 * MIN)
    engine.observe(HUB, [still], night + 30 * MIN)
    assert changes(engine.tick(night + 60 * MIN)) == [("long-stay-bathroom", "fire")]


def test_a_tag_gone_after_a_night_door_escalates_at_once(engine: Engine) -> None:
    opened = jst("2026-01-15 01:10")
    engine.observe(HUB, [Observation("door.open", True, "entrance", opened)], opened)
    gone = Observation("tag.present", False, "resident-tag", opened + 2 * MIN)
    fired = engine.observe(HUB, [gone], opened + 2 * MIN)
    assert [(t.rule.id, t.change, t.severity) for t in fired] == [("night-door", "fire", "urgent")]
    assert fired[0].detail is not None and fired[0].detail.code == "night-door-tag-gone"


def test_a_silent_room_sensor_tells_it_and_its_return_resolves(engine: Engine) -> None:
    t0 = jst("2026-01-15 09:00")
    engine.observe(HUB, [temp(21.0, t0)], t0)
    assert engine.tick(t0 + 119 * MIN) == []
    silent = engine.tick(t0 + 120 * MIN)
    assert [(t.rule.id, t.rule.audience, t.sensor) for t in silent] == [
        ("room-sensor-silent", "it", "living")
    ]
    back = engine.observe(HUB, [temp(21.0, t0 + 130 * MIN)], t0 + 130 * MIN)
    assert ("room-sensor-silent", "resolve") in changes(back)


def test_a_hot_humid_summer_room_fires_on_its_heat_index(engine: Engine) -> None:
    t0 = jst("2026-08-01 13:00")
    out = []
    for minute in range(0, 35, 5):
        ts = t0 + minute * MIN
        humid = [temp(32.0, ts), Observation("climate.humidity", 70.0, "living", ts)]
        out += engine.observe(HUB, humid, ts)
    fired = [t for t in out if t.rule.id.startswith("heat-wbgt")]
    assert [(t.rule.id, t.value) for t in fired] == [("heat-wbgt-warning", 28.6)]


def test_state_saved_with_future_times_is_repaired_when_loaded() -> None:
    now = jst("2026-01-15 12:00")
    state = EngineState(activity={HOME: jst("2099-01-01 00:00")},
                        firing={"x/home-a001//": jst("2099-01-01 00:00")})  # fmt: skip
    state.thresholds["room-cold/home-a001/hub/living"] = ThresholdState(last_ts=now + HOUR)
    repaired = state.repair(now)
    assert state.activity == {} and state.firing == {} and state.thresholds == {}
    assert len(repaired) == 3
    assert EngineState(activity={HOME: now - HOUR}).repair(now) == []  # the past is fine


def test_a_bathroom_named_with_its_floor_is_still_the_bathroom(engine: Engine) -> None:
    night = jst("2026-01-16 02:00")
    engine.observe(HUB, [Observation("motion.detected", True, "toilet-2f", night)], night)
    assert changes(engine.tick(night + 60 * MIN)) == [("long-stay-bathroom", "fire")]
    back = engine.observe(HUB, [Observation("motion.detected", True, "bedroom-2f", night)],
                          night + 61 * MIN)  # fmt: skip
    assert ("long-stay-bathroom", "resolve") in changes(back)
