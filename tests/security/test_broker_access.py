"""A real Mosquitto started with the files `civic-iot provision` renders."""

from __future__ import annotations

import getpass
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from civic_iot.services import ProvisionedMosquitto, free_port
from common.city.inventory import load_inventory
from common.mqttlink import MqttConfig, TlsConfig, diagnose_connect
from provisioning.provision import Endpoint, Provisioner
from tests.conftest import start_or_skip
from tests.provisioning.broker_client import Session, connect
from tests.support.mqtt import wait_for
from wire import Kind, topics

pytestmark = pytest.mark.services
HOME, OTHER = "home-a001-hub", "home-a002-hub"
NOT_AUTHORIZED = "Not authorized"


class City:
    def __init__(self, tmp_path: Path, repo_root: Path) -> None:
        self.inventory_root = tmp_path / "firmware-config"
        shutil.copytree(repo_root / "firmware-config", self.inventory_root)
        self.state = tmp_path / "state"
        self.endpoint = Endpoint("127.0.0.1", free_port(), free_port(), "127.0.0.1")
        self.provisioner().provision()
        self.broker = ProvisionedMosquitto(
            self.state / "broker" / "mosquitto.conf", self.endpoint.local_port, self.endpoint.port
        )
        self.sessions: list[Session] = []

    def provisioner(self) -> Provisioner:
        inventory = load_inventory(self.inventory_root)
        return Provisioner(inventory, self.state, self.endpoint, broker_user=getpass.getuser())

    def password(self, device: str) -> str:
        return (self.state / "devices" / device / "mqtt-password").read_text().strip()

    def device(self, device: str, **options: object) -> Session:
        kwargs = {"tls_dir": self.state / "devices" / device, **options}
        password = kwargs.pop("password", self.password(device))
        session = connect(self.endpoint.port, device, password, **kwargs)  # type: ignore[arg-type]
        self.sessions.append(session)
        return session

    def service(self, name: str) -> Session:
        password = (self.state / "services" / name / "password").read_text().strip()
        session = connect(self.endpoint.local_port, name, password)
        self.sessions.append(session)
        return session


@pytest.fixture
def city(tmp_path: Path, repo_root: Path) -> Iterator[City]:
    city = City(tmp_path, repo_root)
    start_or_skip(city.broker)
    yield city
    for session in city.sessions:
        session.close()
    city.broker.kill()


def test_a_device_publishes_its_own_topics_over_tls(city: City) -> None:
    it = city.service("it-console")
    assert it.subscribe(topics.everything()).is_failure is False
    device = city.device(HOME)
    assert device.connect_code == "Success"
    for kind in (Kind.TELEMETRY, Kind.EVENT, Kind.HEALTH, Kind.STATUS, Kind.CONFIG_REPORTED):
        assert not device.publish(topics.device_topic(HOME, kind)).is_failure, kind
    assert device.subscribe(topics.config_desired(HOME)).is_failure is False
    assert device.subscribe(topics.command_request(HOME)).is_failure is False


def test_a_device_cannot_publish_to_another_devices_topics(city: City) -> None:
    device = city.device(HOME)
    for kind in (Kind.TELEMETRY, Kind.STATUS, Kind.CONFIG_REPORTED):
        assert str(device.publish(topics.device_topic(OTHER, kind))) == NOT_AUTHORIZED
    # Nor forge its own desired config or commands, which only IT may send.
    assert str(device.publish(topics.config_desired(HOME))) == NOT_AUTHORIZED
    assert str(device.publish(topics.command_request(HOME))) == NOT_AUTHORIZED


def test_a_device_receives_nothing_of_another_device(city: City) -> None:
    # Mosquitto 2.0 grants any SUBSCRIBE and applies read access to each delivery.
    snoop = city.device(HOME)
    for topic in (topics.config_desired(OTHER), topics.telemetry(OTHER), topics.everything()):
        snoop.subscribe(topic)
    snoop.subscribe(topics.config_desired(HOME))
    it, other = city.service("it-console"), city.device(OTHER)
    assert not it.publish(topics.config_desired(OTHER), b"theirs").is_failure
    assert not other.publish(topics.telemetry(OTHER), b"theirs").is_failure
    assert not it.publish(topics.config_desired(HOME), b"mine").is_failure
    wait_for(lambda: snoop.messages, what="the device's own desired config")
    assert set(snoop.messages) == {(topics.config_desired(HOME), b"mine")}


def test_anonymous_wrong_password_and_missing_certificate_are_refused(city: City) -> None:
    assert connect(city.endpoint.local_port, None, None).connect_code == NOT_AUTHORIZED
    guess = connect(city.endpoint.local_port, HOME, "guess")
    city.sessions.append(guess)
    assert guess.connect_code == NOT_AUTHORIZED
    no_cert = city.device(HOME, client_cert=False)
    assert no_cert.connect_code != "Success"


