"""The command line's words, Japanese and English, in one place (the alerts' messages
have their own catalogue: alerts/messages.py). ``--lang`` picks, else the locale."""

from __future__ import annotations

import os
from typing import Literal

Lang = Literal["ja", "en"]

WORDS: dict[str, dict[str, str]] = {
    "ja": {
        "id": "ID", "state": "状態", "severity": "重要度", "rule": "ルール", "site": "拠点",
        "fired": "発生（日本時間）", "by": "対応者", "alerts": "{count} 件の通知",
        "firing": "対応待ち", "acknowledged": "対応中", "resolved": "解消",
        "kind": "種類", "audience": "宛先", "rules": "{count} 件のルールが有効",
        "acked": "通知 {alert} を {by} さんの対応として記録しました",
        "inventory-ok": "{sites} 拠点、{devices} 台: 問題ありません",
        "residents-ok": "入居者 {residents} 人、職員の連絡先 {staff} 件: 問題ありません",
        "config-ok": "{path}: 問題ありません: 機器 {device}、収集: {collectors}",
        "every": "{seconds} 秒ごと",
    },
    "en": {
        "id": "ID", "state": "STATE", "severity": "SEVERITY", "rule": "RULE", "site": "SITE",
        "fired": "FIRED (Asia/Tokyo)", "by": "BY", "alerts": "{count} alert(s)",
        "firing": "firing", "acknowledged": "acknowledged", "resolved": "resolved",
        "kind": "KIND", "audience": "AUDIENCE", "rules": "{count} rules in force",
        "acked": "alert {alert} acknowledged by {by}",
        "inventory-ok": "{sites} sites, {devices} devices: OK",
        "residents-ok": "{residents} residents, {staff} staff contacts: OK",
        "config-ok": "{path}: OK: device {device}; collectors: {collectors}",
        "every": "every {seconds}s",
    },
}  # fmt: skip


def default_lang() -> Lang:
    """Japanese when the locale says so (LC_ALL, LC_MESSAGES, LANG), else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def word(lang: str, key: str, **values: object) -> str:
    return WORDS["ja" if lang == "ja" else "en"][key].format(**values)
