"""Synthetic daily life for watch-over residents, with injected incidents, run through
the rule engine in event time: how many incidents the rules catch, how fast, and how
many alerts they raise on ordinary days.

Each resident wakes and sleeps at varying times (a slow morning up to 09:54 one day in
twenty), moves about the house while awake,
sometimes visits the bathroom at night, goes out on some days (entrance door), and is
away for a few days once a month (away mode set). The home is heated. Incidents, one
of each kind per resident, on separate days:

- no-activity: the resident collapses; nothing moves for 24 hours;
- no-wake-up: the resident does not get up until noon;
- night-wandering: the entrance opens in the night and nobody comes back for an hour;
- cold-room: the heating fails in the afternoon; the room falls to 14 °C;
- panic: the call button is held;
- device-offline: the home's hub loses its connection for 6 hours, then replays.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.engine import Engine, SiteInfo
from alerts.engine_types import Observation
from alerts.rules import DEFAULT_RULES, load_rules
from alerts.state import Transition

MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
ZONE = ZoneInfo("Asia/Tokyo")
INCIDENTS = ("no-activity", "no-wake-up", "night-wandering", "cold-room", "panic",
             "device-offline")  # fmt: skip
# Incident -> rules that detect it and how long after onset each may take at most.
DETECTS: dict[str, tuple[set[str], int]] = {
    "no-activity": ({"inactivity-12h", "no-wake-up"}, 12 * HOUR + 2 * MIN),
    "no-wake-up": ({"no-wake-up", "inactivity-12h"}, 0),  # by 10:00 of that day
    "night-wandering": ({"night-door"}, 12 * MIN),  # follow-up of 10 min, then it fires
    "cold-room": ({"room-cold", "room-very-cold"}, 60 * MIN + 12 * MIN),
    "panic": ({"panic"}, 2 * MIN),
    "device-offline": ({"home-device-offline"}, 15 * MIN + 2 * MIN),
}


@dataclass
class Incident:
    site: str
    kind: str
    onset: int  # when the deadline clock starts
    window: tuple[int, int]  # alerts for the site in here belong to the incident
    deadline: int
    detected_at: int | None = None


@dataclass
class Results:
    residents: int
    days: int
    incidents: list[Incident] = field(default_factory=list)
    false_alerts: list[tuple[int, str, str]] = field(default_factory=list)
    outage_alerts: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def resident_months(self) -> float:
        return self.residents * self.days / 30

    def detection(self, kind: str) -> tuple[int, int, list[float]]:
        """(detected in time, injected, minutes to alert)."""
        mine = [i for i in self.incidents if i.kind == kind]
        late = [i for i in mine if i.detected_at is not None and i.detected_at <= i.deadline]
        minutes = sorted(((i.detected_at or 0) - i.onset) / MIN for i in late)
        return len(late), len(mine), minutes


# What a quiet span keeps: the room's temperature, and a press for help.
_ALWAYS = frozenset({"climate.temperature", "button.long_press"})


@dataclass
class _Book:
    results: Results
    # (time, order, site, "away" | "offline" | "online", argument)
    controls: list[tuple[int, int, str, str, object]] = field(default_factory=list)


class _Life:
    """One resident's readings and the incidents injected into them."""

    def __init__(self, site: str, hub: str, rng: random.Random) -> None:
        self.site, self.hub, self.rng = site, hub, rng
        self.events: list[tuple[int, int, str, Observation | None]] = []  # (deliver, ts, ..)
        # Spans in which nobody moves, whatever ordinary life would have added.
        self.quiet: list[tuple[int, int]] = []

    def stream(self, index: int) -> list[tuple[int, int, int, int, Observation | None]]:
        kept = [e for e in self.events if e[2] in _ALWAYS
                or not any(start <= e[1] < end for start, end in self.quiet)]  # fmt: skip
        return sorted((e[0], e[1], index, n, e[3]) for n, e in enumerate(kept))

    def add(self, ts: int, quantity: str, value: float | bool, sensor: str) -> None:
        self.events.append((ts, ts, quantity, Observation(quantity, value, sensor, ts)))

    def day(self, start: int, *, awake: tuple[int, int] | None, out: tuple[int, int] | None,
            temperature: float = 21.0) -> None:  # fmt: skip
        """Ordinary life for one local day beginning at ``start`` (midnight)."""
        rng = self.rng
        if rng.random() < 0.6:  # a night toilet visit, then back to bed (a bedroom sensor)
            visit = start + rng.randint(30, 270) * MIN
            self.add(visit, "motion.detected", True, "bathroom")
            self.add(visit + rng.randint(3, 15) * MIN, "motion.detected", True, "bedroom")
        if awake is not None:
            t = awake[0]
            while t < awake[1]:
                if out is None or not out[0] <= t < out[1]:
                    self.add(t, "motion.detected", True, rng.choice(("kitchen", "living")))
                t += int(rng.expovariate(1 / 25) * MIN) + MIN
        if out is not None:
            for moment in out:
                self.add(moment, "door.open", True, "entrance")
                self.add(moment + MIN, "door.open", False, "entrance")
        for tick in range(start, start + DAY, 10 * MIN):
            night = awake is None or not awake[0] <= tick < awake[1]
            base = 19.0 if night else temperature
            self.add(tick, "climate.temperature", round(base + rng.uniform(-0.4, 0.4), 1), "living")