def test_on_the_device_listener_the_certificate_is_the_identity(city: City) -> None:
    other = city.device(OTHER)
    # HOME's certificate with OTHER's name and password: it is HOME, nothing more.
    imposter = connect(city.endpoint.port, OTHER, city.password(OTHER),
                       tls_dir=city.state / "devices" / HOME)  # fmt: skip
    city.sessions.append(imposter)
    assert imposter.connect_code == "Success"
    assert str(imposter.publish(topics.telemetry(OTHER))) == NOT_AUTHORIZED
    assert not imposter.publish(topics.telemetry(HOME)).is_failure
    assert not other.publish(topics.telemetry(OTHER)).is_failure  # OTHER was not thrown off


def test_the_tls_listener_proves_itself_with_the_city_ca(city: City, tmp_path: Path) -> None:
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    shutil.copy(Path(__file__).parents[1] / "provisioning" / "stranger-ca.crt", stranger / "ca.crt")
    attempt = connect(
        city.endpoint.port, HOME, city.password(HOME), tls_dir=stranger, client_cert=False
    )
    assert "certificate verify failed" in attempt.connect_code
    # What an agent or service that cannot connect logs as the reason.
    tls = TlsConfig(ca_file=str(stranger / "ca.crt"))
    reason = diagnose_connect(MqttConfig(host="127.0.0.1", port=city.endpoint.port, tls=tls))
    assert reason.startswith(f"TLS handshake with 127.0.0.1:{city.endpoint.port} failed: ")
    assert "CERTIFICATE_VERIFY_FAILED" in reason


def test_a_client_id_with_wildcards_never_reaches_the_broker(city: City) -> None:
    it = city.service("it-console")
    it.subscribe(topics.everything())
    for client_id in (f"{OTHER}/#", "+", f"{HOME}#"):
        session = city.device(HOME, client_id=client_id)
        assert session.connect_code == "Success"
        # The broker replaced the ID with the username: the session is HOME's, and
        # nothing outside HOME's subtree opens to it.
        assert str(session.publish(topics.telemetry(OTHER))) == NOT_AUTHORIZED
        assert not session.publish(topics.telemetry(HOME)).is_failure
        session.close()
    log = city.broker.log_path.read_text()
    assert f"as {HOME} (" in log
    assert f"as {OTHER}/#" not in log


def test_service_roles_get_exactly_what_they_need(city: City) -> None:
    gateway = city.service("gateway-1")
    assert gateway.connect_code == "Success"
    shared = topics.shared("ingest", topics.all_devices(Kind.TELEMETRY))
    assert gateway.subscribe(shared).is_failure is False
    assert str(gateway.publish(topics.telemetry(HOME))) == NOT_AUTHORIZED
    assert str(gateway.publish(topics.config_desired(HOME))) == NOT_AUTHORIZED
    # It asks agents again for what a crashed broker lost (the resend command).
    assert not gateway.publish(topics.command_request(HOME)).is_failure
    assert not gateway.publish(topics.dead_letter("gateway-1")).is_failure
    assert str(gateway.publish(topics.dead_letter("alerts-1"))) == NOT_AUTHORIZED
    it = city.service("it-console")
    assert not it.publish(topics.config_desired(HOME)).is_failure
    assert not it.publish(topics.command_request(OTHER)).is_failure
    assert str(it.publish(topics.telemetry(HOME))) == NOT_AUTHORIZED
    alerts = city.service("alerts-1")
    alerts.subscribe(topics.all_devices(Kind.EVENT))
    alerts.subscribe(topics.all_devices(Kind.COMMAND_REQUEST))
    assert not it.publish(topics.command_request(HOME), b"restart").is_failure
    assert not city.device(HOME).publish(topics.event(HOME), b"door").is_failure
    wait_for(lambda: alerts.messages, what="the event")
    assert alerts.messages == [(topics.event(HOME), b"door")]


