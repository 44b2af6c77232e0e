"""`civic-iot demo`: the example city running on this machine.

Starts a private Mosquitto and InfluxDB (free loopback ports, state under one
directory), a gateway, and one simulated agent per device of firmware-config; shows
the data landing; stops everything it started on Ctrl-C.
"""

from __future__ import annotations

import argparse
import getpass
import json
import shlex
import threading
import time
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import msgspec
import yaml

from civic_iot import demo_report
from civic_iot.children import CliProcess
from civic_iot.demo_alerts import PANIC_DEVICE, DemoAlerts, panic_press
from civic_iot.demo_devices import DemoPeers, demo_collectors
from civic_iot.demo_replay import show_replay
from civic_iot.demo_report import query_influx
from civic_iot.demo_rollout import DemoRollout
from civic_iot.demo_scenario import Scenario, ScenarioPlan
from civic_iot.outage import CuttableLink
from civic_iot.services import (
    InfluxDB,
    MissingBinaryError,
    Mosquitto,
    ProvisionedMosquitto,
    Service,
    free_port,
)
from civic_iot.standins.facility import ConnectivityCheck, FacilityMeters
from civic_iot.watch import wait_online
from common.city.inventory import Inventory, load_inventory
from common.mqttlink import MqttConfig
from common.signals import stop_on_signals
from gateway.schema import Databases
from provisioning.provision import Endpoint, Provisioner
from wire import topics

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
        provisioner = _provision(inventory, state)
        broker = ProvisionedMosquitto(
            provisioner.state / "broker" / "mosquitto.conf",
            provisioner.endpoint.local_port,
            provisioner.endpoint.port,
        )
        influx = InfluxDB(state / "influxdb")
        for service in (broker, influx):
            service.start()
            running.callback(service.stop)
        gateway = _start_gateway(state, provisioner, influx)
        running.callback(gateway.terminate)
        alerts = DemoAlerts(state, _service_mqtt(provisioner, "alerts"), running)
        peers, check = _start_peers(running)
        plan = _scenario_plan(provisioner, args, peers)
        relay = CuttableLink(provisioner.endpoint.port)
        agents = _start_agents(
            state,
            provisioner,
            (args.interval, peers),
            {plan.outage_device: relay.port},
            {PANIC_DEVICE: panic_press()},
        )
        for agent in agents.values():
            running.callback(agent.terminate)
        # Stop alerts before the agents: their goodbyes are not incidents.
        running.callback(alerts.service.terminate)
        _print_banner(state, provisioner, (broker, influx), gateway, list(agents.values()))
        print("\n".join(alerts.banner()))
        demo_report.provision_grafana(state, influx.url)
        print("\nPress Ctrl-C to stop everything.\n", flush=True)
        console = _service_mqtt(provisioner, "it")[1]
        scenario = Scenario(plan, console, _service_mqtt(provisioner, "monitor")[1], relay)
        scenario.start()
        running.callback(scenario.stop)
        alerts.start_incidents(check)
        if args.rollout:
            rollout = DemoRollout(state, provisioner, agents)
            rollout.start()
            running.callback(rollout.stop)
        _report_until_stopped(influx, stop, args.duration)
        alerts.report()
        show_replay(alerts.config, state / "replay")
        demo_report.print_open_alerts(influx)
        demo_report.print_operations(influx)
        demo_report.print_registry(state / "config" / "gateway.yaml")
        demo_report.write_reports(state, state / "config" / "gateway.yaml")
        print("\nstopping: agents, gateway, InfluxDB, Mosquitto ...")
    print("stopped everything the demo started; data stays in", state)
    return 0


def _provision(inventory: Inventory, state: Path) -> Provisioner:
    """The example city's broker files, credentials and certificates, for this machine."""
    endpoint = Endpoint("127.0.0.1", free_port(), free_port(), listen_address="127.0.0.1")
    provisioner = Provisioner(
        inventory, state / "provision", endpoint, broker_user=getpass.getuser()
    )
    provisioner.provision()
    return provisioner


