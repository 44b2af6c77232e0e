"""What a family, a care manager and IT would have received, through `alerts replay`:
the whole service (engine, notifier, escalation, quiet hours 22:00-07:00, store) on
virtual time, with the example city's rules, homes and fictitious residents."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from alerts.replay import replay_to_file
from tests.alerts.live import HANAKO, residents_with
from tests.alerts.scenario import HOUR, MIN, Stream, alerts_config, jst, replay
from wire import topics

FAMILY, CARE, CITY = "r-a001/family", "r-a001/care-manager", "staff/municipal-staff"
Note = dict[str, Any]


def caregivers(notes: list[Note], site: str = "home-a001") -> list[Note]:
    return [n for n in notes if n["to"] != "it" and site in n["site"]]


def first(notes: list[Note], **match: Any) -> Note:
    found = [n for n in notes if all(n[k] == v for k, v in match.items())]
    assert found, f"no notification with {match}: {[(n['rule'], n['kind']) for n in notes]}"
    return found[0]


def own_watch(tmp_path: Path, watch: str) -> Path:
    """The example residents file with 網走 一郎's own watch-over settings."""
    return residents_with(tmp_path / "own-residents.yaml", "    birth_year: 1938\n",
                          f"    birth_year: 1938\n    watch: {watch}\n")  # fmt: skip


def asks_for_a_daily_message(tmp_path: Path) -> Path:
    """The example residents file where 網走 花子 asked for a daily message at 09:00."""
    return residents_with(tmp_path / "daily.yaml", HANAKO, HANAKO + ', daily: "09:00"')


def an_evening(stream: Stream, day: str) -> Stream:
    """Online since the evening before, an ordinary evening, to bed at 21:30."""
    stream.online(jst(f"{day} 17:00"))
    for minute in range(0, 270, 20):
        stream.motion(jst(f"{day} 17:00") + minute * MIN, "living-room")
    return stream.motion(jst(f"{day} 21:30"), "bedroom")


