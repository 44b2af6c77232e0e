"""A stand-in of InfluxDB 1.x's /write for what a real InfluxDB will not do on cue:
take its time (so overlapping writes show), refuse the first writes with 503, or hold
every write until released. It keeps what it took."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class InfluxWrites(ThreadingHTTPServer):
    def __init__(self, *, refuse: int = 0, delay_s: float = 0.0, held: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.refuse = refuse
        self.delay_s = delay_s
        self.arrived = threading.Event()  # a write has come
        self.release = threading.Event()  # held writes are answered once set
        if not held:
            self.release.set()
        self.lines: list[str] = []
        self.sizes: list[int] = []  # lines of each request taken
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive, as InfluxDB does
    server: InfluxWrites

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        with self.server.lock:
            self.server.in_flight += 1
            self.server.most_in_flight = max(self.server.most_in_flight, self.server.in_flight)
            refused = self.server.refuse > 0
            self.server.refuse -= refused
        self.server.arrived.set()
        self.server.release.wait(60)
        time.sleep(self.server.delay_s)
        with self.server.lock:
            self.server.in_flight -= 1
            if not refused:
                self.server.lines += body.split("\n")
                self.server.sizes.append(body.count("\n") + 1)
        self.send_response(503 if refused else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(server: InfluxWrites) -> Iterator[InfluxWrites]:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
