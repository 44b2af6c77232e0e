"""Broker passwords: random secrets, hashed in Mosquitto 2.0's PBKDF2-SHA512 format.

The password file line is ``user:$7$<iterations>$<salt b64>$<hash b64>``, what
``mosquitto_passwd`` writes. Secrets are 256 random bits, so key stretching adds
nothing; we keep Mosquitto's default of 101 iterations so every login stays cheap.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 101
SALT_BYTES = 12


def new_password() -> str:
    return secrets.token_urlsafe(32)


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations)
    encoded_salt = base64.b64encode(salt).decode()
    return f"$7${iterations}${encoded_salt}${base64.b64encode(digest).decode()}"


def matches(password: str, hashed: str) -> bool:
    """Whether ``hashed`` (a $7$ hash) is the hash of ``password``."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    expected = mosquitto_hash(password, base64.b64decode(parts[3]), int(parts[2]))
    return hmac.compare_digest(expected, hashed)


def parse_password_file(text: str) -> dict[str, str]:
    entries = {}
    for line in text.splitlines():
        user, sep, hashed = line.partition(":")
        if sep and user:
            entries[user] = hashed
    return entries