def missing_binaries(services: list[type[Service]]) -> list[str]:
    problems = []
    for service in services:
        try:
            service.find_binary()
        except MissingBinaryError as exc:
            problems.append(str(exc))
    return problems


def _service_mqtt(provisioner: Provisioner, role: str, nth: int = 0) -> tuple[str, MqttConfig]:
    """The nth service account of a role and its MQTT settings (loopback listener).
    The broker allows one session per account, so each tool needs its own."""
    account = [s for s in provisioner.inventory.city.services if s.role == role][nth]
    directory = provisioner.service_dir(account.id)
    settings = msgspec.json.decode((directory / "mqtt.json").read_bytes(), type=MqttConfig)
    return account.id, settings.relative_to(directory)


def _start_gateway(state: Path, provisioner: Provisioner, influx: InfluxDB) -> CliProcess:
    gateway_id, mqtt = _service_mqtt(provisioner, "gateway")
    config = state / "config" / "gateway.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "gateway_id": gateway_id,
        "inventory": str(provisioner.inventory.root.resolve()),
        "mqtt": msgspec.to_builtins(mqtt),
        "influx": {"dialect": "v1", "url": influx.url},
        # Figures and silence show within the demo's first minutes.
        "ops_interval_s": 5,
        "offline_after_s": 120,
        "http_listen": f"127.0.0.1:{free_port()}",
        # The demo's rollout: releases built into <state>/releases, homes at once.
        "rollouts": {"source": str(state / "releases"), "home_window": "", "deadline_s": 60,
                     "check_s": 1},
    }  # fmt: skip
    config.write_text(json.dumps(body, indent=2), encoding="utf-8")
    gateway = CliProcess(state / "logs" / "gateway.log", "gateway", "run", "--config", str(config))
    _, it_mqtt = _service_mqtt(provisioner, "it")
    if not wait_online(it_mqtt, topics.service_status(gateway_id)):
        gateway.kill()
        raise SystemExit(f"the gateway did not start; see {gateway.log_path}")
    return gateway


def _start_peers(running: ExitStack) -> tuple[DemoPeers, ConnectivityCheck]:
    """What devices talk to besides the broker: the facilities' meters (a real Modbus
    server) and a connectivity-check URL for the Wi-Fi probes."""
    meters = FacilityMeters()
    meters.server.start()
    running.callback(meters.server.stop)
    check = ConnectivityCheck().start()
    running.callback(check.stop)
    return DemoPeers(meters.server.port, check.url, check.port), check


def _scenario_plan(
    provisioner: Provisioner, args: argparse.Namespace, peers: DemoPeers
) -> ScenarioPlan:
    homes = [
        placement
        for placement in provisioner.inventory.devices.values()
        if placement.site.kind == "home"
    ]
    changed = homes[0]
    slower, _ = demo_collectors(changed, args.interval * 2, peers)
    desired = [*changed.collectors(), *slower]
    return ScenarioPlan(changed.device.id, desired, homes[1].device.id, args.outage)


def _start_agents(
    state: Path,
    provisioner: Provisioner,
    timing: tuple[float, DemoPeers],
    relays: dict[str, int],
    incidents: dict[str, dict[str, Any]],
) -> dict[str, CliProcess]:
    """One agent per device, with its provisioned config (TLS, its own certificate and
    password) plus the collectors of what its profile senses, on hardware stand-ins. A
    device in ``relays`` reaches the broker through that port (one the demo can cut)."""
    interval_s, peers = timing
    agents = {}
    for device_id, placement in provisioner.inventory.devices.items():
        directory = provisioner.device_dir(device_id)
        agent = yaml.safe_load((directory / "agent.yaml").read_text(encoding="utf-8"))
        collectors, stand_ins = demo_collectors(placement, interval_s, peers)
        stand_ins |= incidents.get(device_id, {})
        agent["collectors"] += collectors
        agent["state_dir"] = "state"
        agent["reconnect_max_s"] = 5
        if device_id in relays:
            agent["mqtt"]["port"] = relays[device_id]
        config = directory / "demo-agent.yaml"
        config.write_text(json.dumps(agent, indent=2, ensure_ascii=False), encoding="utf-8")
        hardware = directory / "demo-stand-ins.json"
        hardware.write_text(json.dumps(stand_ins), encoding="utf-8")
        log = state / "logs" / f"{device_id}.log"
        command = ["edge", "run", "--config", str(config), "--stand-ins", str(hardware)]
        agents[device_id] = CliProcess(log, *command)
    return agents


