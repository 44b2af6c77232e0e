"""The command line's words, Japanese and English, in one place (the alerts' messages
have their own catalogue: alerts/messages.py). ``--lang`` picks, else the locale."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from common.yamlconf import ConfigError

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


# Why a config file cannot be used, in Japanese: the reasons that config loading
# (msgspec, YAML, files) and the checks give most; any other reason is shown as written.
_REASONS_JA: tuple[tuple[str, str], ...] = (
    (r"Object missing required field `(?P<k>[^`]*)`", "必須のキー `{k}` がありません"),
    (r"Expected `(?P<t>[^`]*)`, got `(?P<g>[^`]*)`", "{t} が必要ですが、{g} でした"),
    (r"Expected `(?P<t>[^`]*)` (?P<op>>=|<=|>|<) (?P<n>\S+)", "{n} {op} の {t} が必要です"),
    (r"Expected `(?P<t>[^`]*)` of length (?P<op>>=|<=) (?P<n>\S+)",
     "長さ {op} {n} の {t} が必要です"),
    (r"Expected `(?P<t>[^`]*)` matching regex (?P<r>.*)", "正規表現 {r} に合う {t} が必要です"),
    (r"Invalid enum value (?P<v>\S+?)(?:, expected one of: (?P<a>.*))?$",
     "使えない値 {v} です。使える値: {a}"),
    (r"unknown key \(.*\)", "知らないキーです（綴りと、説明にあるキーを確かめてください）"),
    (r"duplicate key", "キーが重複しています"),
    (r"cannot read: No such file or directory", "ファイルがありません"),
    (r"cannot read: (?P<e>.*)", "読めません: {e}"),
    (r"not valid YAML: (?P<e>.*)", "YAML として読めません: {e}"),
    (r"larger than (?P<n>\S+) bytes; not a config file",
     "{n} バイトを超えています。設定ファイルではありません"),
    (r"expected (?P<e>.*), found (?P<f>.*)", "{e} が必要ですが、{f} でした"),
    (r"no such site in (?P<w>.*)", "{w} にその拠点はありません"),
    (r"no files \(\*\.yaml\) found", "ファイル（*.yaml）が見つかりません"),
)  # fmt: skip


def config_error(error: ConfigError, lang: Lang) -> str:
    """A config error for the command line: where (file, line, key) and why."""
    if lang != "ja":
        return f"configuration error: {error}"
    reason = error.reason
    for pattern, japanese in _REASONS_JA:
        match = re.fullmatch(pattern, reason, flags=re.DOTALL)
        if match:
            reason = japanese.format(**{k: v or "" for k, v in match.groupdict().items()})
            break
    place = error.source if error.line is None else f"{error.source} {error.line} 行目"
    where = f"{place}: {error.key}" if error.key else place
    return f"設定の誤り: {where}: {reason}"
