"""The registry the gateway saves says which sequence numbers arrived. It must never say
so before their points are durable: a power cut that takes the gateway and the broker
together loses what was in flight from both, and only a gap in the saved sequence makes
the gateway ask the device for it again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from civic_iot.services import Mosquitto
from gateway import registry
from tests.e2e.stack import run_gateway
from tests.support.mqtt import publish_many, wait_for
from wire import Message, Reading, encode, now_ms, topics

pytestmark = pytest.mark.services
HOME = "home-a001-hub"


class HeldInflux(ThreadingHTTPServer):
    """A stand-in of InfluxDB 1.x's /write that holds every write until released."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Holding)
        self.held = threading.Event()  # a write has arrived and waits
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Holding(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HeldInflux

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.held.set()
        self.server.release.wait(60)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def held_influx() -> Iterator[HeldInflux]:
    server = HeldInflux()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def saved_highest(state: Path) -> int:
    """The highest sequence number of the home's hub in the registry file."""
    records = registry.read(state / "registry.sqlite3")
    return next(r.sequence.highest for r in records if r.device_id == HOME)


def test_the_saved_registry_never_says_a_message_arrived_before_its_points_are_durable(
    tmp_path: Path, mosquitto: Mosquitto, held_influx: HeldInflux, repo_root: Path
) -> None:
    influx = f"  url: {held_influx.url}\n  create_databases: false\n  timeout_s: 60"
    gateway = run_gateway(tmp_path, mosquitto, repo_root, influx,
                          extra="http_listen: null\nregistry_save_s: 0.2\n")  # fmt: skip
    state = tmp_path / "gateway-state" / "gw-test"
    reading = Reading("climate.temperature", 20.5, "Cel", sensor="kitchen")
    messages = [encode(Message(schema=1, seq=seq, ts=now_ms(), readings=[reading]))
                for seq in range(1, 6)]  # fmt: skip
    try:
        publish_many(mosquitto, [(topics.telemetry(HOME), m) for m in messages])
        wait_for(held_influx.held.is_set, what="the readings' write to InfluxDB")
        time.sleep(2)  # ten save intervals pass while InfluxDB holds the points
        assert saved_highest(state) < 1, "saved as received while not durable"
        held_influx.release.set()
        wait_for(lambda: saved_highest(state) == 5, what="the registry saved once durable")
    finally:
        held_influx.release.set()
        assert gateway.terminate() == 0, gateway.log()
