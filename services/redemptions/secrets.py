"""The delivered voucher code is bearer value: kept encrypted under a data key of its own redemption
(wrapped by the master key and bound to the redemption's id), shown in clear only to the member."""

from __future__ import annotations

import struct
import uuid

from shared.crypto import decrypt_field, encrypt_field, field_aad, new_data_key, unwrap_data_key, wrap_data_key

MASK = "••••••"


def seal_code(redemption_id: uuid.UUID, code: str) -> bytes:
    data_key = new_data_key()
    wrapped = wrap_data_key(data_key, field_aad(redemption_id, "code_key"))
    return struct.pack(">H", len(wrapped)) + wrapped + encrypt_field(data_key, code, field_aad(redemption_id, "code"))


def open_code(redemption_id: uuid.UUID, sealed: bytes) -> str:
    (length,) = struct.unpack(">H", sealed[:2])
    wrapped, body = sealed[2 : 2 + length], sealed[2 + length :]
    return decrypt_field(unwrap_data_key(wrapped, field_aad(redemption_id, "code_key")), body, field_aad(redemption_id, "code"))


def mask_code(code: str) -> str:
    return MASK + code[-4:]
