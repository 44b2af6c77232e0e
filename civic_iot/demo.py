"""`civic-iot demo`: the example city running on this machine.

Starts a private Mosquitto and InfluxDB (free loopback ports, state under one
directory), a gateway, and one simulated agent per device of firmware-config; shows
the data landing; stops everything it started on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import shlex
import threading
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from civic_iot.children import CliProcess
from civic_iot.cli import stop_on_signals
from civic_iot.mqttlink import MqttConfig
from civic_iot.services import InfluxDB, MissingBinaryError, Mosquitto, Service
from civic_iot.watch import wait_online
from gateway.schema import Databases
from provisioning.inventory import Inventory, Profile, load_inventory
from wire import topics

GATEWAY_ID = "demo-gateway"
SIMULATED_KINDS = {
    Profile.WIFI_PROBE: ["wifi"],
    Profile.FACILITY_ENERGY: ["energy", "climate"],
    Profile.WATCH_OVER_HOME: ["climate", "door", "motion"],
}
REPORT_EVERY_S = 10.0


def run_demo(args: argparse.Namespace) -> int:
    missing = missing_binaries([Mosquitto, InfluxDB])
    if missing:
        for problem in missing:
            print(f"civic-iot demo: {problem}")
        return 1
    inventory = load_inventory(args.inventory)
    state: Path = args.state_dir.resolve()
    stop = stop_on_signals()
    with ExitStack() as running:
        broker = Mosquitto(state / "mosquitto")
        influx = InfluxDB(state / "influxdb")
        for service in (broker, influx):
            service.start()
            running.callback(service.stop)
        gateway = _start_gateway(state, broker, influx, inventory)
        running.callback(gateway.terminate)
        agents = _start_agents(state, broker, inventory, args.interval)
        for agent in agents:
            running.callback(agent.terminate)
        _print_banner(state, broker, influx, gateway, agents)
        _report_until_stopped(influx, stop, args.duration)
        print("\nstopping: agents, gateway, InfluxDB, Mosquitto ...")
    print("stopped everything the demo started; data stays in", state)
    return 0


def missing_binaries(services: list[type[Service]]) -> list[str]:
    problems = []
    for service in services:
        try:
            service.find_binary()
        except MissingBinaryError as exc:
            problems.append(str(exc))
    return problems


def _start_gateway(
    state: Path, broker: Mosquitto, influx: InfluxDB, inventory: Inventory
) -> CliProcess:
    config = state / "config" / f"{GATEWAY_ID}.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        json.dumps(
            {
                "gateway_id": GATEWAY_ID,
                "inventory": str(inventory.root.resolve()),
                "mqtt": {"host": broker.host, "port": broker.port},
                "influx": {"dialect": "v1", "url": influx.url},
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    gateway = CliProcess(state / "logs" / "gateway.log", "gateway", "run", "--config", str(config))
    mqtt_config = MqttConfig(host=broker.host, port=broker.port)
    if not wait_online(mqtt_config, topics.service_status(GATEWAY_ID)):
        gateway.kill()
        raise SystemExit(f"the gateway did not start; see {gateway.log_path}")
    return gateway


def _start_agents(
    state: Path, broker: Mosquitto, inventory: Inventory, interval_s: float
) -> list[CliProcess]:
    agents = []
    for device_id, placement in inventory.devices.items():
        config = state / "config" / f"{device_id}.yaml"
        collectors = [
            {"type": "system", "interval_s": max(30.0, interval_s)},
            {
                "type": "simulated",
                "interval_s": interval_s,
                "kinds": SIMULATED_KINDS[placement.device.profile],
                "timezone": placement.site.timezone,
            },
        ]
        body = {
            "device_id": device_id,
            "mqtt": {"host": broker.host, "port": broker.port},
            "collectors": collectors,
        }
        config.write_text(json.dumps(body, indent=2), encoding="utf-8")
        log = state / "logs" / f"{device_id}.log"
        agents.append(CliProcess(log, "edge", "run", "--config", str(config)))
    return agents


def _print_banner(
    state: Path, broker: Mosquitto, influx: InfluxDB, gateway: CliProcess, agents: list[CliProcess]
) -> None:
    print("civic-iot demo: the example city of Abashiri is running\n")
    print(f"  {'component':<28} {'pid':>7}  address / log")
    print(
        f"  {'Mosquitto (MQTT broker)':<28} {_pid(broker):>7}  mqtt://{broker.host}:{broker.port}"
    )
    print(f"  {'InfluxDB 1.x':<28} {_pid(influx):>7}  {influx.url}")
    print(f"  {'gateway':<28} {gateway.pid:>7}  {gateway.log_path}")
    for agent in agents:
        name = f"agent {agent.log_path.stem}"
        print(f"  {name:<28} {agent.pid:>7}  {agent.log_path}")
    databases = Databases()
    query = urllib.parse.quote("SELECT * FROM climate ORDER BY time DESC LIMIT 5")
    print("\nLook at the data:")
    stream = shlex.quote(topics.ROOT + "/#")
    print(f"  watch the MQTT stream:  mosquitto_sub -p {broker.port} -t {stream} -v")
    print(
        f"  query InfluxDB:         curl -s '{influx.url}/query?db={databases.watch_over}"
        f"&pretty=true&q={query}'"
    )
    print(f"  databases:              {', '.join(databases.all())} (see docs/influxdb-schema.md)")
    print(f"  state, configs, logs:   {state}")
    print("\nPress Ctrl-C to stop everything.\n")


def _pid(service: Service) -> int:
    return service.process.pid if service.process else 0


def _report_until_stopped(influx: InfluxDB, stop: threading.Event, duration_s: float) -> None:
    started = time.monotonic()
    next_report = started + min(REPORT_EVERY_S, duration_s or REPORT_EVERY_S)
    while not stop.is_set():
        if duration_s and time.monotonic() - started >= duration_s:
            break
        if time.monotonic() >= next_report:
            _print_counts(influx)
            next_report += REPORT_EVERY_S
        stop.wait(0.2)
    if duration_s:
        _print_counts(influx)


def _print_counts(influx: InfluxDB) -> None:
    counts = point_counts(influx, Databases().all())
    print(f"data landing: {', '.join(f'{db} {n}' for db, n in counts.items())} points", flush=True)


def point_counts(influx: InfluxDB, databases: list[str]) -> dict[str, int]:
    """Points stored per database (the largest field count of each measurement, summed)."""
    counts = {}
    for database in databases:
        params = urllib.parse.urlencode({"db": database, "q": "SELECT count(*) FROM /.*/"})
        try:
            with urllib.request.urlopen(f"{influx.url}/query?{params}", timeout=5) as response:  # noqa: S310
                result = json.load(response)["results"][0]
        except OSError:
            counts[database] = 0
            continue
        counts[database] = sum(
            max(v for v in series["values"][0][1:] if v is not None)
            for series in result.get("series", [])
        )
    return counts