def _print_banner(
    state: Path,
    provisioner: Provisioner,
    services: tuple[ProvisionedMosquitto, InfluxDB],
    gateway: CliProcess,
    agents: list[CliProcess],
) -> None:
    broker, influx = services
    endpoint = provisioner.endpoint
    print("civic-iot demo: the example city of Abashiri is running\n")
    print(f"  {'component':<28} {'pid':>7}  address / log")
    print(
        f"  {'Mosquitto (MQTT broker)':<28} {_pid(broker):>7}  mqtts://127.0.0.1:{endpoint.port} "
        f"(devices: TLS, certificate and password); 127.0.0.1:{endpoint.local_port} (services)"
    )
    print(f"  {'InfluxDB 1.x':<28} {_pid(influx):>7}  {influx.url}")
    print(f"  {'gateway':<28} {gateway.pid:>7}  {gateway.log_path}")
    for agent in agents:
        name = f"agent {agent.log_path.stem}"
        print(f"  {name:<28} {agent.pid:>7}  {agent.log_path}")
    databases = Databases()
    query = urllib.parse.quote("SELECT * FROM climate ORDER BY time DESC LIMIT 5")
    it_id, it_mqtt = _service_mqtt(provisioner, "it")
    stream = shlex.quote(topics.everything())
    print("\nThe broker runs the files `civic-iot provision` rendered (ACLs, passwords, CA):")
    print(f"  {provisioner.state / 'broker'}")
    print("\nLook at the data:")
    print(
        f"  watch the MQTT stream:  mosquitto_sub -p {endpoint.local_port} -u {it_id} "
        f'-P "$(cat {it_mqtt.password_file})" -t {stream} -v'
    )
    print(
        f"  query InfluxDB:         curl -s '{influx.url}/query?db={databases.watch_over}"
        f"&pretty=true&q={query}'"
    )
    print(f"  databases:              {', '.join(databases.all())} (see docs/influxdb-schema.md)")
    gateway_config = state / "config" / "gateway.yaml"
    http = json.loads(gateway_config.read_text(encoding="utf-8"))["http_listen"]
    print(f"  device registry:        civic-iot devices --config {gateway_config}")
    print(
        f"  gateway metrics/health: curl -s http://{http}/metrics ; curl -s http://{http}/healthz"
    )
    print(f"  state, configs, logs:   {state}")


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
    _print_measurements(influx)


def _print_counts(influx: InfluxDB) -> None:
    counts = point_counts(influx, Databases().all())
    print(f"data landing: {', '.join(f'{db} {n}' for db, n in counts.items())} points", flush=True)


def _print_measurements(influx: InfluxDB) -> None:
    for database in Databases().all():
        found = query_influx(influx, database, "SHOW MEASUREMENTS")
        names = [row[0] for series in found.get("series", []) for row in series["values"]]
        print(f"measurements in {database}: {', '.join(names) or '(none yet)'}", flush=True)


def point_counts(influx: InfluxDB, databases: list[str]) -> dict[str, int]:
    """Points stored per database (the largest field count of each measurement, summed)."""
    counts = {}
    for database in databases:
        result = query_influx(influx, database, "SELECT count(*) FROM /.*/")
        counts[database] = sum(
            max(v for v in series["values"][0][1:] if v is not None)
            for series in result.get("series", [])
        )
    return counts
