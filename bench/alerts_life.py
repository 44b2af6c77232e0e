"""Varied daily routines of residents living alone in Abashiri, with injected incidents,
written as the MQTT stream a broker delivers (``alerts replay`` input) for the alerts
benchmark.

Written for the benchmark, apart from the rules: each resident has their own habits
(early risers who fetch the newspaper at dawn, night owls, afternoon naps, night toilet
visits, long evening baths, outings with the BLE tag, visitors, a hospital stay) and
their home its own climate (January nights cooling the bedroom, August afternoons).
Incidents, each on its own day:

- fall-night / fall-day: into the toilet or bathroom and nothing else moves until found;
- night-exit: the entrance opens in the night and the tag is no longer heard;
- call-button: the button held for help;
- heating-failure: rooms cool below 10 °C on a January afternoon;
- heat: an August room above WBGT 31;
- no-wake-up: the resident stays in bed until noon;
- collapse: nothing moves for a day;
- device-outage: the hub loses its line for hours (must page IT, never the family).
A never-connected home sits in the city too (must page no family).
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from wire import topics

JST = ZoneInfo("Asia/Tokyo")
MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
WINTER_INCIDENTS = (
    "fall-night",
    "fall-day",
    "night-exit",
    "call-button",
    "heating-failure",
    "no-wake-up",
    "collapse",
    "device-outage",
)
SUMMER_INCIDENTS = (
    "fall-night",
    "fall-day",
    "night-exit",
    "call-button",
    "heat",
    "no-wake-up",
    "collapse",
    "device-outage",
)
# Incident -> (rules that catch it, the most minutes to the first caregiver notification,
# the severity it must reach by then).
GOALS: dict[str, tuple[frozenset[str], int, str]] = {
    "fall-night": (frozenset({"long-stay-bathroom"}), 90, "urgent"),
    "fall-day": (frozenset({"long-stay-bathroom"}), 90, "urgent"),
    "night-exit": (frozenset({"night-door"}), 10, "urgent"),
    "call-button": (frozenset({"panic"}), 1, "life-safety"),
    "heating-failure": (frozenset({"room-very-cold"}), 30, "urgent"),
    "heat": (frozenset({"heat-wbgt-danger"}), 30, "urgent"),
    "no-wake-up": (frozenset({"no-wake-up", "inactivity-12h"}), 5, "warning"),
    # From the last planned movement; a last trip to the toilet may come a few minutes on.
    "collapse": (frozenset({"inactivity-12h", "no-wake-up"}), 12 * 60 + 15, "warning"),
    "device-outage": (frozenset(), 0, ""),
}


@dataclass
class Incident:
    site: str
    kind: str
    onset: int  # when the goal's clock starts (the fall, the door, crossing 10 °C...)
    until: int  # the incident's notifications are those up to here
    start: int = 0  # from here (default: 15 minutes before onset)


@dataclass
class Habits:
    wake: int  # minutes after midnight
    bed: int
    early_paper: bool
    naps: bool
    night_visits: float  # mean toilet visits per night
    outings: float  # chance of going out on a day
    has_tag: bool
    bath_evening: bool


@dataclass
class Home:
    site: str
    device: str
    habits: Habits
    incidents: list[Incident] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    offline: list[tuple[int, int]] = field(default_factory=list)
    backlog: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    busy: set[int] = field(default_factory=set)  # days with an incident: no routine

    def send(self, at: int, kind: str, *readings: tuple[str, Any, str, str]) -> None:
        self.seq += 1
        payload = {
            "schema": 1,
            "seq": self.seq,
            "ts": at,
            "readings": [
                {"quantity": q, "value": v, "unit": u, "sensor": s} for q, v, u, s in readings
            ],
        }
        topic = topics.device_topic(self.device, topics.Kind(kind))
        line = {"at": at + 150, "topic": topic, "payload": payload}
        if any(start <= at < end for start, end in self.offline):
            self.backlog.append((at, line))  # sent once the line is back
        else:
            self.lines.append(line)

    def motion(self, at: int, room: str) -> None:
        self.send(at, "event", ("motion.detected", True, "1", room))

    def door(self, at: int, is_open: bool) -> None:
        self.send(at, "event", ("door.open", is_open, "1", "entrance"))

    def tag(self, at: int, present: bool) -> None:
        if self.habits.has_tag:
            self.send(at, "telemetry", ("tag.present", present, "1", "tag"))

    def status(self, at: int, state: str, ts: int) -> None:
        payload = {"schema": 1, "state": state, "ts": ts, "agent": "civic-iot-edge/0.1.0"}
        self.lines.append(
            {"at": at, "topic": topics.status(self.device), "payload": payload, "retain": True}
        )


class City:
    """``homes`` residents for ``days`` days from ``start`` (a local date)."""

    def __init__(self, homes: int, days: int, start: str, seed: int) -> None:
        self.rng = random.Random(seed)
        self.start = int(datetime.fromisoformat(start).replace(tzinfo=JST).timestamp() * 1000)
        self.days = days
        self.summer = datetime.fromisoformat(start).month in (6, 7, 8, 9)
        self.homes = [self._home(n) for n in range(homes)]
        self.actions: list[dict[str, Any]] = []

    def _home(self, n: int) -> Home:
        rng = self.rng
        early = rng.random() < 0.25
        habits = Habits(
            wake=rng.randint(270, 330) if early else rng.randint(360, 540),
            bed=rng.randint(1230, 1350) if not early else rng.randint(1200, 1260),
            early_paper=early and rng.random() < 0.8,
            naps=rng.random() < 0.5,
            night_visits=rng.uniform(0.3, 2.5),
            outings=rng.uniform(0.1, 0.6),
            has_tag=rng.random() < 0.7,
            bath_evening=rng.random() < 0.6,
        )
        return Home(f"home-b{n:03d}", f"home-b{n:03d}-hub", habits)

    # -- the month -----------------------------------------------------------------------

    def write(self, path: Path) -> None:
        for home in self.homes:
            home.status(self.start - HOUR, "online", self.start - HOUR)
            self._plan_incidents(home)
            for day in range(self.days):
                self._climate(home, day)
                if day not in home.busy:
                    self._ordinary_day(home, day)
        lines = [*self.actions, *(line for home in self.homes for line in home.lines)]
        lines.sort(key=lambda line: int(line["at"]))
        with path.open("w", encoding="utf-8") as handle:
            for line in lines:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")

    def _at(self, day: int, minute: float) -> int:
        moment = datetime.fromtimestamp(self.start / 1000, JST) + timedelta(days=day)
        return int(moment.timestamp() * 1000 + minute * MIN)

    def _ordinary_day(self, home: Home, day: int) -> None:
        rng, habits = self.rng, home.habits
        wake = habits.wake + rng.randint(-25, 40)
        self._night(home, day, wake)
        if habits.early_paper:
            paper = self._at(day, min(wake, 330))
            home.door(paper, True)
            home.door(paper + MIN, False)
            home.motion(paper + rng.randint(70, 180) * 1000, "hall")
        out = self._outing(home, day) if rng.random() < habits.outings else None
        self._awake(home, day, wake, habits.bed + rng.randint(-20, 30), out)
        if rng.random() < 0.15:  # a visitor: door, talk in the living room
            visit = self._at(day, rng.randint(600, 960))
            home.door(visit, True)
            home.door(visit + MIN, False)
            for k in range(1, 6):
                home.motion(visit + k * 8 * MIN, "living-room")

    def _night(self, home: Home, day: int, wake: int) -> None:
        rng = self.rng
        visits = min(4, int(rng.expovariate(1 / max(0.1, home.habits.night_visits))))
        for _ in range(visits):
            start = self._at(day, rng.randint(30, max(60, wake - 30)))
            home.motion(start, "hall")
            home.motion(start + 30_000, "toilet")
            stay = rng.randint(2, 15) * MIN
            home.motion(start + stay, "hall")
            home.motion(start + stay + 30_000, "bedroom")

    def _awake(
        self, home: Home, day: int, wake: int, bed: int, out: tuple[int, int] | None
    ) -> None:
        rng = self.rng
        t = self._at(day, wake)
        home.motion(t, "bedroom")
        home.tag(t, True)
        end = self._at(day, bed)
        nap = self._at(day, rng.randint(780, 840)) if home.habits.naps else None
        while t < end:
            if out and out[0] <= t < out[1]:
                t = out[1] + 2 * MIN
                continue
            if nap and nap <= t < nap + 90 * MIN:
                home.motion(nap, "bedroom")
                t = nap + rng.randint(50, 110) * MIN
                continue
            room = rng.choice(
                ("kitchen", "living-room", "living-room", "hall", "toilet", "bedroom")
            )
            home.motion(t, room)
            if room == "toilet":
                t += rng.randint(2, 8) * MIN
                home.motion(t, "hall")
            t += int(rng.expovariate(1 / 18) * MIN) + MIN
        if home.habits.bath_evening:
            bath = end - rng.randint(60, 90) * MIN
            home.motion(bath, "bathroom")
            home.motion(bath + rng.randint(20, 45) * MIN, "hall")
        home.motion(end, "bedroom")

    def _outing(self, home: Home, day: int) -> tuple[int, int]:
        rng = self.rng
        leave = self._at(day, rng.randint(600, 900))
        back = leave + rng.randint(40, 240) * MIN
        home.motion(leave - MIN, "hall")
        home.door(leave, True)
        home.door(leave + MIN, False)
        home.tag(leave + 3 * MIN, False)
        home.door(back, True)
        home.tag(back, True)
        home.door(back + MIN, False)
        home.motion(back + 2 * MIN, "hall")
        return leave, back

    def _climate(self, home: Home, day: int) -> None:
        rng = self.rng
        failing = [i for i in home.incidents if i.kind in ("heating-failure", "heat")]
        for minute in range(0, 1440, 10):
            at = self._at(day, minute)
            if failing and self._special_climate(home, at):
                continue
            night = minute < 360 or minute >= 1320
            if self.summer:
                living = 26.0 + 4 * max(0.0, 1 - abs(minute - 900) / 360) + rng.uniform(-0.4, 0.4)
                bedroom, humidity = living - 1.0, rng.uniform(55, 70)
            else:
                living = (18.5 if night else 21.5) + rng.uniform(-0.6, 0.6)
                bedroom, humidity = (16.5 if night else 20.0) + rng.uniform(-0.8, 0.8), 35.0
            home.send(
                at,
                "telemetry",
                ("climate.temperature", round(living, 1), "Cel", "living-room"),
                ("climate.humidity", round(humidity), "%", "living-room"),
                ("climate.temperature", round(bedroom, 1), "Cel", "bedroom"),
            )
        if day % 3 == 0:
            level = 100 - day * 0.5 - rng.uniform(0, 3)
            home.send(
                self._at(day, 720), "telemetry", ("battery.level", round(level), "%", "entrance")
            )

    def _special_climate(self, home: Home, at: int) -> bool:
        """A heating failure or a hot afternoon, if one is under way at ``at``."""
        for incident in home.incidents:
            if (
                incident.kind == "heating-failure"
                and incident.onset - 4 * HOUR <= at <= incident.until
            ):
                hours = (at - (incident.onset - 4 * HOUR)) / HOUR
                value = max(6.0, 20.0 - 2.5 * hours) + self.rng.uniform(-0.3, 0.3)
                home.send(
                    at, "telemetry", ("climate.temperature", round(value, 1), "Cel", "living-room")
                )
                return True
            if incident.kind == "heat" and incident.onset <= at <= incident.until:
                home.send(
                    at,
                    "telemetry",
                    ("climate.temperature", 35.0, "Cel", "living-room"),
                    ("climate.humidity", 72, "%", "living-room"),
                )
                return True
        return False

    # -- incidents ------------------------------------------------------------------------

    def _plan_incidents(self, home: Home) -> None:
        kinds = list(SUMMER_INCIDENTS if self.summer else WINTER_INCIDENTS)
        self.rng.shuffle(kinds)
        # Every other day at most, so one incident's aftermath is not the next one's.
        choices = range(2, self.days - 1, 2)
        days = self.rng.sample(choices, min(len(kinds), len(choices)))
        for kind, day in zip(kinds, days, strict=False):
            home.busy.add(day)
            if kind == "collapse":  # lying there until found the next afternoon
                home.busy.add(day + 1)
            getattr(self, "_" + kind.replace("-", "_"))(home, day)
        if self.rng.random() < 0.2 and self.days > 12:  # a hospital stay, away mode set
            free = [d for d in range(3, self.days - 7) if not home.busy & set(range(d, d + 6))]
            if free:  # leaves in the evening of ``start``, back on the morning of start + 5
                start = self.rng.choice(free)
                home.busy.update(range(start + 1, start + 5))
                self.actions.append(
                    {
                        "at": self._at(start, 1380),
                        "action": "away",
                        "site": home.site,
                        "until": self._at(start + 5, 360),
                    }
                )

    def _incident(self, home: Home, kind: str, onset: int, until: int, start: int = 0) -> None:
        home.incidents.append(Incident(home.site, kind, onset, until, start or onset - 15 * MIN))

    def _found(self, home: Home, at: int) -> None:
        """Someone comes (a visitor, the family): movement again, the day goes on (after
        a night in hospital if it was late)."""
        home.door(at, True)
        home.door(at + MIN, False)
        for k in range(1, 8):
            home.motion(at + k * 10 * MIN, "living-room")
        day = (at - self.start) // DAY
        minute = (at - self._at(day, 0)) // MIN + 80
        if minute < home.habits.bed - 30:
            self._awake(home, day, minute, home.habits.bed, None)
        elif day + 1 < self.days:
            home.busy.add(day + 1)
            self._awake(home, day + 1, home.habits.wake, home.habits.bed, None)

    def _fall_night(self, home: Home, day: int) -> None:
        fell = self._at(day, self.rng.randint(60, 240))
        home.motion(fell - 30_000, "hall")
        home.motion(fell, self.rng.choice(("toilet", "bathroom")))
        self._incident(home, "fall-night", fell, fell + 6 * HOUR)
        self._found(home, fell + 6 * HOUR)

    def _fall_day(self, home: Home, day: int) -> None:
        self._awake(home, day, home.habits.wake, 600, None)
        fell = self._at(day, 615)
        home.motion(fell, "bathroom")
        self._incident(home, "fall-day", fell, fell + 5 * HOUR)
        self._found(home, fell + 5 * HOUR)

    def _night_exit(self, home: Home, day: int) -> None:
        home.habits.has_tag, had = True, home.habits.has_tag
        out = self._at(day, self.rng.randint(60, 240))
        home.tag(out - 10 * MIN, True)
        home.motion(out - MIN, "hall")
        home.door(out, True)
        home.door(out + MIN, False)
        home.tag(out + self.rng.randint(2, 5) * MIN, False)
        self._incident(home, "night-exit", out, out + 3 * HOUR)
        self._found(home, out + 3 * HOUR)
        home.tag(out + 3 * HOUR, True)
        home.habits.has_tag = had
        self._awake(home, day, 600, home.habits.bed, None)

    def _call_button(self, home: Home, day: int) -> None:
        self._ordinary_day(home, day)
        press = self._at(day, self.rng.randint(480, 1200))
        home.send(press, "event", ("button.long_press", True, "1", "button"))
        self._incident(home, "call-button", press, press + 2 * HOUR)

    def _heating_failure(self, home: Home, day: int) -> None:
        self._ordinary_day(home, day)
        crossing = self._at(day, 840)  # 20 °C at 10:00, falling 2.5 °C an hour: 10 °C at 14:00
        self._incident(home, "heating-failure", crossing, crossing + 6 * HOUR, crossing - 4 * HOUR)
        self._found(home, crossing + 6 * HOUR)

    def _heat(self, home: Home, day: int) -> None:
        self._ordinary_day(home, day)
        hot = self._at(day, 780)
        self._incident(home, "heat", hot, hot + 4 * HOUR)

    def _no_wake_up(self, home: Home, day: int) -> None:
        self._night(home, day, 240)
        self._incident(home, "no-wake-up", self._at(day, 600), self._at(day, 720), self._at(day, 0))
        self._awake(home, day, 720, home.habits.bed, None)

    def _collapse(self, home: Home, day: int) -> None:
        self._awake(home, day, home.habits.wake, 900, None)
        last = self._at(day, 900)
        self._incident(home, "collapse", last, last + 24 * HOUR)
        self._found(home, last + 24 * HOUR)

    def _device_outage(self, home: Home, day: int) -> None:
        start = self._at(day, self.rng.randint(60, 1200))
        end = start + self.rng.randint(2, 8) * HOUR
        home.status(start, "offline", self.start - HOUR)  # the will carries the connect time
        home.offline.append((start, end))
        self._ordinary_day(home, day)
        home.status(end, "online", end)
        for n, (_ts, line) in enumerate(sorted(home.backlog, key=lambda item: item[0])):
            line["at"] = end + 5_000 + n * 50  # the outbox's backlog, after reconnecting
            home.lines.append(line)
        home.backlog.clear()
        self._incident(home, "device-outage", start, end + 30 * MIN)


def write_city(root: Path, repo: Path, homes: list[Home], never_connected: int) -> Path:
    """firmware-config, residents file and alerts config for the benchmark's homes."""
    inventory = root / "firmware-config"
    shutil.copytree(repo / "firmware-config", inventory, ignore=shutil.ignore_patterns("sites"))
    (inventory / "sites").mkdir()
    sites = [(h.site, h.device) for h in homes]
    sites += [(f"home-n{n:03d}", f"home-n{n:03d}-hub") for n in range(never_connected)]
    residents = ["residents:"]
    for number, (site, device) in enumerate(sites):
        (inventory / "sites" / f"{site}.yaml").write_text(
            f"id: {site}\nkind: home\nname: {{ja: 見守り宅 {site[5:]}, en: Home {site[5:]}}}\n"
            f"devices:\n  - {{id: {device}, profile: watch-over-home}}\n",
            encoding="utf-8",
        )
        residents += [
            f"  - id: r-{site[5:]}",
            f"    site: {site}",
            f"    name: 住民 {number}",
            "    contacts:",
            f"      - {{role: family, name: 家族 {number}, email: family{number}@example.jp}}",
            f"      - {{role: care-manager, name: ケア {number % 5}, "
            f"email: care{number % 5}@example.jp}}",
        ]
    residents += [
        "staff:",
        "  - {role: municipal-staff, name: 介護福祉課, email: city@example.jp}",
        "  - {role: facility-staff, name: 受付, email: desk@example.jp}",
        "  - {role: it, name: 情報政策係, email: it@example.jp}",
    ]
    (root / "residents.yaml").write_text("\n".join(residents) + "\n", encoding="utf-8")
    (root / "residents.yaml").chmod(0o600)
    config = root / "alerts.yaml"
    config.write_text(
        json.dumps(
            {
                "alerts_id": "alerts-1",
                "inventory": str(inventory),
                "residents": str(root / "residents.yaml"),
                "email": {"url": "mailto://127.0.0.1:25?from=alerts@abashiri.example"},
                "it_channels": ["json://127.0.0.1:9/it"],
                "quiet_hours": "22:00-07:00",
            }
        ),
        encoding="utf-8",
    )
    return config
