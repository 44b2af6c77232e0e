"""Run real Mosquitto, InfluxDB 1.x and VictoriaMetrics instances for tests and the demo.

Each instance listens on a free loopback port with its own config and state directory,
so tests can stop, kill and restart it without touching any broker or database the
machine already runs (a Mosquitto on 1883, an InfluxDB on 8086).
"""

from __future__ import annotations

import getpass
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import ClassVar

LOOPBACK = "127.0.0.1"


class ServiceError(Exception):
    """A service that could not be started or stopped; says which and why."""


class MissingBinaryError(ServiceError):
    def __init__(self, binary: str, package: str) -> None:
        self.binary = binary
        self.package = package
        super().__init__(
            f"{binary} is not installed: install it with `sudo apt-get install {package}` "
            "(scripts/test and scripts/demo do this for you)"
        )


_EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST_PORT = 10_000
_handed_out: set[int] = set()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in _EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return 32_768, 60_999
    return low, high


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port nobody listens on, outside the kernel's ephemeral range.

    A port from the ephemeral range can be taken between a server's stop and restart as
    some client's source port, and a client retrying a connection to a stopped server
    can even connect to itself on it (TCP simultaneous open) and hold it for minutes.
    Ports below the range are never chosen by the kernel for outgoing connections.
    """
    low, high = _ephemeral_range()
    candidates = [port for port in range(_LOWEST_PORT, 65_535) if not low <= port <= high]
    for _ in range(200):
        port = random.choice(candidates)  # noqa: S311 - not security relevant
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise ServiceError(f"no free loopback port outside the ephemeral range {low}-{high}")


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((LOOPBACK, port)) == 0


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:  # noqa: S310 - loopback
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


class Service:
    """One server process with a state directory; start, stop, kill, restart."""

    name: ClassVar[str]
    binary: ClassVar[str]
    package: ClassVar[str]

    def __init__(self, state_dir: Path, port: int | None = None) -> None:
        self.state_dir = state_dir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = state_dir / f"{self.name}.log"

    @classmethod
    def find_binary(cls) -> str:
        path = shutil.which(cls.binary) or shutil.which(cls.binary, path="/usr/sbin:/usr/bin")
        if path is None:
            raise MissingBinaryError(cls.binary, cls.package)
        return path

    def command(self, binary: str) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return _port_open(self.port)

    def start(self, timeout_s: float = 30.0) -> None:
        binary = self.find_binary()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout_s
        self._launch(binary)
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                # Started again on its own port, it may find the port briefly held as
                # some client's ephemeral source port: try again until the deadline.
                if (
                    "address already in use" in self.log_tail(3).lower()
                    and time.monotonic() + 1 < deadline
                ):
                    time.sleep(0.5)
                    self._launch(binary)
                    continue
                raise ServiceError(
                    f"{self.name} exited with {self.process.returncode} at start: {self.log_tail()}"
                )
            if self.ready():
                return
            time.sleep(0.05)
        self.kill()
        raise ServiceError(f"{self.name} did not answer on port {self.port} within {timeout_s}s")

    def _launch(self, binary: str) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(binary), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop cleanly (SIGTERM), as a service manager would."""
        self._signal(signal.SIGTERM, timeout_s)

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a power cut would."""
        self._signal(signal.SIGKILL, 10.0)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _signal(self, signum: int, timeout_s: float) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signum)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class Mosquitto(Service):
    name = "mosquitto"
    binary = "mosquitto"
    package = "mosquitto"

    def __init__(self, state_dir: Path, port: int | None = None, extra_config: str = "") -> None:
        super().__init__(state_dir, port)
        self.extra_config = extra_config
        self.config_path = state_dir / "mosquitto.conf"

    @property
    def host(self) -> str:
        return LOOPBACK

    def command(self, binary: str) -> list[str]:
        self.config_path.write_text(self.config_text(), encoding="utf-8")
        return [binary, "-c", str(self.config_path)]

    def config_text(self) -> str:
        # Persistence on and a deep queue: Mosquitto's defaults (no persistence,
        # max_queued_messages 1000) drop QoS 1 messages while still sending PUBACK.
        return "\n".join(
            [
                # Started as root, Mosquitto would drop to user mosquitto and then could
                # not write its persistence file in our state directory.
                f"user {getpass.getuser()}",
                f"listener {self.port} {LOOPBACK}",
                "allow_anonymous true",
                "persistence true",
                f"persistence_location {self.state_dir}/",
                "autosave_interval 5",
                "max_queued_messages 1000000",
                "max_inflight_messages 100",
                "log_type error",
                "log_type warning",
                "log_type notice",
                self.extra_config,
                "",
            ]
        )


class ProvisionedMosquitto(Mosquitto):
    """Mosquitto running a config that `civic-iot provision` rendered (TLS, passwords,
    ACLs); ``port`` is its loopback listener, used to see that it is up."""

    def __init__(self, config_path: Path, port: int, tls_port: int) -> None:
        super().__init__(config_path.parent, port)
        self.config_path = config_path
        self.tls_port = tls_port

    def command(self, binary: str) -> list[str]:
        return [binary, "-c", str(self.config_path)]

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads its password and ACL files."""
        if self.process is not None:
            self.process.send_signal(signal.SIGHUP)


class InfluxDB(Service):
    """InfluxDB 1.x (Debian's influxdb), answering /write and InfluxQL on /query."""

    name = "influxdb"
    binary = "influxd"
    package = "influxdb"

    def __init__(self, state_dir: Path, port: int | None = None) -> None:
        super().__init__(state_dir, port)
        self.rpc_port = free_port()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def command(self, binary: str) -> list[str]:
        config = self.state_dir / "influxdb.conf"
        config.write_text(self._config_text(), encoding="utf-8")
        return [binary, "-config", str(config)]

    def ready(self) -> bool:
        return _http_ok(f"{self.url}/ping")

    def _config_text(self) -> str:
        state = self.state_dir
        return f"""reporting-disabled = true
bind-address = "{LOOPBACK}:{self.rpc_port}"
[meta]
  dir = "{state}/meta"
[data]
  dir = "{state}/data"
  wal-dir = "{state}/wal"
  query-log-enabled = false
[http]
  bind-address = "{LOOPBACK}:{self.port}"
  log-enabled = false
[monitor]
  store-enabled = false
[logging]
  level = "warn"
"""


class VictoriaMetrics(Service):
    """VictoriaMetrics single node; it serves InfluxDB's /api/v2/write."""

    name = "victoria-metrics"
    binary = "victoria-metrics"
    package = "victoria-metrics"

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def command(self, binary: str) -> list[str]:
        return [
            binary,
            f"-storageDataPath={self.state_dir / 'data'}",
            f"-httpListenAddr={LOOPBACK}:{self.port}",
            "-retentionPeriod=100y",
            # Recent samples become visible at once, and a replayed sample with the
            # same series and timestamp is stored once, as in InfluxDB.
            "-search.latencyOffset=0s",
            "-dedup.minScrapeInterval=1ms",
            "-loggerLevel=WARN",
        ]

    def ready(self) -> bool:
        return _http_ok(f"{self.url}/health")


def process_rss_peak_kib(pid: int) -> int:
    """Peak resident memory (VmHWM) of a running process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise ServiceError(f"no VmHWM for pid {pid}")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
