"""Active probes of a facility's Wi-Fi from the inside: can people get online?

- ``tcp``: latency, jitter and loss of TCP connects to a host (the local gateway, an
  Internet target); TCP rather than ICMP, so no root and no `ping` binary.
- ``dns``: time to resolve a name through the system's resolver.
- ``http``: time to fetch a URL, whether the Internet answered as expected, and whether
  a captive portal intercepted it (an unexpected status, or a redirect elsewhere).
Each reading carries the probe's name as its sensor.
"""

from __future__ import annotations

import itertools
import socket
import time
import urllib.error
import urllib.request

from edge.collectors.base import PolledCollector
from edge.collectors.probe.config import DnsProbe, HttpProbe, ProbeConfig, TcpProbe
from wire import Reading


class ProbeCollector(PolledCollector):
    def __init__(self, config: ProbeConfig, device_id: str) -> None:
        self.name = config.name
        self.interval_s = config.interval_s
        self._probes = config.probes

    def collect(self, now_ms: int) -> list[Reading]:
        readings: list[Reading] = []
        for probe in self._probes:
            if isinstance(probe, TcpProbe):
                readings += tcp_readings(probe)
            elif isinstance(probe, DnsProbe):
                readings += dns_readings(probe)
            else:
                readings += http_readings(probe)
        return readings


def tcp_readings(probe: TcpProbe) -> list[Reading]:
    times = []
    for _ in range(probe.count):
        started = time.perf_counter()
        try:
            with socket.create_connection((probe.host, probe.port), timeout=probe.timeout_s):
                times.append((time.perf_counter() - started) * 1000)
        except OSError:
            continue
    loss = 100.0 * (probe.count - len(times)) / probe.count
    readings = [Reading("wifi.loss", round(loss, 1), "%", sensor=probe.name)]
    if times:
        readings.append(
            Reading("wifi.latency", round(sum(times) / len(times), 2), "ms", sensor=probe.name)
        )
    if len(times) > 1:
        jitter = sum(abs(a - b) for a, b in itertools.pairwise(times)) / (len(times) - 1)
        readings.append(Reading("wifi.jitter", round(jitter, 2), "ms", sensor=probe.name))
    return readings


def dns_readings(probe: DnsProbe) -> list[Reading]:
    started = time.perf_counter()
    try:
        socket.getaddrinfo(probe.hostname, None)
    except OSError:
        return [Reading("wifi.internet_ok", False, "1", sensor=probe.name)]
    return [
        Reading(
            "wifi.dns_time",
            round((time.perf_counter() - started) * 1000, 2),
            "ms",
            sensor=probe.name,
        )
    ]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is what a captive portal does: report it, do not follow


_OPENER = urllib.request.build_opener(_NoRedirect)


def http_readings(probe: HttpProbe) -> list[Reading]:
    started = time.perf_counter()
    try:
        with _OPENER.open(probe.url, timeout=probe.timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError):
        return [Reading("wifi.internet_ok", False, "1", sensor=probe.name)]
    elapsed = round((time.perf_counter() - started) * 1000, 2)
    ok = status == probe.expect_status
    return [
        Reading("wifi.http_time", elapsed, "ms", sensor=probe.name),
        Reading("wifi.internet_ok", ok, "1", sensor=probe.name),
        Reading("wifi.captive_portal", not ok, "1", sensor=probe.name),
    ]
