"""`civic-iot devices`: the device registry as a table for IT, in English or Japanese."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from civic_iot.terminal import printable
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
    "en": {"ok": "ok", "never": "never", "ago": "ago", "file": "config file", "devices": "devices"},
    "ja": {"ok": "正常", "never": "なし", "ago": "前", "file": "設定ファイル", "devices": "台"},
}


def render(
    records: Sequence[DeviceRecord], now_ms: int, offline_after_s: float, lang: Lang = "en"
) -> str:
    rows: list[tuple[str, ...]] = [_HEADERS[lang]]
    counts: Counter[DeviceState] = Counter()
    for record in records:
        state = state_of(record, now_ms, offline_after_s)
        counts[state] += 1
        rows.append(_row(record, state, now_ms, lang))
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    summary = ", ".join(f"{counts[s]} {_STATES[lang][s]}" for s in DeviceState if counts[s])
    lines.append(f"\n{len(records)} {_WORDS[lang]['devices']}: {summary or '-'}")
    return "\n".join(lines)


def _row(record: DeviceRecord, state: DeviceState, now_ms: int, lang: Lang) -> tuple[str, ...]:
    words = _WORDS[lang]
    state_text = _STATES[lang][state]
    if state is DeviceState.OFFLINE and record.status_reason:
        state_text += f" ({record.status_reason})"
    return tuple(printable(cell) for cell in (
        record.device_id,
        record.site or "-",
        state_text,
        _seen(record.last_seen_ms, now_ms, words),
        agent_version(record.agent) or "-",
        _config(record, words["file"]),
        ", ".join(health_problems(record)) or (words["ok"] if record.health else "-"),
        _sequence(record, words["ok"]),
    ))  # fmt: skip


def _seen(ts_ms: int | None, now_ms: int, words: dict[str, str]) -> str:
    if ts_ms is None:
        return words["never"]
    local = datetime.fromtimestamp(ts_ms / 1000, tz=TOKYO).strftime("%m-%d %H:%M")
    return f"{local} ({_age((now_ms - ts_ms) / 1000)} {words['ago']})"


def _age(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{max(0, int(seconds))}s"


def _config(record: DeviceRecord, file_word: str) -> str:
    running = record.reported_version
    if record.desired_version is None:
        return file_word if running in (None, 0) else f"v{running}"
    if record.reported_desired != record.desired_version:
        return f"v{record.desired_version} pending (runs v{running or 0})"
    if record.reported_state == "rejected":
        return f"v{record.desired_version} REJECTED"
    return f"v{record.desired_version}"


def _sequence(record: DeviceRecord, ok: str) -> str:
    seq = record.sequence
    if seq.highest < 0:
        return "-"
    parts = [
        f"{label} {count}"
        for label, count in (
            ("missing", seq.missing_count),
            ("lost", seq.lost),
            ("dup", seq.duplicates),
            ("reset", seq.resets),
        )
        if count
    ]
    return ", ".join(parts) or ok


def _width(text: str) -> int:
    # Japanese characters take two columns in a terminal.
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
