"""Parsers for `iw` and `hostapd_cli` output: text in, typed records out.

Tolerant of what differs between drivers and iw versions: tabs or spaces, `key: value`
or `key:value`, fields a driver does not report (None), per-chain signals
(`-66 [-69, -69, -82] dBm`), positive signals from drivers that print them. Lines they
do not know are skipped, never an error. MAC addresses appear in the records because
the collector needs them in memory; it never publishes, logs or stores them.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_MAC = r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}"
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class Link(NamedTuple):
    bssid: str
    ssid: str | None
    freq_mhz: int | None
    signal_dbm: float | None
    tx_bitrate_mbps: float | None


class Bss(NamedTuple):
    bssid: str
    ssid: str | None
    freq_mhz: int | None
    signal_dbm: float | None


class Station(NamedTuple):
    mac: str
    signal_dbm: float | None
    tx_bitrate_mbps: float | None
    rx_bytes: int | None
    tx_bytes: int | None
    connected_s: int | None


class Survey(NamedTuple):
    freq_mhz: int
    in_use: bool
    noise_dbm: float | None
    active_ms: int | None
    busy_ms: int | None


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    match = _NUMBER.search(text)
    return float(match.group()) if match else None


def _integer(text: str | None) -> int | None:
    value = _number(text)
    return None if value is None else int(value)


def _fields(block: list[str]) -> dict[str, str]:
    """`key: value` lines of one block; the first occurrence of a key wins."""
    fields: dict[str, str] = {}
    for line in block:
        key, sep, value = line.strip().partition(":")
        if sep and key and key not in fields:
            fields[key.strip().lower()] = value.strip()
    return fields


def _blocks(text: str, header: re.Pattern[str]) -> list[tuple[re.Match[str], list[str]]]:
    """Split output into blocks, each starting at a line that matches ``header``."""
    blocks: list[tuple[re.Match[str], list[str]]] = []
    for line in text.splitlines():
        match = header.match(line.strip())
        if match:
            blocks.append((match, []))
        elif blocks:
            blocks[-1][1].append(line)
    return blocks


_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\(.)")


def unescape_ssid(text: str | None) -> str | None:
    """An SSID as people read it: iw and hostapd print bytes outside printable ASCII as
    ``\\xNN`` (a Japanese SSID arrives as ``\\xe5\\x9b\\xb3...``); UTF-8 first, then
    Shift_JIS (older Japanese access points), else replacement characters."""
    if text is None or "\\" not in text:
        return text
    raw = bytearray()
    position = 0
    for match in _ESCAPE.finditer(text):
        raw += text[position : match.start()].encode("utf-8", "replace")
        raw += bytes([int(match[1], 16)]) if match[1] else match[2].encode("utf-8", "replace")
        position = match.end()
    raw += text[position:].encode("utf-8", "replace")
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def parse_iw_link(text: str) -> Link | None:
    """`iw dev <if> link`: the station's association, or None when not connected."""
    blocks = _blocks(text, re.compile(rf"^Connected to ({_MAC})"))
    if not blocks:
        return None
    match, lines = blocks[0]
    fields = _fields(lines)
    return Link(
        match.group(1).lower(),
        unescape_ssid(fields.get("ssid")),
        _integer(fields.get("freq")),
        _number(fields.get("signal")),
        _number(fields.get("tx bitrate")),
    )


def parse_iw_scan(text: str) -> list[Bss]:
    """`iw dev <if> scan`: every BSS heard."""
    result = []
    for match, lines in _blocks(text, re.compile(rf"^BSS ({_MAC})")):
        fields = _fields(lines)
        result.append(
            Bss(
                match.group(1).lower(),
                unescape_ssid(fields.get("ssid")),
                _integer(fields.get("freq")),
                _number(fields.get("signal")),
            )
        )
    return result


def parse_station_dump(text: str) -> list[Station]:
    """`iw dev <if> station dump`: the clients of an access point."""
    result = []
    for match, lines in _blocks(text, re.compile(rf"^Station ({_MAC})")):
        fields = _fields(lines)
        result.append(
            Station(
                match.group(1).lower(),
                _number(fields.get("signal avg") or fields.get("signal")),
                _number(fields.get("tx bitrate")),
                _integer(fields.get("rx bytes")),
                _integer(fields.get("tx bytes")),
                _integer(fields.get("connected time")),
            )
        )
    return result


def parse_survey_dump(text: str) -> list[Survey]:
    """`iw dev <if> survey dump`: per-channel noise and time counters."""
    result = []
    for _, lines in _blocks(text, re.compile(r"^Survey data from")):
        fields = _fields(lines)
        freq = _integer(fields.get("frequency"))
        if freq is None:
            continue
        result.append(
            Survey(
                freq,
                "[in use]" in fields.get("frequency", ""),
                _number(fields.get("noise")),
                _integer(fields.get("channel active time")),
                _integer(fields.get("channel busy time")),
            )
        )
    return result


def parse_hostapd_all_sta(text: str) -> list[Station]:
    """`hostapd_cli all_sta`: a MAC line, then `key=value` lines, per station."""
    result = []
    for match, lines in _blocks(text, re.compile(rf"^({_MAC})$")):
        values = dict(line.strip().partition("=")[::2] for line in lines if "=" in line)
        rate = _integer(values.get("tx_rate_info"))  # in 100 kbit/s
        result.append(
            Station(
                match.group(1).lower(),
                _number(values.get("signal")),
                None if rate is None else rate / 10,
                _integer(values.get("rx_bytes")),
                _integer(values.get("tx_bytes")),
                _integer(values.get("connected_time")),
            )
        )
    return result


def parse_hostapd_status(text: str) -> dict[str, str]:
    """`hostapd_cli status`: `key=value` lines (state, ssid[0], channel, num_sta[0]...)."""
    return {
        key.strip(): value.strip()
        for key, sep, value in (line.partition("=") for line in text.splitlines())
        if sep and key.strip()
    }
