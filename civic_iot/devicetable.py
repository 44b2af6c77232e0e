"""`civic-iot devices`: the device registry as a table for IT, in English or Japanese."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from civic_iot.terminal import printable, table
from gateway.fleetstate import DeviceState, agent_version, health_problems, state_of
from gateway.registry_db import DeviceRecord

Lang = Literal["en", "ja"]
TOKYO = ZoneInfo("Asia/Tokyo")

_HEADERS = {
    "en": ("DEVICE", "SITE", "STATE", "LAST SEEN", "AGENT", "CONFIG", "HEALTH", "SEQUENCE"),
    "ja": ("端末", "拠点", "状態", "最終受信", "版", "設定", "健全性", "連番"),
}
_STATES = {
    "en": {s: s.value for s in DeviceState},
    "ja": {
        DeviceState.ONLINE: "オンライン",
        DeviceState.SILENT: "無応答",
        DeviceState.OFFLINE: "オフライン",
        DeviceState.NEVER_SEEN: "未接続",
        DeviceState.UNKNOWN: "未登録",
    },
}
_WORDS = {
    "en": {"ok": "ok", "never": "never", "ago": "ago", "file": "config file", "devices": "devices",
           "pending": "v{desired} pending (runs v{running})", "rejected": "v{desired} REJECTED",
           "missing": "missing", "lost": "lost", "dup": "dup", "reset": "reset",
           "graceful": "graceful", "connection-lost": "connection-lost",
           "d": "d", "h": "h", "m": "m", "s": "s"},
    "ja": {"ok": "正常", "never": "なし", "ago": "前", "file": "設定ファイル", "devices": "台",
           "pending": "v{desired} 未適用（v{running} で稼働）", "rejected": "v{desired} 拒否",
           "missing": "欠け", "lost": "消失", "dup": "重複", "reset": "リセット",
           "graceful": "停止操作", "connection-lost": "接続断",
           "d": "日", "h": "時間", "m": "分", "s": "秒"},
}  # fmt: skip


def render(
    records: Sequence[DeviceRecord], now_ms: int, offline_after_s: float, lang: Lang = "en"
) -> str:
    rows: list[list[str]] = []
    counts: Counter[DeviceState] = Counter()
    for record in records:
        state = state_of(record, now_ms, offline_after_s)
        counts[state] += 1
        rows.append(list(_row(record, state, now_ms, lang)))
    lines = table(list(_HEADERS[lang]), rows).splitlines()
    summary = ", ".join(f"{counts[s]} {_STATES[lang][s]}" for s in DeviceState if counts[s])
    lines.append(f"\n{len(records)} {_WORDS[lang]['devices']}: {summary or '-'}")
    return "\n".join(lines)


def _row(record: DeviceRecord, state: DeviceState, now_ms: int, lang: Lang) -> tuple[str, ...]:
    words = _WORDS[lang]
    state_text = _STATES[lang][state]
    if state is DeviceState.OFFLINE and record.status_reason:
        state_text += f" ({words.get(record.status_reason, record.status_reason)})"
    return tuple(printable(cell) for cell in (
        record.device_id,
        record.site or "-",
        state_text,
        _seen(record.last_seen_ms, now_ms, words),
        agent_version(record.agent) or "-",
        _config(record, words),
        ", ".join(health_problems(record, lang)) or (words["ok"] if record.health else "-"),
        _sequence(record, words),
    ))  # fmt: skip


def _seen(ts_ms: int | None, now_ms: int, words: dict[str, str]) -> str:
    if ts_ms is None:
        return words["never"]
    local = datetime.fromtimestamp(ts_ms / 1000, tz=TOKYO).strftime("%m-%d %H:%M")
    return f"{local} ({_age((now_ms - ts_ms) / 1000, words)} {words['ago']})"


def _age(seconds: float, words: dict[str, str]) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{words[unit]}"
    return f"{max(0, int(seconds))}{words['s']}"


def _config(record: DeviceRecord, words: dict[str, str]) -> str:
    running = record.reported_version
    if record.desired_version is None:
        return words["file"] if running in (None, 0) else f"v{running}"
    if record.reported_desired != record.desired_version:
        return words["pending"].format(desired=record.desired_version, running=running or 0)
    if record.reported_state == "rejected":
        return words["rejected"].format(desired=record.desired_version)
    return f"v{record.desired_version}"


def _sequence(record: DeviceRecord, words: dict[str, str]) -> str:
    seq = record.sequence
    if seq.highest < 0:
        return "-"
    parts = [
        f"{words[label]} {count}"
        for label, count in (
            ("missing", seq.missing_count),
            ("lost", seq.lost),
            ("dup", seq.duplicates),
            ("reset", seq.resets),
        )
        if count
    ]
    return ", ".join(parts) or words["ok"]
