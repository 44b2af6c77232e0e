"""The city's CA survives an interrupted run and refuses a mismatched pair."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning.pki import CertificateAuthority


def test_a_run_interrupted_before_the_key_makes_a_whole_ca_next_time(tmp_path: Path) -> None:
    first = CertificateAuthority(tmp_path / "pki", "網走市")
    first.key_path.unlink()  # as if the run died after writing the certificate
    again = CertificateAuthority(tmp_path / "pki", "網走市")
    assert again.certificate.public_key() == again.key.public_key()
    assert again.key_path.stat().st_mode & 0o077 == 0


def test_a_certificate_that_is_not_the_keys_is_refused_by_name(tmp_path: Path) -> None:
    ca = CertificateAuthority(tmp_path / "a", "網走市")
    other = CertificateAuthority(tmp_path / "b", "網走市")
    ca.cert_path.write_bytes(other.cert_path.read_bytes())
    with pytest.raises(ValueError, match="does not belong to"):
        CertificateAuthority(tmp_path / "a", "網走市")
