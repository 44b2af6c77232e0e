"""`civic-iot provision`: render everything the broker and each device need.

All output goes to a state directory outside the repository; secrets are 0600. Running
it again changes nothing unless firmware-config changed; rotating one device's
credentials touches only that device's files, its password line and the CRL.
"""

from __future__ import annotations

import json
import os
import pwd
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from common import releases
from common.atomicfile import write, write_secret
from common.city.inventory import Inventory
from provisioning import passwords, release
from provisioning.broker import BrokerFiles, acl_text, mosquitto_conf
from provisioning.device import agent_config, bundle, render_template
from provisioning.pki import CertificateAuthority, ensure_leaf, revoke_file


def grant_broker_access(directory: Path, user: str) -> None:
    """Let the broker's user read its directory and secrets (0640) and own its data.

    Only root can hand files to another user; run as that user, nothing needs doing.
    """
    directory.chmod(0o750)
    for secret in ("passwd", "passwd-devices", "server.key"):
        (directory / secret).chmod(0o640)
    if os.geteuid() != 0 or user == "root":
        return
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        raise ProvisionError(
            f"broker user {user!r} does not exist here; install mosquitto or pass --broker-user"
        ) from None
    for path in (directory, directory / "passwd", directory / "passwd-devices",
                 directory / "server.key"):  # fmt: skip
        os.chown(path, 0, account.pw_gid)
    os.chown(directory / "data", account.pw_uid, account.pw_gid)


class ProvisionError(Exception):
    """A request provisioning cannot carry out (an unknown or retired device)."""


@dataclass(frozen=True)
class Endpoint:
    """Where devices and local services reach the broker; defaults from city.yaml."""

    host: str
    port: int
    local_port: int
    listen_address: str = ""


@dataclass
class Report:
    written: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def wrote(self, state: Path, path: Path, changed: bool) -> None:
        if changed:
            self.written.append(str(path.relative_to(state)))


