"""Active probes against real local servers: a TCP listener, an HTTP connectivity check
that answers 204, and one that behaves like a captive portal."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from civic_iot.services import free_port
from edge.collectors.probe.collector import ProbeCollector
from edge.collectors.probe.config import DnsProbe, HttpProbe, ProbeConfig, TcpProbe


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/generate_204":
            self.send_response(204)
        else:  # the portal sends everyone to its login page
            self.send_response(302)
            self.send_header("Location", "http://portal.example/login")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def run(*probes: object) -> dict[tuple[str, str], object]:
    config = ProbeConfig(type="probe", probes=list(probes))  # type: ignore[arg-type]
    return {(r.quantity, r.sensor): r.value for r in ProbeCollector(config, "d").collect(0)}


def test_tcp_latency_jitter_and_loss() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        up = run(TcpProbe(name="gateway", host="127.0.0.1", port=port, count=4))
    assert up[("wifi.loss", "gateway")] == 0.0
    assert 0 < up[("wifi.latency", "gateway")] < 100  # type: ignore[operator]
    assert ("wifi.jitter", "gateway") in up
    down = run(
        TcpProbe(name="internet", host="127.0.0.1", port=free_port(), count=3, timeout_s=0.5)
    )
    assert down == {("wifi.loss", "internet"): 100.0}


def test_http_ok_and_captive_portal(web: str) -> None:
    good = run(HttpProbe(name="check", url=f"{web}/generate_204"))
    assert good[("wifi.internet_ok", "check")] is True
    assert good[("wifi.captive_portal", "check")] is False
    assert ("wifi.http_time", "check") in good
    portal = run(HttpProbe(name="check", url=f"{web}/anything"))
    assert portal[("wifi.captive_portal", "check")] is True
    assert portal[("wifi.internet_ok", "check")] is False


def test_unreachable_and_unresolvable() -> None:
    dead = run(HttpProbe(name="check", url=f"http://127.0.0.1:{free_port()}/", timeout_s=1))
    assert dead == {("wifi.internet_ok", "check"): False}
    assert run(DnsProbe(name="dns", hostname="localhost"))[("wifi.dns_time", "dns")] >= 0  # type: ignore[operator]
    assert run(DnsProbe(name="dns", hostname="no-such-host.invalid")) == {
        ("wifi.internet_ok", "dns"): False
    }
