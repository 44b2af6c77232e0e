"""The gateway's configuration file (YAML), validated strictly at load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import msgspec

from common import yamlconf
from common.mqttlink import MqttConfig
from common.strict import Strict
from gateway.retention import Retention
from gateway.schema import Databases, Identifier
from gateway.writers import Writer
from gateway.writers.v1 import V1Writer
from wire import topics

Positive = Annotated[float, msgspec.Meta(gt=0)]


class InfluxConfig(Strict):
    dialect: Literal["v1", "v2"] = "v1"
    url: str = "http://127.0.0.1:8086"
    timeout_s: Positive = 10.0
    # Writes in flight at once: InfluxDB parses each request on about one core, so two
    # connections wrote 1.6x as many points a second as one on two cores (direct writes,
    # docs/decisions.md); a batch is split among them.
    connections: Annotated[int, msgspec.Meta(ge=1, le=16)] = 2
    databases: Databases = msgspec.field(default_factory=Databases)
    # v1 dialect
    username: str | None = None
    password_file: str | None = None
    retention_policy: Identifier | None = None
    # Create databases/buckets, retention and roll-ups at start (see `gateway setup`).
    create_databases: bool = True
    retention: Retention = msgspec.field(default_factory=Retention)
    # v2 dialect
    org: str = "civic"
    token_file: str | None = None


class BatchConfig(Strict):
    # Points per batch (written as two requests on two connections): against the
    # minimal bridge with 20 readings per message, batches of 20,000 gave the gateway
    # 1.20-1.30x, batches of 10,000 1.15-1.16x (peers/compare.py, 100,000 messages).
    max_points: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 20_000
    max_delay_s: Positive = 1.0
    # A batch is also written once no message has come for this long: the end of a
    # burst (or a quiet city's one message) is not held back for max_delay_s.
    quiet_s: Positive = 0.05


class ResendConfig(Strict):
    # Seconds a sequence gap may fill by itself (an agent's backlog after an outage)
    # before the agent is asked to send those messages again.
    after_s: Positive = 15.0
    # How many times to ask; each pause is twice the one before; 0 never asks.
    tries: Annotated[int, msgspec.Meta(ge=0, le=20)] = 6


class RolloutConfig(Strict):
    """Staged agent rollouts (gateway/rollout.py) and their defaults for `fleet rollout`."""

    # Where devices fetch releases (the city's release directory); --source overrides.
    source: str = ""
    # When watch-over homes may update (local time): when residents are usually asleep
    # and the agent's few seconds of restart matter least. Facilities update at once.
    home_window: Annotated[str, msgspec.Meta(pattern=r"^(\d\d:\d\d-\d\d:\d\d)?$")] = "01:00-04:00"
    # A device not healthy this long after switching rolls back by itself.
    deadline_s: Annotated[int, msgspec.Meta(ge=10, le=86_400)] = 300
    check_s: Positive = 5.0


class GatewayConfig(Strict):
    gateway_id: Annotated[str, msgspec.Meta(pattern=topics.DEVICE_ID_PATTERN.pattern)]
    inventory: str = "firmware-config"
    mqtt: MqttConfig = msgspec.field(default_factory=MqttConfig)
    # MQTT v5 shared subscription group: workers with the same group split the stream.
    shared_group: str | None = None
    # How long the broker keeps our session (and queues for it) while we are away.
    session_expiry_s: Annotated[int, msgspec.Meta(ge=0)] = 86_400
    influx: InfluxConfig = msgspec.field(default_factory=InfluxConfig)
    batch: BatchConfig = msgspec.field(default_factory=BatchConfig)
    # Messages received and not yet decoded (gateway/inbox.py); when full, the broker
    # connection waits. About the payload size each.
    queue_size: Annotated[int, msgspec.Meta(ge=100)] = 10_000
    # ... and at most this many MiB of their payloads (20-reading messages are 1.5 KB).
    queue_mb: Positive = 4.0
    # Messages the broker may have in flight to us unacknowledged (MQTT v5 Receive
    # Maximum). We acknowledge only once points are durable, so a batch is written (or
    # spooled) at the latest when half this many are waiting: the other half arrives
    # while it is written.
    max_unacked: Annotated[int, msgspec.Meta(ge=10, le=65_535)] = 10_000
    # The device registry is saved this often and at stop (not before each
    # acknowledgement), each time once what came before it is durable.
    registry_save_s: Positive = 5.0
    # Series (device, quantity, sensor) whose escaped line-protocol key is kept: size it
    # to the fleet (a miss costs most of a reading's time); about 250 bytes each.
    series_cache: Annotated[int, msgspec.Meta(ge=0)] = 100_000
    # The spool (batches InfluxDB could not take yet) and the device registry live in
    # <state_dir>/<gateway_id>/; a relative state_dir is relative to this file.
    state_dir: str = "gateway-state"
    spool_max_mb: Positive = 1024.0
    # A device that says it is online but sends nothing for this long is "silent".
    # Agents send health every 60 s by default.
    offline_after_s: Positive = 300.0
    # Per-device ingest figures (gaps, duplicates, lag) go to the operations zone.
    ops_interval_s: Positive = 60.0
    # Sequence gaps mean something only when one worker sees all of a device's
    # messages: one worker, or a broker that routes shared subscriptions by client
    # (EMQX hash_clientid). Default: on without shared_group, off with it.
    sequence_tracking: bool | None = None
    # Gaps in a device's sequence (a crashed broker) are asked for again.
    resend: ResendConfig = msgspec.field(default_factory=ResendConfig)
    # host:port of /metrics (Prometheus) and /healthz; null turns it off.
    http_listen: Annotated[str, msgspec.Meta(pattern=r"^[\w.\-\[\]:]*:\d{1,5}$")] | None = (
        "127.0.0.1:9108"
    )
    rollouts: RolloutConfig = msgspec.field(default_factory=RolloutConfig)


def load(path: Path) -> GatewayConfig:
    config = yamlconf.load(path, GatewayConfig)
    inventory = Path(config.inventory)
    if not inventory.is_absolute():
        inventory = (path.parent / inventory).resolve()
    return msgspec.structs.replace(
        config,
        inventory=str(inventory),
        mqtt=config.mqtt.relative_to(path.parent),
        # One directory per worker: workers on one host never share a spool or registry.
        state_dir=str(path.parent / config.state_dir / config.gateway_id),
    )


def tracks_sequences(config: GatewayConfig) -> bool:
    if config.sequence_tracking is not None:
        return config.sequence_tracking
    return config.shared_group is None


def make_writer(config: InfluxConfig) -> Writer:
    if config.dialect == "v1":
        password = read_secret(config.password_file)
        return V1Writer(
            config.url,
            username=config.username,
            password=password,
            retention_policy=config.retention_policy,
            timeout_s=config.timeout_s,
        )
    # influxdb-client (and numpy behind it) is loaded only by a gateway that writes v2:
    # it is a third of a v1 gateway's memory otherwise.
    from gateway.writers.v2 import V2Writer  # noqa: PLC0415

    return V2Writer(
        config.url,
        org=config.org,
        token=read_secret(config.token_file) or "",
        timeout_s=config.timeout_s,
    )


def read_secret(path: str | None) -> str | None:
    return None if path is None else Path(path).read_text(encoding="utf-8").strip()