def simulate(residents: int = 20, days: int = 60, seed: int = 1) -> Results:
    rng = random.Random(seed)
    rules = load_rules([DEFAULT_RULES])
    sites = {f"sim-{n:03d}": SiteInfo(f"sim-{n:03d}", "home", "Asia/Tokyo",
                                      (f"sim-{n:03d}-hub",)) for n in range(residents)}  # fmt: skip
    first_day = int(datetime(2026, 1, 5, tzinfo=ZONE).timestamp() * 1000)
    book = _Book(Results(residents, days))
    lives = []
    for site in sites.values():
        life = _Life(site.id, site.devices[0], rng)
        _live(life, first_day, days, _plan_incidents(rng, days), book)
        lives.append(life)
    engine = Engine(rules.values(), sites)
    _run(engine, lives, book, (first_day, first_day + days * DAY))
    return book.results


def _plan_incidents(rng: random.Random, days: int) -> dict[int, str]:
    """Incident days, spaced apart, after a few quiet days; and one away period."""
    slots = list(range(3, days - 2, 4))
    rng.shuffle(slots)
    return {day: kind for day, kind in zip(sorted(slots[: len(INCIDENTS)]), INCIDENTS,
                                            strict=False)}  # fmt: skip


def _live(life: _Life, first_day: int, days: int, plan: dict[int, str], book: _Book) -> None:
    rng = life.rng
    away_start = rng.choice(
        [d for d in range(2, days - 5) if not set(plan) & {d, d + 1, d + 2, d + 3, d + 4}] or [-9]
    )
    for number in range(days):
        start = first_day + number * DAY
        kind = plan.get(number)
        if away_start <= number < away_start + 3:
            if number == away_start:  # leaves after breakfast; the family sets away mode
                leave = start + 9 * HOUR
                book.controls.append((leave - 30 * MIN, 0, life.site, "away", leave + 3 * DAY))
                life.day(start, awake=(start + 7 * HOUR, leave), out=(leave, leave + 3 * DAY))
            else:
                life.day(start, awake=None, out=None)
            continue
        wake = start + _clock(rng, 6.5, 0.5, 5.0, 8.25)
        if rng.random() < 0.05:  # a slow morning now and then
            wake = start + int(rng.uniform(8.5, 9.9) * HOUR)
        bed = start + _clock(rng, 21.75, 0.5, 20.75, 23.5)
        out = None
        if rng.random() < 0.4:
            leave = start + int(rng.uniform(10, 15) * HOUR)
            out = (leave, leave + int(rng.uniform(1, 3) * HOUR))
        if kind is None:
            life.day(start, awake=(wake, bed), out=out)
        else:
            _incident(life, kind, start, (wake, bed), book)


