"""Per-service signing keys: each service signs its tokens with its own private key, and verifiers
hold every service's public keys (ABG_SERVICE_PUBLIC_KEYS), so a token naming service X must verify
with one of X's keys: whoever steals one service's key still cannot speak as another.

Ed25519 (EdDSA) or RSA (RS256) keys. A key's id (`kid` in the token header) is a thumbprint of the
public key, so nothing but the keys themselves has to be configured; several keys per service let a
new key go live while the old one still verifies, until it is removed from the list.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from shared.errors import Unauthenticated
from shared.settings import Settings

PublicKey = Ed25519PublicKey | RSAPublicKey
PrivateKey = Ed25519PrivateKey | RSAPrivateKey


@dataclass(frozen=True, slots=True)
class VerificationKey:
    kid: str
    algorithm: str
    key: PublicKey


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    algorithm: str
    key: PrivateKey


def key_id(public_key: PublicKey) -> str:
    """A short thumbprint of the public key (SHA-256 of its DER form)."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:18]).decode().rstrip("=")


def _algorithm(key: PublicKey | PrivateKey) -> str:
    return "EdDSA" if isinstance(key, (Ed25519PublicKey, Ed25519PrivateKey)) else "RS256"


def _pem(text: str) -> bytes:
    return text.replace("\\n", "\n").encode()  # environment variables often carry literal "\n"


@lru_cache(maxsize=64)
def load_public(pem: str) -> VerificationKey:
    key = serialization.load_pem_public_key(_pem(pem))
    if not isinstance(key, (Ed25519PublicKey, RSAPublicKey)):
        raise RuntimeError("service public keys must be Ed25519 or RSA (PEM)")
    return VerificationKey(key_id(key), _algorithm(key), key)


@lru_cache(maxsize=8)
def load_private(pem: str) -> SigningKey:
    key = serialization.load_pem_private_key(_pem(pem), password=None)
    if not isinstance(key, (Ed25519PrivateKey, RSAPrivateKey)):
        raise RuntimeError("ABG_SERVICE_PRIVATE_KEY must be an Ed25519 or RSA private key (PEM)")
    return SigningKey(key_id(key.public_key()), _algorithm(key), key)


def signing_key(settings: Settings) -> SigningKey | None:
    """This process's own service key, or None (then the shared configuration signs)."""
    return load_private(settings.service_private_key) if settings.service_private_key else None


def verification_key(settings: Settings, service: object, kid: object) -> VerificationKey:
    """The key of `service` named by `kid`; `Unauthenticated` when the service has no such key."""
    pems = settings.service_public_keys.get(service) if isinstance(service, str) else None
    if not pems:
        raise Unauthenticated(f"no signing keys are configured for service {service!r}")
    if not isinstance(kid, str):
        raise Unauthenticated("a service token must name its signing key (kid)")
    for pem in pems:
        candidate = load_public(pem)
        if candidate.kid == kid:
            return candidate
    raise Unauthenticated(f"the token is not signed with a current key of service {service!r}")