def test_a_bathroom_fall_at_three_in_the_morning_is_urgent_to_the_family_within_90_min(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    fell = jst("2026-01-11 03:00")
    stream.motion(fell - 2 * MIN, "toilet").motion(fell, "toilet")
    stream.motion(fell + 20 * MIN, "toilet")  # moving on the floor: not a return
    stream.temperature(fell + 3 * HOUR, "living-room", 17.0)
    notes = caregivers(replay(tmp_path, stream))
    told = first(notes, to=FAMILY)
    assert told["rule"] == "long-stay-bathroom" and told["severity"] == "urgent"
    assert told["at"] - fell <= 90 * MIN
    assert "トイレ" in told["text"] and "\n" in told["text"]


def test_a_reading_from_2099_neither_switches_the_watch_off_nor_survives_a_restart(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    future = jst("2099-01-01 00:00")
    stream.motion(jst("2026-01-10 22:00"), "bedroom", ts=future)  # a broken clock
    stream.action(jst("2026-01-11 01:00"), "restart")
    stream.temperature(jst("2026-01-11 12:00"), "living-room", 19.0)
    notes = caregivers(replay(tmp_path, stream))
    assert first(notes, rule="no-wake-up")["at"] <= jst("2026-01-11 10:05")
    # 12 h after 21:30 falls in the morning, which no-wake-up judges; then it fires too.
    collapse = first(notes, rule="inactivity-12h")
    assert collapse["at"] <= jst("2026-01-11 10:05")


def test_no_input_crashes_the_service_and_a_press_after_them_is_heard_at_once(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    t = jst("2026-01-10 19:00")
    huge = {"schema": 1, "seq": 99, "ts": t, "readings": [
        {"quantity": "climate.temperature", "value": int("9" * 401), "unit": "Cel",
         "sensor": "living-room"}]}  # fmt: skip
    stream.lines.append({"at": t, "topic": topics.telemetry("home-a001-hub"), "payload": huge})
    ack = {"schema": 1, "alert_id": 2**63, "by": "x", "ts": t}
    stream.lines.append({"at": t + 1, "topic": topics.service_ack("alerts-1"), "payload": ack})
    stream.lines.append({"at": t + 2, "topic": topics.event("home-a001-hub"),
                         "payload": "{not json"})  # fmt: skip
    stream.lines.append({"at": t + 3, "topic": topics.telemetry("home-a001-hub"),
                         "payload": {"schema": 1, "seq": 1, "ts": t, "readings": [
                             {"quantity": "climate.humidity", "value": 250, "unit": "%"}]}})  # fmt: skip
    stream.lines.append({"at": t + 4, "topic": topics.everything(), "payload": {}})
    stream.press(t + MIN)
    notes = caregivers(replay(tmp_path, stream))
    panic = first(notes, rule="panic", to=FAMILY)
    assert panic["severity"] == "life-safety" and panic["at"] - (t + MIN) <= MIN


def test_an_early_riser_fetching_the_newspaper_wakes_nobody_and_the_morning_summary_says_so(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    out = jst("2026-01-11 05:30")
    stream.door(out).door(out + MIN, is_open=False).motion(out + MIN + 20_000, "hall")
    stream.day("2026-01-11", up="05:35")
    notes = caregivers(replay(tmp_path, stream))
    assert [n for n in notes if n["kind"] != "summary"] == []
    summary = first(notes, kind="summary", to=FAMILY)
    assert summary["at"] == jst("2026-01-11 07:00")
    assert "05:30" in summary["text"] and "05:31" in summary["text"]
    assert len([n for n in notes if n["kind"] == "summary" and n["to"] == FAMILY]) == 1


def test_a_night_exit_with_the_tag_gone_is_urgent_at_once_and_tells_the_whole_story(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    out = jst("2026-01-11 02:10")
    stream.tag(out - 5 * MIN, True).door(out).door(out + MIN, is_open=False)
    stream.tag(out + 3 * MIN, False)
    stream.temperature(out + HOUR, "living-room", 18.0)
    notes = caregivers(replay(tmp_path, stream))
    told = first(notes, to=FAMILY)
    assert (told["rule"], told["kind"], told["severity"]) == ("night-door", "firing", "urgent")
    assert told["at"] - out <= 10 * MIN
    assert "02:10" in told["text"] and "02:13" in told["text"] and "タグ" in told["text"]
    assert "応答していません" not in told["text"]  # not a follow-up to nothing


def test_a_night_exit_without_a_tag_fires_after_the_follow_up_and_resolves_on_return(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    out = jst("2026-01-10 23:00")
    stream.door(out).door(out + MIN, is_open=False)
    stream.motion(out + 50 * MIN, "living-room")
    stream.temperature(jst("2026-01-11 08:00"), "living-room", 19.0)
    notes = caregivers(replay(tmp_path, stream))
    # A warning in quiet hours is held; it resolved before 07:00: only the summary.
    assert [n["kind"] for n in notes if n["to"] == FAMILY] == ["summary"]
    assert "23:00" in first(notes, to=FAMILY)["text"]


def test_a_residents_own_night_window_spares_an_early_riser_even_the_summary(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    out = jst("2026-01-11 05:10")
    stream.door(out).door(out + MIN, is_open=False).motion(out + 20 * MIN, "kitchen")
    stream.day("2026-01-11", up="05:35")
    residents = own_watch(tmp_path, "{night: '22:00-05:00'}")
    assert caregivers(replay(tmp_path / "own", stream, residents=str(residents))) == []
    # Without it, the same morning is a night exit (held, then in the summary).
    notes = caregivers(replay(tmp_path / "default", stream))
    assert [n["kind"] for n in notes if n["to"] == FAMILY] == ["summary"]


def test_a_heating_failure_is_one_message_per_home_naming_every_cold_room(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    start = jst("2026-01-11 07:00")
    for minute in range(0, 5 * 60, 5):  # three rooms at 14-16 °C all morning
        for room, value in (("living-room", 15.0), ("bedroom", 14.0), ("kitchen", 16.0)):
            stream.temperature(start + minute * MIN, room, value)
    stream.motion(jst("2026-01-11 07:20"), "kitchen")
    notes = caregivers(replay(tmp_path, stream))
    cold = [n for n in notes if n["rule"] == "room-cold"]
    fired = [n for n in cold if n["kind"] == "firing"]
    assert [n["to"] for n in fired] == [FAMILY]
    assert fired[0]["at"] - start <= 62 * MIN
    assert all(room in fired[0]["text"] for room in ("寝室 14℃", "居間 15℃", "台所 16℃"))
    assert len(cold) <= 6


def test_a_warning_at_night_waits_for_morning_and_its_chain_starts_then(tmp_path: Path) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    start = jst("2026-01-10 23:00")
    for minute in range(0, 10 * 60, 10):  # the living room's door left open all night
        stream.readings(start + minute * MIN, "event", ("door.open", True, "1", "back-door"))
    stream.motion(jst("2026-01-11 09:30"), "kitchen")
    notes = [n for n in caregivers(replay(tmp_path, stream)) if n["rule"] == "door-left-open"]
    at_seven = [n for n in notes if n["at"] == jst("2026-01-11 07:00")]
    assert at_seven and {n["to"] for n in at_seven} == {FAMILY}  # no burst of escalations
    assert min(n["at"] for n in notes if n["to"] == CARE) >= jst("2026-01-11 07:15")


def test_a_room_flapping_around_ten_degrees_reaches_the_urgent_alert(tmp_path: Path) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    start = jst("2026-01-10 19:00")
    for minute in range(0, 180):
        stream.temperature(start + minute * MIN, "living-room", 9.9 if minute % 2 else 10.1)
    notes = caregivers(replay(tmp_path, stream))
    urgent = first(notes, rule="room-very-cold", to=FAMILY)
    assert urgent["severity"] == "urgent" and urgent["at"] - start <= 30 * MIN
    assert len([n for n in notes if n["rule"] == "room-very-cold" and n["kind"] == "firing"]) <= 2


def test_a_short_line_drop_pages_nobody_and_a_long_one_tells_it_from_when_it_happened(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    connected = jst("2026-01-07 09:00")  # the agent connected days ago: its will says so
    drop = jst("2026-01-10 19:00")
    stream.online(drop, "offline", ts=connected).online(drop + 3 * MIN)
    long = jst("2026-01-10 20:00")
    stream.online(long, "offline", ts=connected).online(long + 4 * HOUR)
    notes = replay(tmp_path, stream)
    it = [n for n in notes if n["rule"] == "home-device-offline" and "home-a001" in n["site"]
          and n["kind"] != "resolved"]  # fmt: skip
    assert it and it[0]["at"] == long + 15 * MIN and it[0]["to"] == "it"
    assert "20:00" in it[0]["text"]
    assert all(b["at"] - a["at"] >= HOUR for a, b in itertools.pairwise(it))
    assert caregivers(notes) == []


def test_homes_that_never_connected_page_no_family_and_tell_it_once(tmp_path: Path) -> None:
    stream = Stream("lib-central-wifi1").online(jst("2026-01-10 08:00"))
    stream.readings(jst("2026-01-12 08:00"), "telemetry", ("wifi.clients", 3, "1", ""))
    notes = replay(tmp_path, stream)
    homes = [n for n in notes if n["site"].startswith("home-")]
    assert homes and all(n["to"] == "it" for n in homes)
    per_device = [n["text"].split("機器 ")[1].split(":")[0] for n in homes]
    assert sorted(per_device) == sorted(set(per_device))  # once each, over two days


def test_a_low_battery_is_told_once_naming_sensor_and_value(tmp_path: Path) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    start = jst("2026-01-10 18:00")
    for minute in range(0, 19 * 60, 10):
        stream.readings(start + minute * MIN, "telemetry",
                        ("battery.level", 12.0, "%", "entrance"))  # fmt: skip
    notes = [n for n in replay(tmp_path, stream) if n["rule"] == "sensor-battery-low"]
    assert len(notes) == 1
    assert "玄関" in notes[0]["text"] and "12%" in notes[0]["text"]
    assert "True" not in notes[0]["text"]


def test_the_gateways_unknown_device_and_spool_overflow_reach_it(tmp_path: Path) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    t = jst("2026-01-10 18:00")
    for n, kind in enumerate(("unknown-device", "spool-overflow", "unknown-device")):
        event = {"schema": 1, "kind": kind, "ts": t, "device": "stranger-1" if n != 1 else "",
                 "detail": f"{kind} seen"}  # fmt: skip
        stream.lines.append({"at": t + n * MIN, "topic": topics.service_event("gateway-1"),
                             "payload": event})  # fmt: skip
    notes = [n for n in replay(tmp_path, stream) if n["to"] == "it"]
    assert len([n for n in notes if n["rule"] == "unknown-device"]) == 1
    assert first(notes, rule="gateway-spool-overflow")["severity"] == "urgent"
    assert "stranger-1" in first(notes, rule="unknown-device")["text"]


def test_an_acknowledged_alert_stops_escalating_and_away_mode_holds_inactivity(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    press = jst("2026-01-10 22:30")
    stream.press(press).action(press + 5 * MIN, "ack", rule="panic", site="home-a001", by="花子")
    stream.action(jst("2026-01-11 06:00"), "away", site="home-a001", until=jst("2026-01-13 12:00"))
    stream.temperature(jst("2026-01-13 11:00"), "living-room", 19.0)
    notes = caregivers(replay(tmp_path, stream))
    panic = [n for n in notes if n["rule"] == "panic"]
    assert {n["to"] for n in panic} == {FAMILY}  # acknowledged before the care manager's turn
    assert not [n for n in notes if n["rule"] in ("inactivity-12h", "no-wake-up")]


def test_the_command_writes_the_documented_format_and_a_table(tmp_path: Path) -> None:
    stream = an_evening(Stream(), "2026-01-10").press(jst("2026-01-10 20:00"))
    config = alerts_config(tmp_path)
    path, out = stream.write(tmp_path / "stream.jsonl"), tmp_path / "out.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "civic_iot", "alerts", "replay", "--config", str(config),
         "--input", str(path), "--out", str(out)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    keys = {"at", "rule", "site", "severity", "kind", "to", "channel", "subject", "text"}
    assert lines and all(set(line) == keys for line in lines)
    assert {line["channel"] for line in lines} <= {"email", "line", "sms", "voice", "webhook"}
    assert "panic" in result.stdout and "home-a001" in result.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"at": 1, "action": "fly"}\n', encoding="utf-8")
    refused = subprocess.run(
        [sys.executable, "-m", "civic_iot", "alerts", "replay", "--config", str(config),
         "--input", str(bad), "--out", str(out)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0 and f"{bad}:1" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_rule_switched_off_while_its_alert_is_open_closes_it_and_nothing_crashes(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    stream = an_evening(Stream(), "2026-01-10").press(jst("2026-01-10 20:00"))
    config = alerts_config(tmp_path)
    first_out = tmp_path / "first.jsonl"
    replay_to_file(config, stream.write(tmp_path / "one.jsonl"), first_out, state)
    assert any(json.loads(n)["rule"] == "panic" for n in first_out.read_text().splitlines())
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "off.yaml").write_text(
        "rules:\n  - {id: panic, kind: event, enabled: false, title: {ja: x, en: x},"
        " advice: {ja: x, en: x}}\n", encoding="utf-8")  # fmt: skip
    settings = json.loads(config.read_text())
    settings["rule_dirs"] = [str(rules)]
    config.write_text(json.dumps(settings))
    later = Stream().temperature(jst("2026-01-10 21:00"), "living-room", 20.0)
    result = replay_to_file(config, later.write(tmp_path / "two.jsonl"), tmp_path / "2.jsonl",
                            state)  # fmt: skip
    assert result.errors == 0
    assert not [n for n in result.delivered if n.rule == "panic"]  # closed, nobody told
    assert any("panic" in line and "resolved" in line for line in result.table)


def test_a_device_inventing_sensor_names_is_refused_beyond_64(tmp_path: Path) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    t = jst("2026-01-10 19:00")
    stream.temperature(t - MIN, "bedside", 20.0)  # a sensor it had before the flood
    for number in range(200):
        stream.temperature(t + number * 1000, f"room-{number}", 20.0)
    stream.press(t + 5 * MIN)
    config, out = alerts_config(tmp_path), tmp_path / "out.jsonl"
    result = replay_to_file(config, stream.write(tmp_path / "s.jsonl"), out, tmp_path / "st")
    assert result.refused >= 200 - 64 and result.errors == 0
    assert any(n.rule == "panic" for n in result.delivered)  # the device is still heard
    saved = (tmp_path / "st" / "alerts.sqlite3").stat().st_size
    assert saved < 2_000_000


def test_an_event_not_from_a_gateway_cannot_pause_a_home(tmp_path: Path) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    forged = {"schema": 1, "kind": "device-silent", "ts": jst("2026-01-11 02:00"),
              "device": "home-a001-hub", "site": "home-a001"}  # fmt: skip
    stream.lines.append({"at": jst("2026-01-11 02:00"), "payload": forged,
                         "topic": topics.service_event("it-monitor")})  # fmt: skip
    stream.motion(jst("2026-01-11 03:00"), "toilet")
    stream.temperature(jst("2026-01-11 05:00"), "living-room", 19.0)
    notes = caregivers(replay(tmp_path, stream))
    assert first(notes, rule="long-stay-bathroom", to=FAMILY)["at"] <= jst("2026-01-11 04:30")


def test_a_frail_residents_own_hours_and_wake_up_time_apply(tmp_path: Path) -> None:
    stream = an_evening(Stream(), "2026-01-10").day("2026-01-11", up="06:30", bed="11:00")
    stream.temperature(jst("2026-01-11 18:00"), "living-room", 20.0)  # nothing moves after 11
    stream.temperature(jst("2026-01-12 09:30"), "living-room", 20.0)
    residents = own_watch(tmp_path, "{inactivity_hours: 6, wake_up_by: '09:00'}")
    notes = caregivers(replay(tmp_path, stream, residents=str(residents)))
    assert first(notes, rule="inactivity-12h", to=FAMILY)["at"] <= jst("2026-01-11 17:05")
    assert first(notes, rule="no-wake-up", to=FAMILY)["at"] <= jst("2026-01-12 09:05")


def test_a_step_that_reaches_nobody_passes_on_at_once_and_it_is_told(tmp_path: Path) -> None:
    # The family has only a phone and the city has no phone channel configured.
    residents = residents_with(tmp_path / "phone-only.yaml", HANAKO,
                               'name: 網走 花子, phone: "+81152000009"')  # fmt: skip
    stream = an_evening(Stream(), "2026-01-10")
    pressed = jst("2026-01-11 10:00")
    stream.press(pressed)
    notes = replay(tmp_path, stream, residents=str(residents))
    care = first(caregivers(notes), to=CARE)
    assert care["at"] - pressed < 2 * MIN  # not after the chain's 15 minutes
    assert not [n for n in caregivers(notes) if n["to"] == FAMILY]
    it = first(notes, to="it", kind="nobody-to-tell")
    assert "family" in it["text"] and "step 1 (care-manager)" in it["text"]
    assert "網走" not in it["text"]  # IT hears of the gap, not of the people


def test_the_one_who_took_an_alert_closes_it_everyone_hears_and_a_lasting_cause_fires_again(
    tmp_path: Path,
) -> None:
    stream = an_evening(Stream(), "2026-01-10")
    start = jst("2026-01-11 08:00")
    for minute in range(0, 6 * 60, 5):  # the living room stays at 15 °C all day
        stream.temperature(start + minute * MIN, "living-room", 15.0)
        stream.motion(start + minute * MIN, "kitchen")
    stream.action(start + 70 * MIN, "ack", rule="room-cold", site="home-a001", by="網走 花子")
    stream.action(start + 80 * MIN, "close", rule="room-cold", site="home-a001",
                  reason="false-alarm")  # fmt: skip
    notes = caregivers(replay(tmp_path, stream))
    cold = [n for n in notes if n["rule"] == "room-cold" and n["to"] == FAMILY]
    kinds = [(n["kind"], n["at"] - start) for n in cold]
    assert kinds[0][0] == "firing" and kinds[0][1] <= 62 * MIN
    # Closed at 80 min: the family, who was told, hears it is over.
    assert ("resolved", 80 * MIN) in kinds, kinds
    # The room is still cold: after its time the alert fires again, not never.
    again = [at for kind, at in kinds if kind == "firing" and at > 80 * MIN]
    assert again and again[0] <= 80 * MIN + 62 * MIN, kinds


def test_a_family_that_asked_gets_one_daily_message_saying_all_is_well_or_what_was_not(
    tmp_path: Path,
) -> None:
    residents = asks_for_a_daily_message(tmp_path)
    stream = an_evening(Stream(), "2026-01-10").day("2026-01-11", up="06:32")
    for hour in range(0, 24):
        stream.temperature(jst("2026-01-11 00:00") + hour * HOUR, "living-room", 21.0)
    # The next morning nothing moves until 10:30 (a late sleeper, or something wrong).
    stream.motion(jst("2026-01-12 10:30"), "bedroom")
    notes = [n for n in replay(tmp_path, stream, residents=str(residents))
             if n["kind"] == "daily" and n["to"] == FAMILY]  # fmt: skip
    days = {n["text"].splitlines()[1]: n for n in notes}
    assert len(notes) == len(days) == 2, [n["subject"] for n in notes]  # one a day
    fine = days["今日の様子 (2026-01-11)"]
    assert (
        fine["at"] == jst("2026-01-11 09:00") + 0 or fine["at"] - jst("2026-01-11 09:00") < 2 * MIN
    )
    assert "今日も元気に過ごしています" in fine["subject"]
    assert "起床: 06:32 ごろ（最初の動き）" in fine["text"] and "居間 21℃" in fine["text"]
    assert "今日の通知: ありません" in fine["text"]
    unusual = days["今日の様子 (2026-01-12)"]
    assert "いつもと違う点があります" in unusual["subject"]
    assert "今日はまだ動きがありません（09:00 現在）" in unusual["text"]


def test_a_daily_message_never_claims_a_quiet_day_when_the_home_was_not_watched(
    tmp_path: Path,
) -> None:
    residents = asks_for_a_daily_message(tmp_path)
    stream = an_evening(Stream(), "2026-01-10")
    stream.online(jst("2026-01-11 05:00"), state="offline")  # the hub lost its line
    stream.action(jst("2026-01-11 10:00"), "away-clear", site="home-a002")  # time goes on
    notes = [n for n in replay(tmp_path, stream, residents=str(residents))
             if n["kind"] == "daily" and n["to"] == FAMILY]  # fmt: skip
    assert len(notes) == 1  # not for 2026-01-10: the service was not watching at 09:00
    assert "見守りの機器が応答していないため、様子が分かりません" in notes[0]["text"]
    assert "まだ動きがありません" not in notes[0]["text"]