def test_rotation_retires_the_old_credentials_and_touches_only_that_device(city: City) -> None:
    old_password = city.password(HOME)
    old_tls = city.state / "old-tls"
    old_tls.mkdir()
    for name in ("ca.crt", "client.crt", "client.key"):
        shutil.copy(city.state / "devices" / HOME / name, old_tls / name)
    before = snapshot(city.state)
    report = city.provisioner().rotate(HOME)
    changed = {path for path in before if snapshot(city.state).get(path) != before[path]}
    assert changed == {
        f"devices/{HOME}/mqtt-password",
        f"devices/{HOME}/client.crt",
        f"devices/{HOME}/client.key",
        f"bundles/{HOME}.tar.gz",
        "broker/passwd",
        "broker/passwd-devices",
        "broker/crl.pem",
        "pki/crl.pem",
        "pki/revoked.txt",
    } - {path for path in ("pki/revoked.txt",) if path not in before}
    assert set(report.written) <= changed | {"pki/revoked.txt"}
    city.broker.restart()  # Mosquitto reads the CRL at start
    old = connect(city.endpoint.local_port, HOME, old_password)
    city.sessions.append(old)
    assert old.connect_code == NOT_AUTHORIZED
    assert city.device(HOME, tls_dir=old_tls).connect_code != "Success"  # revoked certificate
    assert city.device(HOME).connect_code == "Success"
    assert city.device(OTHER).connect_code == "Success"


def test_a_retired_device_is_refused_and_stays_retired(city: City) -> None:
    keep = city.state / "kept"
    shutil.copytree(city.state / "devices" / HOME, keep)
    password = city.password(HOME)
    city.provisioner().retire(HOME)
    city.broker.reload()

    def password_refused() -> bool:
        # The loopback listener checks only the password: the precise test of retirement.
        attempt = connect(city.endpoint.local_port, HOME, password)
        city.sessions.append(attempt)
        return attempt.connect_code == NOT_AUTHORIZED

    wait_for(password_refused, timeout_s=10, what="the reloaded broker to refuse the device")
    # Over TLS it is refused too: by its password, or by its revoked certificate if the
    # broker has re-read the CRL already.
    session = connect(city.endpoint.port, HOME, password, tls_dir=keep)
    city.sessions.append(session)
    assert session.connect_code != "Success"
    assert not (city.state / "devices" / HOME).exists()
    report = city.provisioner().provision()
    assert not (city.state / "devices" / HOME).exists()
    assert any(HOME in note and "retired" in note for note in report.notes)
    assert city.device(OTHER).connect_code == "Success"


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
        and "data" not in path.relative_to(root).parts
        and path.suffix != ".log"  # the running broker's own log, not provisioning output
    }


def test_the_gateway_session_keeps_a_qos1_burst_while_it_is_away(city: City) -> None:
    # Stock Mosquitto queues 1,000 messages for an offline session and drops the rest
    # while still acknowledging them; the generated config must keep all of them.
    burst = 5000
    password = (city.state / "services" / "gateway-1" / "password").read_text().strip()
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    gateway = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gateway-1", protocol=mqtt.MQTTv5)
    gateway.username_pw_set("gateway-1", password)
    received: list[bytes] = []
    subscribed = threading.Event()
    gateway.on_message = lambda c, u, m: received.append(m.payload)
    gateway.on_subscribe = lambda c, u, mid, rcs, p: subscribed.set()
    gateway.connect("127.0.0.1", city.endpoint.local_port, clean_start=False, properties=properties)
    gateway.loop_start()
    gateway.subscribe(topics.all_devices(Kind.TELEMETRY), qos=1)
    assert subscribed.wait(10)
    gateway.disconnect()
    gateway.loop_stop()

    device = city.device(HOME)
    infos = [device.client.publish(topics.telemetry(HOME), b"%d" % n, qos=1) for n in range(burst)]
    for info in infos:
        info.wait_for_publish(30)

    gateway.connect("127.0.0.1", city.endpoint.local_port, clean_start=False, properties=properties)
    gateway.loop_start()
    try:
        wait_for(lambda: len(received) >= burst, timeout_s=60, what=f"{burst} queued messages")
    finally:
        gateway.disconnect()
        gateway.loop_stop()
    assert sorted(int(p) for p in received) == list(range(burst))


def test_the_monitoring_account_reads_but_cannot_write(city: City) -> None:
    monitor = city.service("it-monitor")
    assert monitor.subscribe(topics.everything()).is_failure is False
    assert str(monitor.publish(topics.config_desired(HOME))) == NOT_AUTHORIZED
    assert str(monitor.publish(topics.command_request(HOME))) == NOT_AUTHORIZED
    assert str(monitor.publish(topics.service_ack("alerts-1"))) == NOT_AUTHORIZED


def test_a_service_account_is_useless_on_the_device_listener(city: City) -> None:
    password = (city.state / "services" / "gateway-1" / "password").read_text().strip()
    tls = city.state / "devices" / HOME  # a device certificate with the gateway's account
    session = connect(city.endpoint.port, "gateway-1", password, tls_dir=tls)
    city.sessions.append(session)
    # It is the device its certificate names, never the gateway.
    assert str(session.publish(topics.service_event("gateway-1"))) == NOT_AUTHORIZED
    assert not session.publish(topics.telemetry(HOME)).is_failure
    assert city.service("gateway-1").connect_code == "Success"  # on its own listener
