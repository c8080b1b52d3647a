"""Codes are bearer value: each benefit's pool is encrypted under a data key of its own.

The data key is stored wrapped by the master key in `benefits.data_key`, bound to the benefit's
id, so it cannot be moved to another benefit; each code's ciphertext is bound to the code's id, so
it cannot be copied to another row. Dropping a benefit's data key shreds its whole pool. Codes are
found by a keyed hash (blind index) of their index form, never by decrypting.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from shared.crypto import blind_index, decrypt_field, encrypt_field, field_aad, new_data_key, unwrap_data_key, wrap_data_key

PURPOSE = "benefit-code"


def _benefit_aad(benefit_id: uuid.UUID) -> bytes:
    return field_aad(benefit_id, "data_key")


def new_wrapped_key(benefit_id: uuid.UUID) -> bytes:
    return wrap_data_key(new_data_key(), _benefit_aad(benefit_id))


def unwrap(benefit_id: uuid.UUID, wrapped: bytes) -> bytes:
    return unwrap_data_key(wrapped, _benefit_aad(benefit_id))


def encrypt_code(data_key: bytes, code_id: uuid.UUID, code: str) -> bytes:
    return encrypt_field(data_key, code, field_aad(code_id, "code"))


def decrypt_code(data_key: bytes, code_id: uuid.UUID, blob: bytes) -> str:
    return decrypt_field(data_key, blob, field_aad(code_id, "code"))


def code_hash(index_form: str) -> bytes:
    """The keyed hash a code is found by (of its index form, see `rules.index_form`)."""
    return blind_index(index_form, PURPOSE)


class PoolKeys:
    """Unwraps each benefit's data key once, for reads that decrypt codes of several benefits."""

    def __init__(self, wrapped: Iterable[tuple[uuid.UUID, bytes | None]]) -> None:
        self._wrapped = dict(wrapped)
        self._keys: dict[uuid.UUID, bytes] = {}

    def decrypt(self, benefit_id: uuid.UUID, code_id: uuid.UUID, blob: bytes) -> str:
        key = self._keys.get(benefit_id)
        if key is None:
            wrapped = self._wrapped.get(benefit_id)
            if wrapped is None:
                raise LookupError(f"benefit {benefit_id} has no data key")
            key = self._keys[benefit_id] = unwrap(benefit_id, wrapped)
        return decrypt_code(key, code_id, blob)