class Provisioner:
    def __init__(
        self,
        inventory: Inventory,
        state: Path,
        endpoint: Endpoint | None = None,
        broker_dir: Path | None = None,
        broker_user: str = "mosquitto",
        *,
        release_url: str = "",
    ) -> None:
        broker = inventory.city.broker
        self.inventory = inventory
        self.state = state.resolve()
        self.endpoint = endpoint or Endpoint(broker.host, broker.port, broker.local_port)
        # Where the broker's files will be on the broker host; by default, in place.
        directory = (broker_dir or self.state / "broker").resolve()
        self.broker_files = BrokerFiles(directory, directory / "data")
        self.broker_user = broker_user
        self.templates = inventory.root / "templates"
        self.release_url = release_url
        self.report = Report()

    # -- paths ---------------------------------------------------------------------------

    def device_dir(self, device_id: str) -> Path:
        return self.state / "devices" / device_id

    def service_dir(self, service_id: str) -> Path:
        return self.state / "services" / service_id

    def bundle_path(self, device_id: str) -> Path:
        return self.state / "bundles" / f"{device_id}.tar.gz"

    @property
    def release_dir(self) -> Path:
        """The city's release key pair (the private key never leaves this directory)."""
        return self.state / "release"

    @property
    def retired_path(self) -> Path:
        return self.state / "retired.txt"

    # -- commands ------------------------------------------------------------------------

    def provision(self) -> Report:
        self.report = Report()
        return self._provision_all()

    def _provision_all(self) -> Report:
        self.state.mkdir(parents=True, exist_ok=True)
        # Traverse-only: the broker's user reaches broker/ but lists nothing.
        self.state.chmod(0o711)
        ca = CertificateAuthority(self.state / "pki", self.inventory.city.name.en)
        if release.ensure_key(self.release_dir):
            self.report.written += [
                f"release/{release.PRIVATE_KEY}",
                f"release/{release.PUBLIC_KEY}",
            ]
        retired = self.retired()
        for device_id in sorted(self.inventory.devices):
            if device_id in retired:
                self.report.notes.append(
                    f"{device_id} is retired; remove it from firmware-config/sites"
                )
                continue
            self._device(ca, device_id)
        for service in self.inventory.city.services:
            self._service(ca, service.id)
        self._broker(ca, retired)
        return self.report

    def rotate(self, device_id: str) -> Report:
        """New password, key and certificate for one device; the old ones stop working."""
        self._require_active(device_id)
        self.report = Report()
        ca = CertificateAuthority(self.state / "pki", self.inventory.city.name.en)
        directory = self.device_dir(device_id)
        revoke_file(ca, directory / "client.crt")
        for name in ("mqtt-password", "client.crt", "client.key"):
            (directory / name).unlink(missing_ok=True)
        self.report.notes.append(f"rotated the credentials of {device_id}")
        return self._provision_all()

    def retire(self, device_id: str) -> Report:
        """Take a device out of service: the broker refuses it from the next reload on."""
        self._require_active(device_id)
        self.report = Report()
        ca = CertificateAuthority(self.state / "pki", self.inventory.city.name.en)
        revoke_file(ca, self.device_dir(device_id) / "client.crt")
        with self.retired_path.open("a", encoding="utf-8") as log:
            log.write(f"{device_id}\n")
        shutil.rmtree(self.device_dir(device_id), ignore_errors=True)
        self.bundle_path(device_id).unlink(missing_ok=True)
        self.report.notes.append(f"retired {device_id}; reload the broker (SIGHUP) to apply")
        return self._provision_all()

    def retired(self) -> set[str]:
        if not self.retired_path.exists():
            return set()
        return set(self.retired_path.read_text(encoding="utf-8").split())

    def _require_active(self, device_id: str) -> None:
        if device_id not in self.inventory.devices:
            raise ProvisionError(f"no device {device_id!r} in {self.inventory.root}/sites")
        if device_id in self.retired():
            raise ProvisionError(f"device {device_id!r} is already retired")

    # -- pieces --------------------------------------------------------------------------

    def _device(self, ca: CertificateAuthority, device_id: str) -> None:
        placement = self.inventory.devices[device_id]
        directory = self.device_dir(device_id)
        self._credentials(ca, directory, "mqtt-password", device_id)
        self._write(directory / "ca.crt", ca.cert_pem)
        self._write(
            directory / "agent.yaml",
            agent_config(placement, self.endpoint.host, self.endpoint.port),
        )
        values = {"device_id": device_id}
        self._release_files(directory)
        unit = render_template(self.templates, "civic-iot-agent.service", **values)
        self._write(directory / "civic-iot-agent.service", unit)
        for name in ("civic-iot-update.path", "civic-iot-update.service"):
            self._write(directory / name, render_template(self.templates, name, **values))
        self._write(
            directory / "firstboot.sh",
            render_template(self.templates, "firstboot.sh", **values),
            0o755,
        )
        self.report.wrote(
            self.state,
            self.bundle_path(device_id),
            write_secret(self.bundle_path(device_id), bundle(directory)),
        )

    def _release_files(self, directory: Path) -> None:
        """What the first boot needs to install a signed release: the installer, the
        city's public release key and where releases are served (empty: only the
        release the bundle carries in ``release/``)."""
        self._write(directory / "install-release.py", Path(releases.__file__).read_bytes(), 0o755)
        self._write(directory / release.PUBLIC_KEY,
                    (self.release_dir / release.PUBLIC_KEY).read_bytes())  # fmt: skip
        self._write(directory / "release.env", f"RELEASE_URL={shlex.quote(self.release_url)}\n")

    def _service(self, ca: CertificateAuthority, service_id: str) -> None:
        directory = self.service_dir(service_id)
        self._credentials(ca, directory, "password", service_id)
        self._write(directory / "ca.crt", ca.cert_pem)
        mqtt = {
            "host": "127.0.0.1",
            "port": self.endpoint.local_port,
            "username": service_id,
            "password_file": "password",
        }
        self._write(directory / "mqtt.json", json.dumps(mqtt, indent=2) + "\n")

    def _credentials(
        self, ca: CertificateAuthority, directory: Path, secret: str, name: str
    ) -> None:
        if not (directory / secret).exists():
            self._write_secret(directory / secret, passwords.new_password() + "\n")
        issued = ensure_leaf(ca, directory / "client.crt", directory / "client.key", name)
        if issued:
            self.report.written += [
                str((directory / n).relative_to(self.state)) for n in ("client.crt", "client.key")
            ]

    def _broker(self, ca: CertificateAuthority, retired: set[str]) -> None:
        directory = self.state / "broker"
        names = sorted({self.endpoint.host, "localhost", "127.0.0.1"})
        if ensure_leaf(
            ca, directory / "server.crt", directory / "server.key", self.endpoint.host, names
        ):
            self.report.written += ["broker/server.crt", "broker/server.key"]
        ca.write_crl()
        self._write(directory / "ca.crt", ca.cert_pem)
        self._write(directory / "crl.pem", ca.crl_path.read_bytes())
        self._write(directory / "acl", acl_text(self.inventory.city.services))
        every_account = self._password_file(retired)
        self._write(directory / "passwd", every_account, 0o640)
        devices = {d for d in self.inventory.devices if d not in retired}
        device_lines = [line for line in every_account.splitlines()
                        if line.split(":", 1)[0] in devices]  # fmt: skip
        self._write(directory / "passwd-devices", "\n".join(device_lines) + "\n", 0o640)
        conf = mosquitto_conf(
            self.broker_files,
            port=self.endpoint.port,
            local_port=self.endpoint.local_port,
            client_certificates=self.inventory.city.broker.client_certificates,
            user=self.broker_user,
            listen_address=self.endpoint.listen_address,
        )
        self._write(directory / "mosquitto.conf", conf)
        (directory / "data").mkdir(exist_ok=True)
        grant_broker_access(directory, self.broker_user)

    def _password_file(self, retired: set[str]) -> str:
        """One line per active account; an unchanged password keeps its line (and salt)."""
        path = self.state / "broker" / "passwd"
        existing = passwords.parse_password_file(path.read_text()) if path.exists() else {}
        accounts = {
            d: self.device_dir(d) / "mqtt-password"
            for d in self.inventory.devices
            if d not in retired
        }
        accounts |= {
            s.id: self.service_dir(s.id) / "password" for s in self.inventory.city.services
        }
        lines = []
        for user in sorted(accounts):
            secret = accounts[user].read_text(encoding="utf-8").strip()
            hashed = existing.get(user, "")
            if not passwords.matches(secret, hashed):
                hashed = passwords.mosquitto_hash(secret)
            lines.append(f"{user}:{hashed}")
        return "\n".join(lines) + "\n"

    def _write(self, path: Path, data: bytes | str, mode: int = 0o644) -> None:
        self.report.wrote(self.state, path, write(path, data, mode))

    def _write_secret(self, path: Path, data: bytes | str) -> None:
        self.report.wrote(self.state, path, write_secret(path, data))
