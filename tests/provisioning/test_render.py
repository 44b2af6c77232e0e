"""What `civic-iot provision` writes, before any broker reads it."""

from __future__ import annotations

import getpass
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from civic_iot.services import in_ci
from common.city.inventory import load_inventory
from edge import config as edge_config
from provisioning import passwords
from provisioning.provision import Endpoint, Provisioner, ProvisionError

DEVICE = "home-a001-hub"


@pytest.fixture
def provisioner(tmp_path: Path, repo_root: Path) -> Provisioner:
    inventory = load_inventory(repo_root / "firmware-config")
    endpoint = Endpoint("mqtt.test.example", 8883, 1883)
    return Provisioner(inventory, tmp_path / "state", endpoint, broker_user=getpass.getuser())


def files(root: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode & 0o777, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_a_second_run_changes_nothing(provisioner: Provisioner) -> None:
    first = provisioner.provision()
    assert len(first.written) > 50
    before = files(provisioner.state)
    assert provisioner.provision().written == []
    assert files(provisioner.state) == before


def test_secrets_are_readable_by_their_owner_only(provisioner: Provisioner) -> None:
    provisioner.provision()
    state = provisioner.state
    for secret in (
        f"devices/{DEVICE}/mqtt-password",
        f"devices/{DEVICE}/client.key",
        f"bundles/{DEVICE}.tar.gz",
        "services/gateway-1/password",
        "pki/ca.key",
    ):
        assert stat.S_IMODE((state / secret).stat().st_mode) == 0o600, secret
    # The broker's own secrets are group-readable for the broker's user, no more.
    for secret in ("broker/passwd", "broker/server.key"):
        assert stat.S_IMODE((state / secret).stat().st_mode) == 0o640, secret
    assert stat.S_IMODE((state / "pki").stat().st_mode) == 0o700


def test_each_account_has_a_distinct_strong_password(provisioner: Provisioner) -> None:
    provisioner.provision()
    secrets = [p.read_text().strip() for p in provisioner.state.glob("devices/*/mqtt-password")]
    assert len(secrets) == len(provisioner.inventory.devices)
    assert len(set(secrets)) == len(secrets)
    assert all(len(secret) >= 40 for secret in secrets)
    entries = passwords.parse_password_file((provisioner.state / "broker" / "passwd").read_text())
    services = {service.id for service in provisioner.inventory.city.services}
    assert set(entries) == set(provisioner.inventory.devices) | services
    assert {"gateway-1", "alerts-1", "it-console"} <= services
    device_secret = (provisioner.state / "devices" / DEVICE / "mqtt-password").read_text().strip()
    assert passwords.matches(device_secret, entries[DEVICE])
    assert not passwords.matches(device_secret + "x", entries[DEVICE])


def test_our_hash_reads_what_mosquitto_passwd_writes(tmp_path: Path) -> None:
    binary = shutil.which("mosquitto_passwd")
    if binary is None:
        if in_ci():
            pytest.fail("mosquitto_passwd is missing")
        pytest.skip("mosquitto_passwd is not installed")
    path = tmp_path / "passwd"
    subprocess.run([binary, "-c", "-b", str(path), "dev-1", "s3cret"], check=True)
    hashed = passwords.parse_password_file(path.read_text())["dev-1"]
    assert passwords.matches("s3cret", hashed)
    assert not passwords.matches("s3cret!", hashed)


def test_the_bundle_holds_a_valid_agent_config_and_its_secrets(
    provisioner: Provisioner, tmp_path: Path
) -> None:
    provisioner.provision()
    with tarfile.open(provisioner.bundle_path(DEVICE)) as archive:
        members = {member.name: member for member in archive.getmembers()}
        assert {name.split("/")[1] for name in members} == {
            "agent.yaml",
            "ca.crt",
            "client.crt",
            "client.key",
            "mqtt-password",
            "release-key.pub",
            "release.env",
            "install-release.py",
            "civic-iot-agent.service",
            "civic-iot-update.path",
            "civic-iot-update.service",
            "firstboot.sh",
        }
        assert members[f"{DEVICE}/client.key"].mode == 0o600
        assert members[f"{DEVICE}/install-release.py"].mode == 0o755
        assert members[f"{DEVICE}/firstboot.sh"].mode == 0o755
        archive.extractall(tmp_path / "pi", filter="data")
    agent, collectors = edge_config.load(tmp_path / "pi" / DEVICE / "agent.yaml")
    assert agent.device_id == DEVICE
    assert (agent.mqtt.host, agent.mqtt.port, agent.mqtt.username) == (
        "mqtt.test.example",
        8883,
        DEVICE,
    )
    assert agent.mqtt.tls is not None
    assert Path(agent.mqtt.tls.ca_file) == tmp_path / "pi" / DEVICE / "ca.crt"
    assert (
        agent.mqtt.password()
        == (provisioner.device_dir(DEVICE) / "mqtt-password").read_text().strip()
    )
    assert [c.name for c in collectors] == ["system"]


def test_unit_and_first_boot_script_are_complete(provisioner: Provisioner) -> None:
    provisioner.provision()
    directory = provisioner.device_dir(DEVICE)
    unit = (directory / "civic-iot-agent.service").read_text()
    assert (
        "ExecStart=/opt/civic-iot/current/bin/civic-iot edge run --config /etc/civic-iot/agent.yaml"
        in unit
    )
    for hardening in (
        "Type=notify",
        "WatchdogSec=60",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
    ):
        assert hardening in unit
    assert "${" not in unit
    script = directory / "firstboot.sh"
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    assert f"civic-iot agent {DEVICE} installed" in script.read_text()


def test_broker_config_keeps_qos1_bursts_and_refuses_anonymous(provisioner: Provisioner) -> None:
    provisioner.provision()
    conf = (provisioner.state / "broker" / "mosquitto.conf").read_text().splitlines()
    for line in (
        "allow_anonymous false",
        "persistence true",
        "max_queued_messages 1000000",
        "max_queued_bytes 0",
        "listener 8883",
        "require_certificate true",
        "listener 1883 127.0.0.1",
    ):
        assert line in conf
    # Per listener, or Mosquitto opens a default listener on 1883 by itself.
    assert conf.count("use_username_as_clientid true") == 2
    assert conf.index("use_username_as_clientid true") > conf.index("listener 8883")


def test_a_template_placeholder_without_a_value_is_an_error(
    provisioner: Provisioner, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(provisioner.templates, templates)
    unit = templates / "civic-iot-agent.service"
    unit.write_text(unit.read_text() + "Environment=SITE=${site_code}\n")
    provisioner.templates = templates
    with pytest.raises(ValueError, match=r"no value for placeholder \$\{site_code\}"):
        provisioner.provision()


def test_rotating_or_retiring_an_unknown_device_is_refused(provisioner: Provisioner) -> None:
    with pytest.raises(ProvisionError, match="no device 'ghost-1'"):
        provisioner.rotate("ghost-1")
    provisioner.provision()
    provisioner.retire(DEVICE)
    with pytest.raises(ProvisionError, match="already retired"):
        provisioner.retire(DEVICE)


def test_the_cli_provisions_rotates_and_retires(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [
            sys.executable,
            "-m",
            "civic_iot",
            "provision",
            "--state-dir",
            str(tmp_path / "s"),
            "--broker-user",
            getpass.getuser(),
            *args,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    first = run()
    assert first.returncode == 0, first.stderr
    assert f"wrote bundles/{DEVICE}.tar.gz" in first.stdout
    assert run().stdout.strip().endswith("0 files changed in " + str(tmp_path / "s"))
    rotated = run("rotate", DEVICE)
    assert f"rotated the credentials of {DEVICE}" in rotated.stdout
    assert f"wrote devices/{DEVICE}/mqtt-password" in rotated.stdout
    retired = run("retire", DEVICE)
    assert "reload the broker" in retired.stdout
    refused = run("retire", DEVICE)
    assert refused.returncode == 2
    assert "already retired" in refused.stderr
