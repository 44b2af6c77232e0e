"""Property tests at scale: 10⁵ generated inputs for each parser that takes outside
data (the wire decoder, BLE decoders, Wi-Fi parsers, the YAML loader); prints inputs per
second and whether any raised anything but the module's own error (goal: none)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from benchlib import REPO

PROPERTY = "tests/security/test_property.py::"
TESTS = {
    "wire decoder": PROPERTY + "test_the_wire_decoder_answers_with_a_message_or_a_payload_error",
    "Wi-Fi parsers": PROPERTY + "test_wifi_parsers_never_raise",
    "YAML loader": PROPERTY + "test_the_yaml_loader_answers_with_a_document_or_a_config_error",
    "BLE decoders": "tests/edge/test_ble.py::test_decoders_raise_only_their_own_error",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=100_000)
    args, _ = parser.parse_known_args()
    env = {**os.environ, "CIVIC_FUZZ_EXAMPLES": str(args.examples)}
    failed = 0
    for name, test in TESTS.items():
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
            cwd=REPO, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        ok = result.returncode == 0
        failed += not ok
        print(f"{name:<14} {args.examples:>8,} inputs in {seconds:6.1f} s "
              f"({args.examples / seconds:,.0f}/s): {'no crash' if ok else 'FAILED'}")  # fmt: skip
        if not ok:
            print(result.stdout[-2000:])
    print(f"parsers with a crash: {failed} (goal 0)")


if __name__ == "__main__":
    main()