def _incident(life: _Life, kind: str, start: int, awake: tuple[int, int], book: _Book) -> None:
    rng, (wake, bed) = life.rng, awake
    allowed = DETECTS[kind][1]
    if kind == "no-activity":
        onset = start + int(rng.uniform(9, 18) * HOUR)
        life.day(start, awake=(wake, onset), out=None)
        _silence(life, onset, onset + 24 * HOUR)
        window = (onset, onset + 26 * HOUR)
    elif kind == "no-wake-up":
        onset = start + 4 * HOUR
        life.events = [
            e
            for e in life.events
            if not (start - 3 * HOUR <= e[1] < start + 12 * HOUR and e[2] != "climate.temperature")
        ]
        life.day(start, awake=(start + 12 * HOUR, bed), out=None)
        _silence(life, start, start + 12 * HOUR)
        window = (start, start + 12 * HOUR + HOUR)
        allowed = 10 * HOUR + 2 * MIN - 4 * HOUR
    elif kind == "night-wandering":
        life.day(start, awake=(wake, bed), out=None)
        onset = start + int(rng.uniform(1, 3.5) * HOUR)
        _silence(life, onset + 1, onset + HOUR)  # out of the house
        life.add(onset, "door.open", True, "entrance")
        life.add(onset + 60 * MIN, "door.open", True, "entrance")
        life.add(onset + 61 * MIN, "motion.detected", True, "living")
        window = (onset, onset + 2 * HOUR)
    elif kind == "cold-room":
        life.day(start, awake=(wake, bed), out=None)
        fail = start + int(rng.uniform(13, 16) * HOUR)
        life.events = [
            e
            for e in life.events
            if not (e[2] == "climate.temperature" and fail <= e[1] < fail + 6 * HOUR)
        ]
        for minute in range(0, 6 * 60, 10):
            value = max(14.0, 21.0 - 7.0 * minute / 120)
            life.add(fail + minute * MIN, "climate.temperature", value, "living")
        onset = fail + int((21.0 - 18.0) / 7.0 * 120) * MIN  # the room crosses 18 °C
        window = (fail, fail + 8 * HOUR)
    elif kind == "panic":
        life.day(start, awake=(wake, bed), out=None)
        onset = start + int(rng.uniform(8, 20) * HOUR)
        life.add(onset, "button.long_press", True, "bedside")
        window = (onset, onset + HOUR)
    else:  # device-offline: the hub is cut off; its readings arrive when it is back
        life.day(start, awake=(wake, bed), out=None)
        onset = start + int(rng.uniform(9, 17) * HOUR)
        back = onset + 6 * HOUR
        book.controls.append((onset, 0, life.site, "offline", life.hub))
        book.controls.append((back, 1, life.site, "online", life.hub))
        life.events = [((back if onset <= e[1] < back else e[0]), *e[1:]) for e in life.events]
        window = (onset, back + 2 * HOUR)
    book.results.incidents.append(Incident(life.site, kind, onset, window, onset + allowed))


def _silence(life: _Life, start: int, end: int) -> None:
    """Nothing moves between start and end (temperature still comes)."""
    life.quiet.append((start, end))


def _clock(rng: random.Random, mean_h: float, sd_h: float, low: float, high: float) -> int:
    return int(min(high, max(low, rng.gauss(mean_h, sd_h))) * HOUR)


def _run(engine: Engine, lives: list[_Life], book: _Book, span: tuple[int, int]) -> None:
    controls, results = book.controls, book.results
    streams = [life.stream(index) for index, life in enumerate(lives)]
    merged = heapq.merge(*streams)
    pending = next(merged, None)
    controls.sort()
    control_index = 0
    for now in range(span[0], span[1], MIN):
        while control_index < len(controls) and controls[control_index][0] <= now:
            _, _, site, what, arg = controls[control_index]
            control_index += 1
            if what == "away":
                engine.set_away(site, int(str(arg)), now)
            else:
                _record(engine.device_online(str(arg), what == "online", now), now, results)
        while pending is not None and pending[0] <= now:
            _, _, index, _, observation = pending
            assert observation is not None
            _record(engine.observe(lives[index].hub, [observation], now), now, results)
            pending = next(merged, None)
        _record(engine.tick(now), now, results)
        for site in list(engine.state.away):
            if engine.state.away[site] <= now:
                engine.set_away(site, None, now)
        for key in [k for k in engine.state.firing if k.startswith("panic/")]:
            engine.acknowledged_event(key)  # the family answers the call


def _record(transitions: list[Transition], now: int, results: Results) -> None:
    for t in transitions:
        if t.change != "fire":
            continue
        incident = next((i for i in results.incidents if i.site == t.site
                         and i.window[0] <= now <= i.window[1]), None)  # fmt: skip
        if incident is not None and t.rule.id in DETECTS[incident.kind][0]:
            incident.detected_at = incident.detected_at or now
        elif t.rule.audience == "it":
            continue
        elif incident is not None and incident.kind == "device-offline":
            results.outage_alerts.append((now, t.site, t.rule.id))
        elif incident is None:
            results.false_alerts.append((now, t.site, t.rule.id))
