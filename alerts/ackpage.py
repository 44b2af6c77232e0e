"""The acknowledgement page, for a worried family member on a phone: Japanese first
(English by ``Accept-Language`` or the link at the foot), what happened, where, when
and what to do, ``tel:`` links, one large button; after the tap, who took it and when,
and who will no longer be called. Once the alert is over, nothing personal."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from alerts import schedule
from alerts.links import tel_linked
from common.labels import Lang

_ROLES = {
    "ja": {"family": "ご家族", "neighbour": "近所の方", "care-manager": "ケアマネジャー",
           "facility-staff": "施設の職員", "municipal-staff": "市の担当者", "it": "市の情報担当"},
    "en": {"family": "the family", "neighbour": "the neighbour", "care-manager": "the care manager",
           "facility-staff": "the facility's staff", "municipal-staff": "the city's welfare office",
           "it": "the city's IT"},
}  # fmt: skip
_WORDS = {
    "ja": {
        "site": "見守りの通知",
        "when": "発生",
        "todo": "対応",
        "button": "対応します",
        "button-note": "押すと、ほかの方への連絡が止まります。",
        "waiting": "まだ誰も対応していません",
        "taken": "対応中 — {who}さんが {time} に対応しました",
        "stopped": "{roles}への連絡は止まりました。",
        "over": "この通知は解消しました。",
        "over-note": "対応は不要です。ご協力ありがとうございました。",
        "other": "English",
        "close-intro": "終わったら、閉じてください:",
        "resolved": "解決しました",
        "false-alarm": "誤報でした",
        "closed": "閉じました（{reason}）。知らせた方にも伝えます。",
        "call": "電話する",
    },
    "en": {
        "site": "civic-iot alert",
        "when": "Since",
        "todo": "What to do",
        "button": "I am taking care of it",
        "button-note": "Pressing it stops the calls to the others.",
        "waiting": "Nobody has taken it yet",
        "taken": "Being taken care of — by {who} at {time}",
        "stopped": "{roles} will no longer be called.",
        "over": "This alert is over.",
        "over-note": "Nothing needs to be done. Thank you.",
        "other": "日本語",
        "close-intro": "When it is over, close it:",
        "resolved": "It is resolved",
        "false-alarm": "It was a false alarm",
        "closed": "Closed ({reason}). Everyone who was told hears it.",
        "call": "Call",
    },
}
_STYLE = """
body{font-family:'Hiragino Sans','Noto Sans CJK JP',Meiryo,sans-serif;margin:0;
 font-size:18px;line-height:1.6;color:#1a1a1a;background:#f6f6f4}
main{max-width:34em;margin:0 auto;padding:16px}
.place{color:#555;margin:0} h1{font-size:26px;margin:4px 0 12px;line-height:1.3}
.card{background:#fff;border-radius:12px;padding:12px 16px;margin:12px 0;
 box-shadow:0 1px 3px rgba(0,0,0,.12)}
.state{font-weight:bold;padding:10px 14px;border-radius:10px;margin:12px 0}
.waiting{background:#fde7e5;color:#8c1d18} .taken{background:#fff1d6;color:#6b4300}
.over{background:#e4f3e6;color:#1e5b26}
button{display:block;width:100%;font-size:22px;font-weight:bold;padding:18px 12px;
 border:0;border-radius:12px;background:#b3261e;color:#fff;margin:16px 0 4px}
.note{font-size:15px;color:#555;margin:0} button.close{background:#3d5a80;font-size:19px;
 padding:14px 12px;margin:10px 0} a{color:#0b57d0}
.tel{display:inline-block;padding:2px 10px;border:1px solid #0b57d0;border-radius:16px;
 text-decoration:none} footer{font-size:15px;margin:24px 0}
"""


@dataclass(frozen=True)
class PageAlert:
    """What the page may show of one alert, already in the reader's language."""

    title: str
    place: str
    fired_at: int
    timezone: str
    lines: list[str] = field(default_factory=list)
    advice: str = ""
    state: str = "firing"  # firing, acknowledged, resolved
    acked_by: str = ""
    acked_at: int | None = None
    stopped_roles: list[str] = field(default_factory=list)  # no longer called
    closed_reason: str = ""  # "resolved" or "false-alarm" when a person closed it


def choose_language(query_lang: str, accept_language: str) -> Lang:
    """``?lang=`` first, then the browser's first preference; Japanese by default."""
    if query_lang in ("ja", "en"):
        return "en" if query_lang == "en" else "ja"
    first = accept_language.split(",", maxsplit=1)[0].strip().lower()
    return "en" if first.startswith("en") else "ja"


def alert_page(alert: PageAlert, lang: Lang, form: str = "", other_lang_url: str = "") -> str:
    """The page for an alert; ``form`` is the button's form (only while it waits)."""
    words = _WORDS[lang]
    if alert.state == "resolved":
        over = f'<p class="state over">{words["over"]}</p><p>{words["over-note"]}</p>'
        if alert.closed_reason in ("resolved", "false-alarm"):
            closed = words["closed"].format(reason=words[alert.closed_reason])
            over = f'<p class="state over">{html.escape(closed)}</p>'
        body = f"<h1>{html.escape(alert.title)}</h1>{over}"
        return _page(alert.title, lang, body, other_lang_url)
    when = schedule.local(alert.fired_at, alert.timezone).strftime("%Y-%m-%d %H:%M")
    story = "".join(f"<p>{_linked(line)}</p>" for line in alert.lines)
    parts = [
        f'<p class="place">{html.escape(alert.place)}</p>',
        f"<h1>{html.escape(alert.title)}</h1>",
        _state(alert, lang),
        f'<div class="card">{story}<p>{words["when"]}: {when}</p></div>',
        f'<div class="card"><p><b>{words["todo"]}</b>: {_linked(alert.advice)}</p></div>',
    ]
    if form and alert.state == "firing":
        parts.append(form + f'<p class="note">{words["button-note"]}</p>')
    elif form:  # taken by this reader: ways to close it
        parts.append(f'<p class="note">{words["close-intro"]}</p>{form}')
    return _page(alert.title, lang, "".join(parts), other_lang_url)


def button_form(path: str, fields: dict[str, str], lang: Lang) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in fields.items()
    )
    label = _WORDS[lang]["button"]
    return (
        f'<form method="post" action="{html.escape(path)}">{hidden}<button>{label}</button></form>'
    )


def close_forms(path: str, fields: dict[str, str], lang: Lang) -> str:
    """Two buttons for the one who took the alert: resolved, or a false alarm."""
    forms = []
    for reason in ("resolved", "false-alarm"):
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in {**fields, "close": reason}.items()
        )
        label = _WORDS[lang][reason]
        forms.append(f'<form method="post" action="{html.escape(path)}">{hidden}'
                     f'<button class="close">{label}</button></form>')  # fmt: skip
    return "".join(forms)


@dataclass(frozen=True)
class FamilyView:
    """One resident's page for one of their contacts, in the contact's language."""

    place: str
    today: list[str]  # the daily message's lines about today
    open_alerts: list[str]  # "title — state"
    recent: list[str]  # the last 7 days: "MM-DD HH:MM title (state)"


_FAMILY = {
    "ja": {"title": "見守りの様子", "today": "今日", "open": "対応が必要な通知",
           "none-open": "ありません", "recent": "この7日間の通知", "none-recent": "ありません"},
    "en": {"title": "How things are", "today": "Today", "open": "Alerts waiting",
           "none-open": "None", "recent": "Alerts in the last 7 days", "none-recent": "None"},
}  # fmt: skip


def family_page(view: FamilyView, lang: Lang, other_lang_url: str = "") -> str:
    words = _FAMILY[lang]

    def section(title: str, lines: list[str], empty: str) -> str:
        items = "".join(f"<p>{_linked(line)}</p>" for line in lines) or f"<p>{empty}</p>"
        return f'<div class="card"><p><b>{title}</b></p>{items}</div>'

    body = (
        f'<p class="place">{html.escape(view.place)}</p><h1>{words["title"]}</h1>'
        + section(words["today"], view.today, "")
        + section(words["open"], view.open_alerts, words["none-open"])
        + section(words["recent"], view.recent, words["none-recent"])
    )
    return _page(words["title"], lang, body, other_lang_url)


def message_page(text: str, lang: Lang, title: str = "") -> str:
    """A page that only says something (invalid or expired link, busy)."""
    return _page(title or text, lang, f"<p>{html.escape(text)}</p>", "")


def _state(alert: PageAlert, lang: Lang) -> str:
    words = _WORDS[lang]
    if alert.state == "firing":
        return f'<p class="state waiting">{words["waiting"]}</p>'
    at = schedule.local(alert.acked_at or alert.fired_at, alert.timezone).strftime("%H:%M")
    taken = words["taken"].format(who=html.escape(alert.acked_by), time=at)
    roles = [_ROLES[lang].get(role, role) for role in alert.stopped_roles]
    stopped = words["stopped"].format(roles="、".join(roles) if lang == "ja" else ", ".join(roles))
    if lang == "en" and roles:
        stopped = stopped[0].upper() + stopped[1:]
    return f'<p class="state taken">{taken}</p>' + (f"<p>{stopped}</p>" if roles else "")


def _linked(line: str) -> str:
    return tel_linked(line, 'class="tel"')


def _page(title: str, lang: Lang, body: str, other_lang_url: str) -> str:
    words = _WORDS[lang]
    switch = (f'<footer><a href="{html.escape(other_lang_url)}">{words["other"]}</a></footer>'
              if other_lang_url else "")  # fmt: skip
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)} — {words['site']}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}{switch}</main></body></html>"
    )
