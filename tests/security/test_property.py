"""Property tests: whatever text a device, a driver or a person hands these parsers, they
answer with a result or their own error, never another exception. The benchmark run
(`bench/bench_fuzz.py`) drives them with 10⁵ examples each; CI with a few hundred."""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from common import yamlconf
from edge.collectors.wifi import parsers as wifi_parsers
from wire import PayloadError, decode_message
from wire.payloads import decode_plausible

EXAMPLES = int(os.environ.get("CIVIC_FUZZ_EXAMPLES", "300"))
# Text shaped like the tools' output: their keywords, tabs, colons, escapes, MACs.
iw_like = st.lists(
    st.sampled_from(["BSS ", "Connected to ", "Station ", "\t", "SSID: ", "signal: ", "freq: ",
                     "tx bitrate: ", "dBm", "MBit/s", "00:11:22:33:44:55", "(on wlan0)", "\n",
                     "\\x", "e3", "ff", ": ", "=", "ssid[0]=", "num_sta[0]=", "-", "42", "in use",
                     "channel busy time:", "noise:", "ms"]) | st.text(max_size=8),
    max_size=60,
).map("".join)  # fmt: skip
PARSERS = [wifi_parsers.parse_iw_link, wifi_parsers.parse_iw_scan,
           wifi_parsers.parse_station_dump, wifi_parsers.parse_survey_dump,
           wifi_parsers.parse_hostapd_all_sta, wifi_parsers.parse_hostapd_status]  # fmt: skip


@settings(max_examples=EXAMPLES, deadline=None)
@given(iw_like)
def test_wifi_parsers_never_raise(text: str) -> None:
    for parse in PARSERS:
        result = parse(text)
        assert (
            result is None or isinstance(result, list | dict | tuple) or hasattr(result, "_fields")
        )


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(max_size=300))
def test_the_yaml_loader_answers_with_a_document_or_a_config_error(text: str) -> None:
    try:
        document = yamlconf.parse(text, "fuzz.yaml")
    except yamlconf.ConfigError as exc:
        assert "fuzz.yaml" in str(exc)
    else:
        assert document.source == "fuzz.yaml"


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.binary(max_size=300))
def test_the_wire_decoder_answers_with_a_message_or_a_payload_error(data: bytes) -> None:
    for decode in (decode_message, lambda d: decode_plausible(d)[0]):
        try:
            message = decode(data)
        except PayloadError as exc:
            assert exc.reason
        else:
            assert message.readings
