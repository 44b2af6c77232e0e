"""Run `civic-iot` commands as child processes, the way systemd would (demo, tests)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path


class CliProcess:
    def __init__(self, log_path: Path, *args: str) -> None:
        self.log_path = log_path
        self.args = args
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "civic_iot", *args], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def terminate(self, timeout_s: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")
