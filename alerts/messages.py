"""Notification texts a caregiver understands without a dashboard: who, what happened in
plain words, since when, what to do, and how to acknowledge; Japanese and English from
this one catalogue. Values carry their unit and room ("居間 9.8 ℃"), never "値: True".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from alerts import schedule
from alerts.rules import Rule
from alerts.state import Detail
from common.labels import SEVERITY_LABELS, Lang
from wire import CATALOGUE, ValueType

Kind = Literal["fire", "escalate", "worse", "repeat", "resolve", "delivery-failed", "summary"]

_LINES = {
    "ja": {
        "resolve": "解消",
        "since": "発生",
        "late": "（回線の復旧後に届いた記録です）",
        "todo": "対応",
        "ack": "対応したら、こちらから応答してください（他の方への連絡が止まります）",
        "resolved": "解消しました",
        "escalate": "まだ誰も応答していないため、お知らせしています",
        "worse": "状況が悪化しました",
        "repeat": "まだ誰も応答していません",
        "summary": "夜間（通知を控えた時間帯）の出来事",
        "summary-end": "いずれも解消しています。対応は不要です。",
    },
    "en": {
        "resolve": "Resolved",
        "since": "Since",
        "late": "(recorded while the home was offline; delivered now)",
        "todo": "What to do",
        "ack": "When you take care of it, acknowledge here (the others stop being called)",
        "resolved": "Resolved at",
        "escalate": "Nobody has acknowledged yet, so you are being told",
        "worse": "The situation has got worse",
        "repeat": "Nobody has acknowledged yet",
        "summary": "What happened during the night (quiet hours)",
        "summary-end": "All of it is over. Nothing needs to be done.",
    },
}
# Sensor names as configured -> words a family reads.
_ROOMS = {
    "ja": {
        "bathroom": "浴室", "bath": "浴室", "toilet": "トイレ", "wc": "トイレ",
        "restroom": "トイレ", "washroom": "洗面所", "entrance": "玄関", "hall": "廊下",
        "hallway": "廊下", "living-room": "居間", "living": "居間", "bedroom": "寝室",
        "kitchen": "台所", "dining": "食堂", "back-door": "勝手口", "bedside": "枕元",
    },
    "en": {},
}  # fmt: skip
_UNITS = {"Cel": "℃", "%": "%", "[ppm]": "ppm", "dB[mW]": "dBm", "kW.h": "kWh", "1": ""}
_BOOL_WORDS: dict[str, dict[str, tuple[str, str]]] = {
    # quantity -> language -> (true, false)
    "door.open": {"ja": ("開いています", "閉まっています"), "en": ("open", "closed")},
    "wifi.ap_up": {"ja": ("稼働中", "停止"), "en": ("up", "down")},
    "wifi.internet_ok": {"ja": ("接続あり", "接続なし"), "en": ("connected", "no connection")},
    "modbus.unit_up": {"ja": ("応答あり", "応答なし"), "en": ("answering", "not answering")},
    "motion.detected": {"ja": ("動きあり", "動きなし"), "en": ("motion", "no motion")},
}
_QUANTITY_WORDS = {
    "ja": {
        "climate.temperature": "室温", "climate.humidity": "湿度", "climate.wbgt": "暑さ指数",
        "climate.co2": "CO2", "battery.level": "電池残量", "door.open": "扉",
        "wifi.latency": "応答時間", "wifi.loss": "パケット損失", "wifi.clients": "利用者数",
        "energy.voltage": "電圧", "wifi.dns_time": "DNS応答時間",
    },
    "en": {},
}  # fmt: skip


@dataclass(frozen=True)
class AlertView:
    """One alert as a message shows it."""

    rule: Rule
    place: str
    severity: str
    at_ms: int
    timezone: str
    detail: Detail | None = None
    late: bool = False


def room(name: str, lang: Lang) -> str:
    return _ROOMS[lang].get(name, name) if name else ""


def value_text(quantity: str, value: Any, lang: Lang) -> str:
    """A reading as words: ``9.8 ℃``, ``開いています``."""
    if isinstance(value, bool):
        words = _BOOL_WORDS.get(quantity, {}).get(lang)
        if words is None:
            words = ("はい", "いいえ") if lang == "ja" else ("yes", "no")
        return words[0] if value else words[1]
    found = CATALOGUE.get(quantity)
    unit = _UNITS.get(found.unit, found.unit) if found else ""
    number = f"{value:g}" if isinstance(value, float) else str(value)
    if found is not None and found.type is ValueType.INT:
        number = str(int(value))
    return f"{number} {unit}".strip() if unit not in ("%", "℃") else f"{number}{unit}"


def describe(detail: Detail | None, lang: Lang, timezone: str) -> list[str]:
    """What happened, in plain words (lines)."""
    if detail is None:
        return []
    render = _DETAILS.get(detail.code)
    if render is None:
        return []
    return render(detail.args, lang, lambda ts: _hhmm(ts, timezone))


def compose(lang: Lang, kind: Kind, alert: AlertView, *, ack_url: str = "") -> tuple[str, str]:
    """Subject and body; lines separated by newlines (every channel keeps them)."""
    words = _LINES[lang]
    title = getattr(alert.rule.title, lang)
    when = schedule.local(alert.at_ms, alert.timezone).strftime("%Y-%m-%d %H:%M")
    story = describe(alert.detail, lang, alert.timezone)
    if kind == "resolve":
        body = [alert.place, title, *story, f"{words['resolved']} {when}"]
        return f"[{words['resolve']}] {alert.place}: {title}", "\n".join(body)
    lines = [alert.place, title]
    if kind in ("escalate", "worse", "repeat"):
        lines.append(words[kind])
    lines += story
    lines.append(f"{words['since']}: {when}" + (f" {words['late']}" if alert.late else ""))
    lines.append(f"{words['todo']}: {getattr(alert.rule.advice, lang)}")
    if ack_url:
        lines += ["", f"{words['ack']}:", ack_url]
    subject = f"[{SEVERITY_LABELS[lang][alert.severity]}] {alert.place}: {title}"
    return subject, "\n".join(lines)


def compose_summary(lang: Lang, place: str, lines: list[str]) -> tuple[str, str]:
    """The morning summary of what happened and resolved during quiet hours."""
    words = _LINES[lang]
    body = [place, words["summary"], "", *lines, "", words["summary-end"]]
    return f"[{SEVERITY_LABELS[lang]['info']}] {place}: {words['summary']}", "\n".join(body)


def summary_line(alert: AlertView, lang: Lang) -> str:
    """One line of the morning summary: the story if there is one, else time and title."""
    story = describe(alert.detail, lang, alert.timezone)
    if story:
        return " / ".join(story)
    return f"{_hhmm(alert.at_ms, alert.timezone)} {getattr(alert.rule.title, lang)}"


# -- the details -----------------------------------------------------------------------------

Clock = Callable[[int], str]


def _hhmm(ts: int, timezone: str) -> str:
    return schedule.local(ts, timezone).strftime("%H:%M") if ts else "—"


def _threshold(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    quantity = str(args.get("quantity", ""))
    label = _QUANTITY_WORDS[lang].get(quantity) or (
        CATALOGUE[quantity].description if quantity in CATALOGUE else quantity
    )
    rooms = args.get("rooms", {})
    parts = [
        f"{room(name, lang) or '—'} {value_text(quantity, v, lang)}" for name, v in rooms.items()
    ]
    return [f"{label}: " + ", ".join(parts)] if parts else []


def _inactivity(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    hours, last, where = (
        args.get("hours", 0),
        int(args.get("last", 0)),
        room(args.get("room", ""), lang),
    )
    if lang == "ja":
        tail = f"最後の動き: {clock(last)} {where}".rstrip() if last else "動きの記録がありません"
        return [f"{hours:g}時間、家の中で動きがありません（{tail}）"]
    tail = f"last movement {clock(last)} {where}".rstrip() if last else "no movement recorded"
    return [f"No movement in the home for {hours:g} hours ({tail})"]


def _no_wake_up(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    by, last = args.get("by", ""), int(args.get("last", 0))
    if lang == "ja":
        return [f"{by} までに起きた様子がありません（最後の動き: {clock(last)}）"]
    return [f"No sign of getting up by {by} (last movement {clock(last)})"]


def _event(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    at, where = int(args.get("at", 0)), room(args.get("room", ""), lang)
    if lang == "ja":
        place = f"（{where}）" if where else ""
        return [f"{clock(at)} に呼び出しボタンが長押しされました{place}"]
    return [f"The call button{' in ' + where if where else ''} was held at {clock(at)}"]


def _night_door_open(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    door, opened, minutes = room(args.get("door", ""), lang), int(args["opened"]), args["minutes"]
    if lang == "ja":
        return [
            f"{clock(opened)} {door}が開きました → その後{minutes:g}分間、室内で動きがありません"
        ]
    return [f"{clock(opened)} the {door} door opened → no movement inside for {minutes:g} minutes"]


def _night_door_tag_gone(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    door, opened, gone = room(args.get("door", ""), lang), int(args["opened"]), int(args["gone"])
    if lang == "ja":
        return [f"{clock(opened)} {door}が開きました → {clock(gone)} ご本人のタグの電波が"
                "届かなくなりました（外出した可能性があります）"]  # fmt: skip
    return [f"{clock(opened)} the {door} door opened → {clock(gone)} the resident's tag is no "
            "longer heard (they may have gone out)"]  # fmt: skip


def _night_door_back(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    door, opened, back = room(args.get("door", ""), lang), int(args["opened"]), int(args["back"])
    where = room(args.get("room", ""), lang)
    if lang == "ja":
        return [f"{clock(opened)} {door}が開きました → {clock(back)} 室内（{where}）で動きあり"]
    return [f"{clock(opened)} the {door} door opened → {clock(back)} movement inside ({where})"]


def _long_stay(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    where, entered, minutes = (
        room(args.get("room", ""), lang),
        int(args["entered"]),
        args["minutes"],
    )
    if lang == "ja":
        return [
            f"{clock(entered)} に{where}に入ってから{minutes:g}分以上、ほかの部屋で動きがありません"
        ]
    return [f"Went into the {where} at {clock(entered)}; no movement elsewhere for {minutes:g} min"]


def _active_again(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    at, where = int(args.get("at", 0)), room(args.get("room", ""), lang)
    if lang == "ja":
        return [f"{clock(at)} {where}で動きがありました".replace("  ", " ")]
    return [f"Movement at {clock(at)}{' in ' + where if where else ''}"]


def _sensor_silent(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    where, last = room(args.get("room", ""), lang), int(args.get("last", 0))
    if lang == "ja":
        return [f"センサー「{where}」: 最後のデータ {clock(last)}"]
    return [f"Sensor '{where}': last reading at {clock(last)}"]


def _offline(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    device, since = args.get("device", ""), int(args.get("since", 0))
    if lang == "ja":
        return [f"機器 {device}: {clock(since)} から接続がありません（この間の見守りは止まります）"]
    return [f"Device {device}: no connection since {clock(since)} (watch-over alerts paused)"]


def _never_seen(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    device = args.get("device", "")
    if lang == "ja":
        return [f"機器 {device}: 一度も接続していません（設置・開通作業中？）。"
                "接続するまで、ここの見守り・異常の通知は止まっています"]  # fmt: skip
    return [f"Device {device} has never connected (still being installed?). Until it does, "
            "no alert for this site goes out"]  # fmt: skip


def _back(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    device = args.get("device", "")
    return [f"機器 {device} が接続しました" if lang == "ja" else f"Device {device} is connected"]


def _service_event(args: dict[str, Any], lang: Lang, clock: Clock) -> list[str]:
    device, detail = args.get("device", ""), args.get("detail", "")
    head = f"機器 {device}" if lang == "ja" else f"Device {device}"
    return [f"{head}: {detail}" if device else str(detail)]


_DETAILS: dict[str, Callable[[dict[str, Any], Lang, Clock], list[str]]] = {
    "threshold": _threshold,
    "inactivity": _inactivity,
    "no-wake-up": _no_wake_up,
    "event": _event,
    "night-door-open": _night_door_open,
    "night-door-tag-gone": _night_door_tag_gone,
    "night-door-back": _night_door_back,
    "long-stay": _long_stay,
    "active-again": _active_again,
    "sensor-silent": _sensor_silent,
    "offline": _offline,
    "never-seen": _never_seen,
    "back": _back,
    "service-event": _service_event,
}


_DAILY = {
    "ja": {"title": "今日の様子", "fine": "今日も元気に過ごしています",
           "unusual": "いつもと違う点があります", "up": "起床: {time} ごろ（最初の動き）",
           "not-up": "今日はまだ動きがありません（{time} 現在）", "rooms": "室温: {rooms}",
           "no-alerts": "今日の通知: ありません", "alerts": "今日の通知: {count} 件（{titles}）",
           "unobserved": "見守りの機器が応答していないため、様子が分かりません",
           "more": "詳しい様子（ご家族だけのページ）:"},
    "en": {"title": "Today", "fine": "All is well today", "unusual": "Something was unusual",
           "up": "Up at about {time} (first movement)",
           "not-up": "No movement yet today (as of {time})", "rooms": "Rooms: {rooms}",
           "no-alerts": "Alerts today: none", "alerts": "Alerts today: {count} ({titles})",
           "unobserved": "A device of the home does not answer: the day is not known",
           "more": "More (a page for you only):"},
}  # fmt: skip


@dataclass(frozen=True)
class DayView:
    """How a home's day went so far, for its daily message."""

    place: str
    now_ms: int
    timezone: str
    first_activity: int | None  # today's, or None
    temperatures: dict[str, float]
    alert_titles: list[str]
    unobserved: bool = False  # a device of the home is offline: its day is not known


