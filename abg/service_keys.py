"""A fresh set of per-service signing keys, as environment variables (`abg service-keys`).

Each known service gets its own Ed25519 key pair: the private key goes only to that service
(`ABG_<SERVICE>_SERVICE_PRIVATE_KEY`, which compose.yaml hands it as `ABG_SERVICE_PRIVATE_KEY`), the
public keys of all of them to every process (`ABG_SERVICE_PUBLIC_KEYS`). PEM newlines are written as
`\\n` so each value is one line, as .env files and most secret stores want it. To rotate a service's
key, add its new public key to its list beside the old one, give the service its new private key,
then drop the old public key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _one_line(pem: bytes) -> str:
    return pem.decode().strip().replace("\n", "\\n")


def service_key_environment(services: Iterable[str]) -> dict[str, str]:
    """Environment variables for a new key pair per service (sorted by name)."""
    public: dict[str, list[str]] = {}
    environment: dict[str, str] = {}
    for service in sorted(set(services)):
        key = Ed25519PrivateKey.generate()
        private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        public_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        environment[f"ABG_{service.upper()}_SERVICE_PRIVATE_KEY"] = _one_line(private_pem)
        public[service] = [public_pem.decode().strip()]
    return {"ABG_SERVICE_PUBLIC_KEYS": json.dumps(public, separators=(",", ":")), **environment}


def as_dotenv(environment: dict[str, str]) -> str:
    """`NAME='value'` lines: single quotes keep a .env value literal (compose reads them so)."""
    return "".join(f"{name}='{value}'\n" for name, value in environment.items())
