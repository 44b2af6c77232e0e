"""A Raspberry Pi's systemd, played for the demo and the tests on a machine without one:
the agent runs from ``<prefix>/current`` and is started again whenever it exits (the
unit's ``Restart=always``), and the installer runs as soon as the agent asks for a
release (civic-iot-update.path). Everything else is the real thing: the installer is
the bundle's ``install-release.py``, the agent the installed release's own."""

from __future__ import annotations

import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import releases

POLL_S = 0.2


class DeviceHost:
    def __init__(
        self, root: Path, config: Path, state: Path, key: Path, agent_args: tuple[str, ...] = ()
    ) -> None:
        self.root, self.config, self.state, self.key = root, config, state, key
        self.agent_args = agent_args  # e.g. --stand-ins for the demo's hardware
        self.prefix = root / "opt"
        self.log_path = root / "agent.log"
        self._pid_file = root / "agent.pid"
        self._agent: subprocess.Popen[bytes] | None = None
        self._installer: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="device-host", daemon=True)
        self.starts = 0

    def install(self, source: str, version: str | None = None) -> str:
        """What firstboot.sh does: the installer kept beside the releases, and a release."""
        self.prefix.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(releases.__file__, self.installer)
        command = [sys.executable, str(self.installer), "--source", source, "--key",
                   str(self.key), "--prefix", str(self.prefix), "--no-compile"]  # fmt: skip
        result = subprocess.run([*command, *(["--version", version] if version else [])],
                                capture_output=True, text=True, check=False)  # fmt: skip
        if result.returncode != 0:
            raise releases.ReleaseError(result.stderr.strip())
        return result.stdout.strip()

    @property
    def installer(self) -> Path:
        return self.prefix / "install-release.py"

    def running_version(self) -> str | None:
        return releases.installed_version(self.prefix)

    def start(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        for process in (self._installer, self._agent):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._agent is None or self._agent.poll() is not None:
                self._start_agent()
            installing = self._installer is not None and self._installer.poll() is None
            if not installing and (self.state / releases.REQUEST).exists():
                self._start_installer()
            self._stop.wait(POLL_S)

    def _start_agent(self) -> None:
        if self._agent is not None:
            time.sleep(0.5)  # RestartSec
        binary = self.prefix / "current" / "bin" / "civic-iot"
        with self.log_path.open("ab") as log:
            self._agent = subprocess.Popen(
                [str(binary), "edge", "run", "--config", str(self.config), *self.agent_args],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self._pid_file.write_text(str(self._agent.pid), encoding="utf-8")
        self.starts += 1

    def _start_installer(self) -> None:
        restart = f"kill -TERM $(cat {shlex.quote(str(self._pid_file))})"
        command = [sys.executable, str(self.installer), "--apply-request", str(self.state),
                   "--prefix", str(self.prefix), "--key", str(self.key), "--no-compile",
                   "--restart-command", f"sh -c {shlex.quote(restart)}"]  # fmt: skip
        with (self.root / "installer.log").open("ab") as log:
            self._installer = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