def compose_daily(lang: Lang, day: DayView, link: str = "") -> tuple[str, str]:
    """The daily message: 「今日も 06:32 に起床、室温 21℃、通知はありません」, or what was
    unusual (no movement yet, alerts today)."""
    words = _DAILY[lang]
    now = schedule.local(day.now_ms, day.timezone)
    lines = [day.place, f"{words['title']} ({now.strftime('%Y-%m-%d')})", *daily_lines(lang, day)]
    if link:
        lines += ["", words["more"], link]
    unusual = day.unobserved or day.first_activity is None or bool(day.alert_titles)
    headline = words["unusual"] if unusual else words["fine"]
    label = SEVERITY_LABELS[lang]["info"]
    return f"[{label}] {day.place}: {headline}", "\n".join(lines)


def daily_lines(lang: Lang, day: DayView) -> list[str]:
    """The day so far, line by line (the daily message and the family page)."""
    words = _DAILY[lang]
    now = schedule.local(day.now_ms, day.timezone)
    lines = []
    if day.unobserved:
        lines.append(words["unobserved"])
    elif day.first_activity is not None:
        lines.append(words["up"].format(time=_hhmm(day.first_activity, day.timezone)))
    else:
        lines.append(words["not-up"].format(time=now.strftime("%H:%M")))
    if day.temperatures:
        separator = "、" if lang == "ja" else ", "
        rooms = separator.join(
            f"{room(name, lang)} {value_text('climate.temperature', round(value, 1), lang)}"
            for name, value in sorted(day.temperatures.items())
        )
        lines.append(words["rooms"].format(rooms=rooms))
    if day.alert_titles:
        titles = "、".join(day.alert_titles) if lang == "ja" else ", ".join(day.alert_titles)
        lines.append(words["alerts"].format(count=len(day.alert_titles), titles=titles))
    else:
        lines.append(words["no-alerts"])
    return lines
