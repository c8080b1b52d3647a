"""Personal data at rest: AES-256-GCM field encryption, per-member data keys, blind indexes.

Each member has a random data key that encrypts their fields; the data key is stored wrapped
(encrypted) by the master key from the environment. Erasing a member drops the wrapped key, and
every copy of their ciphertext, backups included, becomes unreadable (crypto-shredding).

Formats (all bytes, stored as `bytea`):
    wrapped data key = version (1) | master key id (4) | nonce (12) | ciphertext+tag (48)
    encrypted field  = version (1) | nonce (12) | ciphertext+tag
The master key id is a fingerprint of the key itself, so rotating means: set a new
`ABG_MASTER_KEY`, move the old one to `ABG_RETIRED_MASTER_KEYS`, and rewrap at leisure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.settings import Settings, get_settings

DATA_KEY_BYTES = 32
NONCE_BYTES = 12  # 96 bits, the size GCM is designed for; random per value
KEY_ID_BYTES = 4
_VERSION = b"\x01"
_TAG_BYTES = 16
_WRAPPED_LEN = 1 + KEY_ID_BYTES + NONCE_BYTES + DATA_KEY_BYTES + _TAG_BYTES


class CryptoError(ValueError):
    """A value that cannot be decrypted: altered, under another key, moved to another row or field,
    or whose key was shredded. Never a client's fault, so not a `DomainError`."""


# --- keys --------------------------------------------------------------------------------------


def new_data_key() -> bytes:
    """A fresh random data key for one member."""
    return os.urandom(DATA_KEY_BYTES)


@lru_cache(maxsize=16)
def _decode_key(value: str, name: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValueError(f"{name} must be the base64 encoding of 32 random bytes")
    return key


def _key_id(master: bytes) -> bytes:
    # A one-way fingerprint: identifies the key without revealing anything usable about it.
    return hmac.new(master, b"abg master key id", hashlib.sha256).digest()[:KEY_ID_BYTES]


def _current_master(settings: Settings) -> bytes:
    return _decode_key(settings.master_key, "ABG_MASTER_KEY")


def _master_keys(settings: Settings) -> list[bytes]:
    retired = [k.strip() for k in settings.retired_master_keys.split(",") if k.strip()]
    return [_current_master(settings)] + [_decode_key(k, "ABG_RETIRED_MASTER_KEYS") for k in retired]


def wrap_data_key(data_key: bytes, aad: bytes = b"", settings: Settings | None = None) -> bytes:
    """`data_key` encrypted under the current master key. Pass the member id as `aad` to bind the
    wrapped key to its row, so it cannot be copied to another member."""
    if len(data_key) != DATA_KEY_BYTES:
        raise ValueError(f"a data key is {DATA_KEY_BYTES} bytes")
    master = _current_master(settings or get_settings())
    header = _VERSION + _key_id(master)
    nonce = os.urandom(NONCE_BYTES)
    return header + nonce + AESGCM(master).encrypt(nonce, data_key, header + aad)


def unwrap_data_key(wrapped: bytes, aad: bytes = b"", settings: Settings | None = None) -> bytes:
    """The data key inside `wrapped`, under the current or a retired master key."""
    if len(wrapped) != _WRAPPED_LEN or wrapped[:1] != _VERSION:
        raise CryptoError("not a wrapped data key of a known version")
    split = 1 + KEY_ID_BYTES
    header, nonce, body = wrapped[:split], wrapped[split : split + NONCE_BYTES], wrapped[split + NONCE_BYTES :]
    candidates = [m for m in _master_keys(settings or get_settings()) if _key_id(m) == header[1:]]
    if not candidates:
        raise CryptoError("data key is wrapped by a master key that is not configured")
    for master in candidates:
        try:
            return AESGCM(master).decrypt(nonce, body, header + aad)
        except InvalidTag:
            continue
    raise CryptoError("wrapped data key does not authenticate (altered, or bound to another row)")


def needs_rewrap(wrapped: bytes, settings: Settings | None = None) -> bool:
    """True when `wrapped` is under a retired master key (a rotation job rewraps these)."""
    return wrapped[1 : 1 + KEY_ID_BYTES] != _key_id(_current_master(settings or get_settings()))


def rewrap_data_key(wrapped: bytes, aad: bytes = b"", settings: Settings | None = None) -> bytes:
    """`wrapped` re-encrypted under the current master key; the data key itself is unchanged."""
    return wrap_data_key(unwrap_data_key(wrapped, aad, settings), aad, settings)


# --- fields ------------------------------------------------------------------------------------


def field_aad(owner_id: uuid.UUID | str, field: str) -> bytes:
    """Associated data binding a value to its row and column: a ciphertext copied elsewhere fails."""
    if "\x00" in field:
        raise ValueError("field names cannot contain NUL")
    return f"{owner_id}\x00{field}".encode()


def encrypt_field(data_key: bytes, plaintext: str, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return _VERSION + nonce + AESGCM(data_key).encrypt(nonce, plaintext.encode(), _VERSION + aad)


def decrypt_field(data_key: bytes, blob: bytes, aad: bytes) -> str:
    if len(blob) < 1 + NONCE_BYTES + _TAG_BYTES or blob[:1] != _VERSION:
        raise CryptoError("not an encrypted field of a known version")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(data_key).decrypt(nonce, body, _VERSION + aad).decode()
    except InvalidTag:
        raise CryptoError("encrypted field does not authenticate (altered, wrong key, row or field)") from None


# --- blind index -------------------------------------------------------------------------------


def blind_index(value: str, purpose: str, settings: Settings | None = None) -> bytes:
    """A keyed hash for equality lookups ("member by phone") without storing the value.

    Deterministic by design, so callers must normalise first (E.164 phone, lower-cased email).
    Each purpose gets its own derived key: the same string as phone and as email hashes differently,
    so indexes cannot be joined across columns.
    """
    if not purpose:
        raise ValueError("a blind index needs a purpose")
    root = _decode_key((settings or get_settings()).blind_index_key, "ABG_BLIND_INDEX_KEY")
    purpose_key = hmac.new(root, b"abg blind index\x00" + purpose.encode(), hashlib.sha256).digest()
    return hmac.new(purpose_key, value.encode(), hashlib.sha256).digest()
