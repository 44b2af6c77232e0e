"""The city's small PKI: a CA, the broker's server certificate, a certificate per
device and service, and a CRL naming what was rotated away or retired.

Keys are ECDSA P-256: small for a Raspberry Pi and supported by Mosquitto's OpenSSL and
Python's ssl module alike.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from common.atomicfile import write, write_secret

CA_DAYS = 3650
LEAF_DAYS = 825
# Re-issue what expires within this many days when provisioning runs again.
RENEW_BEFORE_DAYS = 60
CRL_DAYS = 730


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _pem_cert(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


class CertificateAuthority:
    """Keeps its key, certificate, serial log and CRL under ``directory``."""

    def __init__(self, directory: Path, city_name: str) -> None:
        self.directory = directory
        self.key_path = directory / "ca.key"
        self.cert_path = directory / "ca.crt"
        self.crl_path = directory / "crl.pem"
        self.revoked_path = directory / "revoked.txt"
        if not self.key_path.exists():
            self._create(city_name)
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{self.key_path}: expected an EC private key")
        self.key: ec.EllipticCurvePrivateKey = key
        self.certificate = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        if self.certificate.public_key() != key.public_key():
            raise ValueError(
                f"{self.cert_path} does not belong to {self.key_path}: restore both from "
                "the same backup (devices trust the certificate; never replace one alone)"
            )

    @property
    def cert_pem(self) -> bytes:
        return _pem_cert(self.certificate)

    def _create(self, city_name: str) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, city_name),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{city_name} civic-iot CA"),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        # The key last: it is what says the CA exists, so an interrupted run that wrote
        # only the certificate simply makes a new CA next time.
        if not self.directory.exists():
            self.directory.mkdir(parents=True, mode=0o700)  # it will hold the key
        write(self.cert_path, _pem_cert(certificate))
        write_secret(self.key_path, _pem_key(key))

    def issue(self, common_name: str, *, server_names: list[str] | None = None) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if server_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(n) for n in server_names]),
                critical=False,
            )
        return Issued(builder.sign(self.key, hashes.SHA256()), key)

    def revoke(self, certificate: x509.Certificate) -> None:
        serials = self._revoked()
        if certificate.serial_number not in serials:
            with self.revoked_path.open("a", encoding="utf-8") as log:
                log.write(f"{certificate.serial_number}\n")

    def write_crl(self) -> bool:
        """(Re)sign the CRL when what it lists changed or it nears its next update."""
        serials = self._revoked()
        if self.crl_path.exists():
            current = x509.load_pem_x509_crl(self.crl_path.read_bytes())
            listed = {entry.serial_number for entry in current}
            next_update = current.next_update_utc
            remaining = next_update - _now() if next_update else dt.timedelta(0)
            fresh = remaining > dt.timedelta(days=RENEW_BEFORE_DAYS)
            if listed == serials and fresh:
                return False
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(_now() - dt.timedelta(minutes=5))
            .next_update(_now() + dt.timedelta(days=CRL_DAYS))
        )
        for serial in sorted(serials):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(_now())
                .build()
            )
        return write(
            self.crl_path,
            builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM),
        )

    def _revoked(self) -> set[int]:
        if not self.revoked_path.exists():
            return set()
        return {int(line) for line in self.revoked_path.read_text().split()}


def ensure_leaf(
    ca: CertificateAuthority,
    cert_path: Path,
    key_path: Path,
    common_name: str,
    server_names: list[str] | None = None,
) -> bool:
    """Issue a certificate unless a current one for the same names exists; True if issued."""
    if cert_path.exists() and key_path.exists():
        existing = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if _still_good(ca, existing, common_name, server_names):
            return False
        ca.revoke(existing)
    issued = ca.issue(common_name, server_names=server_names)
    write_secret(key_path, _pem_key(issued.key))
    write(cert_path, _pem_cert(issued.certificate))
    return True


def revoke_file(ca: CertificateAuthority, cert_path: Path) -> None:
    if cert_path.exists():
        ca.revoke(x509.load_pem_x509_certificate(cert_path.read_bytes()))


def _still_good(
    ca: CertificateAuthority,
    certificate: x509.Certificate,
    common_name: str,
    server_names: list[str] | None,
) -> bool:
    if certificate.issuer != ca.certificate.subject:
        return False
    if certificate.not_valid_after_utc - _now() < dt.timedelta(days=RENEW_BEFORE_DAYS):
        return False
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != common_name:
        return False
    if server_names is None:
        return True
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return sorted(map(str, san)) == sorted(str(_general_name(n)) for n in server_names)


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)
