"""The agent's recent log for IT: personal data out before a line is kept, newest lines
within the size asked for, and the buffer bounded."""

from __future__ import annotations

import logging

from edge.logbuffer import LogBuffer, redact


def test_mac_e_mail_and_phone_numbers_never_leave_the_device() -> None:
    line = ("beacon AA:BB:CC:11:22:33 near hanako@example.jp, call +81 90-1234-5678 "
            "or 0152-44-6111; seq 12345 at 2026-11-30 07:10:59")  # fmt: skip
    cleaned = redact(line)
    assert "AA:BB" not in cleaned and "hanako" not in cleaned and "1234-5678" not in cleaned
    assert "0152" not in cleaned
    assert cleaned.count("<mac>") == 1 and "<e-mail>" in cleaned and cleaned.count("<phone>") == 2
    assert "seq 12345 at 2026-11-30 07:10:59" in cleaned  # numbers that are not personal stay


def test_the_newest_lines_within_the_size_asked_and_a_bounded_buffer() -> None:
    logger = logging.getLogger("test.logbuffer")
    logger.setLevel(logging.INFO)
    buffer = LogBuffer(kept_bytes=20_000)
    logger.addHandler(buffer)
    try:
        for n in range(1_000):
            logger.info("line %04d from aa-bb-cc-dd-ee-ff", n)
    finally:
        logger.removeHandler(buffer)
    everything = buffer.recent(0, 1_000_000)
    assert sum(len(line) + 1 for line in everything) <= 20_000  # the oldest went
    assert everything[-1].endswith("line 0999 from <mac>")
    last = buffer.recent(0, 500)
    assert 0 < sum(len(line) + 1 for line in last) <= 500 and last[-1] == everything[-1]
