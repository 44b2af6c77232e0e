"""What fsync costs the outbox: commits per second with sync=full against sync=normal.

The agent commits once per collection round; this stores rounds of 3 messages of
~250 bytes and prints rounds/s for each policy and the ratio, in the same run on the
same disk. On a Pi's SD card the gap is wider than on a server's SSD.

Then what keeping acknowledged messages for the gateway's resend requests costs: whole
rounds (store, then remove after the PUBACK) with keep_sent 20,000 against 0.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.outbox import ROUTINE, Limits, Outbox

ROUNDS = 2000


def rounds_per_second(directory: Path, sync: str) -> float:
    outbox = Outbox(directory / f"{sync}.sqlite3", sync=sync)  # type: ignore[arg-type]
    payload = b"x" * 250
    started = time.perf_counter()
    seq = 0
    for round_number in range(ROUNDS):
        messages = [(ROUTINE, "t", payload) for _ in range(3)]
        seq += 3
        outbox.add(messages, seq, 1_763_856_000_000 + round_number)
    elapsed = time.perf_counter() - started
    outbox.close()
    return ROUNDS / elapsed


def round_trips_per_second(directory: Path, sent_rows: int) -> float:
    """Store a round and remove it as the broker acknowledges it (sync=full)."""
    outbox = Outbox(directory / f"kept-{sent_rows}.sqlite3", Limits(sent_rows=sent_rows))
    payload = b"x" * 250
    started = time.perf_counter()
    for round_number in range(ROUNDS):
        seq = 3 * (round_number + 1)
        outbox.add([(ROUTINE, "t", payload)] * 3, seq, 1_763_856_000_000 + round_number)
        outbox.remove([row.id for row in outbox.take(ROUTINE, 0, 2**62, 3)])
    elapsed = time.perf_counter() - started
    outbox.close()
    return ROUNDS / elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="civic-bench-outbox-", dir=Path.cwd()) as tmp:
        full = rounds_per_second(Path(tmp), "full")
        normal = rounds_per_second(Path(tmp), "normal")
    print(f"outbox commits (3 messages each), sync=full:   {full:,.0f}/s")
    print(f"outbox commits (3 messages each), sync=normal: {normal:,.0f}/s")
    print(f"ratio full / normal: {full / normal:.2f}x (the agent needs ~1 commit/s per collector)")
    with tempfile.TemporaryDirectory(prefix="civic-bench-outbox-", dir=Path.cwd()) as tmp:
        kept = round_trips_per_second(Path(tmp), 20_000)
        none = round_trips_per_second(Path(tmp), 0)
    print(f"store + acknowledge rounds, keeping sent messages for resends: {kept:,.0f}/s")
    print(f"store + acknowledge rounds, keeping none:                     {none:,.0f}/s")
    print(f"ratio kept / none: {kept / none:.2f}x")


if __name__ == "__main__":
    main()
