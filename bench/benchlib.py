"""What the benchmarks share: a bench city, a gateway process, MQTT clients, and
counting what reached InfluxDB."""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from civic_iot.children import CliProcess  # noqa: E402
from civic_iot.services import InfluxDB, Mosquitto, Service, free_port  # noqa: E402
from civic_iot.watch import wait_online  # noqa: E402
from common.mqttlink import MqttConfig  # noqa: E402
from gateway.retention import ROLLUP  # noqa: E402
from wire import topics  # noqa: E402

GATEWAY_ID = "bench-gateway"


@contextmanager
def running(*services: Service) -> Iterator[None]:
    """Start the services; stop each that started, whatever happens."""
    with ExitStack() as started:
        for service in services:
            service.start()
            started.callback(service.stop)
        yield


def write_inventory(root: Path, devices: list[str], site_size: int) -> Path:
    """The example city's city.yaml and profiles, and bench homes of ``site_size``
    devices each (sites bench-0000, bench-0001, ...)."""
    shutil.copytree(REPO / "firmware-config", root, ignore=shutil.ignore_patterns("sites"))
    (root / "sites").mkdir(parents=True)
    for index in range(0, len(devices), site_size):
        site = f"bench-{index // site_size:04d}"
        listing = "\n".join(
            f"  - {{id: {d}, profile: watch-over-home}}" for d in devices[index : index + site_size]
        )
        (root / "sites" / f"{site}.yaml").write_text(
            f"id: {site}\nkind: home\nname: {{ja: ベンチ, en: Bench}}\ndevices:\n{listing}\n",
            encoding="utf-8",
        )
    return root


def start_gateway(
    work: Path,
    broker: Mosquitto,
    influx: InfluxDB,
    inventory: Path,
    *,
    max_delay_s: float,
    gateway_id: str = GATEWAY_ID,
    **settings: object,
) -> tuple[CliProcess, int]:
    """A gateway process, once it is online; and the port of its /metrics. ``settings``
    are further keys of its config."""
    port = free_port()
    name = "gateway" if gateway_id == GATEWAY_ID else gateway_id
    config = work / f"{name}.yaml"
    body = {
        "gateway_id": gateway_id,
        "inventory": str(inventory),
        "mqtt": {"host": broker.host, "port": broker.port},
        "influx": {"url": influx.url},
        "batch": {"max_delay_s": max_delay_s},
        "http_listen": f"127.0.0.1:{port}",
        **settings,
    }
    config.write_text(json.dumps(body), encoding="utf-8")
    gateway = CliProcess(
        work / f"{name}.log", "--log-level", "warning", "gateway", "run", "--config",
        str(config),
    )  # fmt: skip
    mqtt_config = MqttConfig(host=broker.host, port=broker.port)
    if not wait_online(mqtt_config, topics.service_status(gateway_id), timeout_s=300):
        raise SystemExit(f"gateway did not start:\n{gateway.log()}")
    return gateway, port


def mqtt_client(broker: Mosquitto, client_id: str = "") -> mqtt.Client:
    """A connected MQTT v5 client with a deep in-flight window, for publishing at QoS 1."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def stored_temperatures(influx: InfluxDB) -> int:
    query = urllib.parse.urlencode(
        {"db": "civic_watch", "q": "SELECT count(temperature) FROM climate"}
    )
    with urllib.request.urlopen(f"{influx.url}/query?{query}", timeout=120) as response:  # noqa: S310
        series = json.load(response)["results"][0].get("series")
    return int(series[0]["values"][0][1]) if series else 0


def wait_for_count(influx: InfluxDB, expected: int, *, quiet_s: float, poll_s: float) -> int:
    """Poll until every point is stored, or until the count stops moving for quiet_s."""
    last, last_change = -1, time.monotonic()
    while True:
        count = stored_temperatures(influx)
        if count >= expected:
            return count
        if count != last:
            last, last_change = count, time.monotonic()
        elif time.monotonic() - last_change > quiet_s:
            return count
        time.sleep(poll_s)


def written_points(url: str, database: str) -> int:
    """Points InfluxDB accepted into ``database`` so far, from its own statistics: cheap
    enough to poll every 0.1 s, exact, and without the gateway's say. Only the raw
    data's shards: the hourly roll-up writes a point per series into the same database
    (a 50,000-device run once read 48,000 points ahead of what was published)."""
    with urllib.request.urlopen(f"{url}/debug/vars", timeout=30) as response:  # noqa: S310
        stats = json.load(response)
    return sum(
        value.get("values", {}).get("writePointsOk", 0)
        for value in stats.values()
        if isinstance(value, dict)
        and value.get("name") == "shard"
        and value.get("tags", {}).get("database") == database
        and value.get("tags", {}).get("retentionPolicy") != ROLLUP
    )
