"""Notification texts a caregiver understands without a dashboard: who, what, since
when, what to do, and how to acknowledge; in Japanese or English."""

from __future__ import annotations

from typing import Literal

from alerts import schedule
from alerts.rules import Rule

Lang = Literal["ja", "en"]
Kind = Literal["fire", "escalate", "repeat", "resolve", "delivery-failed"]

SEVERITY_LABELS = {
    "ja": {"info": "お知らせ", "warning": "注意", "urgent": "緊急", "life-safety": "至急・緊急"},
    "en": {"info": "Info", "warning": "Warning", "urgent": "URGENT", "life-safety": "EMERGENCY"},
}
_LINES = {
    "ja": {
        "resolve": "解消",
        "since": "発生",
        "late": "（回線の復旧後に届いた記録です）",
        "todo": "対応",
        "ack": "対応したら、こちらから応答してください（他の方への連絡が止まります）",
        "resolved": "解消しました",
        "escalate": "その後も状況が変わっていません",
        "repeat": "まだ誰も応答していません",
        "value": "値",
    },
    "en": {
        "resolve": "Resolved",
        "since": "Since",
        "late": "(recorded while the home was offline; delivered now)",
        "todo": "What to do",
        "ack": "When you take care of it, acknowledge here (the others stop being called)",
        "resolved": "Resolved at",
        "escalate": "Nothing has changed since",
        "repeat": "Nobody has acknowledged yet",
        "value": "Value",
    },
}


def compose(
    lang: Lang,
    kind: Kind,
    rule: Rule,
    place: str,
    *,
    severity: str,
    at_ms: int,
    timezone: str,
    ack_url: str = "",
    value: str = "",
    late: bool = False,
) -> tuple[str, str]:
    """Subject and body."""
    words = _LINES[lang]
    title = getattr(rule.title, lang)
    when = schedule.local(at_ms, timezone).strftime("%Y-%m-%d %H:%M")
    if kind == "resolve":
        return (
            f"[{words['resolve']}] {place}: {title}",
            f"{place}\n{title}\n{words['resolved']} {when}",
        )
    lines = [place, title]
    if kind in ("escalate", "repeat"):
        lines.append(words[kind])
    lines.append(f"{words['since']}: {when}" + (f" {words['late']}" if late else ""))
    if value:
        lines.append(f"{words['value']}: {value}")
    lines.append(f"{words['todo']}: {getattr(rule.advice, lang)}")
    if ack_url:
        lines += ["", f"{words['ack']}:", ack_url]
    return f"[{SEVERITY_LABELS[lang][severity]}] {place}: {title}", "\n".join(lines)
