import base64
import os
import uuid

import pytest

from shared.crypto import (
    CryptoError,
    blind_index,
    decrypt_field,
    encrypt_field,
    field_aad,
    needs_rewrap,
    new_data_key,
    rewrap_data_key,
    unwrap_data_key,
    wrap_data_key,
)
from shared.settings import Settings


def b64key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


OLD_MASTER, NEW_MASTER = b64key(), b64key()
S = Settings(master_key=OLD_MASTER, blind_index_key=b64key())
ROTATED = Settings(master_key=NEW_MASTER, retired_master_keys=f" {b64key()} , {OLD_MASTER}",
                   blind_index_key=S.blind_index_key)
MEMBER = uuid.UUID("01a20263-a80f-7329-8a56-8c3bbebfbfda")
OTHER = uuid.UUID("01a20263-a80f-7329-8a56-8c3bbebfbfdb")


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --- data keys ---------------------------------------------------------------------------------


def test_new_data_keys_are_random_32_bytes() -> None:
    keys = {new_data_key() for _ in range(100)}
    assert len(keys) == 100 and all(len(k) == 32 for k in keys)


def test_wrap_round_trip_and_the_key_does_not_appear_in_the_wrapped_form() -> None:
    key = new_data_key()
    wrapped = wrap_data_key(key, MEMBER.bytes, S)
    assert key not in wrapped
    assert wrapped[0] == 1 and len(wrapped) == 1 + 4 + 12 + 32 + 16
    assert unwrap_data_key(wrapped, MEMBER.bytes, S) == key


def test_wrapping_twice_gives_different_bytes() -> None:
    key = new_data_key()
    assert wrap_data_key(key, settings=S) != wrap_data_key(key, settings=S)


def test_wrapped_key_is_unreadable_without_its_master_key() -> None:
    wrapped = wrap_data_key(new_data_key(), settings=S)
    with pytest.raises(CryptoError, match="not configured"):
        unwrap_data_key(wrapped, settings=Settings(master_key=b64key()))


def test_wrapped_key_is_bound_to_its_row() -> None:
    wrapped = wrap_data_key(new_data_key(), MEMBER.bytes, S)
    with pytest.raises(CryptoError, match="authenticate"):
        unwrap_data_key(wrapped, OTHER.bytes, S)


@pytest.mark.parametrize("index", [1, 5, 20, 64])  # key id, nonce, ciphertext, tag
def test_altered_wrapped_key_is_refused(index) -> None:
    wrapped = wrap_data_key(new_data_key(), settings=S)
    with pytest.raises(CryptoError):
        unwrap_data_key(flip(wrapped, index), settings=S)


@pytest.mark.parametrize("wrapped", [b"", b"\x02" + bytes(64), bytes(65)[:-1]])
def test_unknown_wrapped_formats_are_refused(wrapped) -> None:
    with pytest.raises(CryptoError, match="known version"):
        unwrap_data_key(wrapped, settings=S)


def test_master_key_rotation() -> None:
    key = new_data_key()
    old = wrap_data_key(key, MEMBER.bytes, S)
    assert not needs_rewrap(old, S)
    # After rotation the old master key is retired: old wraps still open, and are flagged for rewrap.
    assert needs_rewrap(old, ROTATED)
    assert unwrap_data_key(old, MEMBER.bytes, ROTATED) == key
    new = rewrap_data_key(old, MEMBER.bytes, ROTATED)
    assert not needs_rewrap(new, ROTATED)
    assert unwrap_data_key(new, MEMBER.bytes, ROTATED) == key
    # Once the old key is gone entirely, only the rewrapped form opens.
    dropped = Settings(master_key=NEW_MASTER)
    assert unwrap_data_key(new, MEMBER.bytes, dropped) == key
    with pytest.raises(CryptoError):
        unwrap_data_key(old, MEMBER.bytes, dropped)


@pytest.mark.parametrize("bad", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_badly_configured_master_key_is_reported(bad) -> None:
    with pytest.raises(ValueError, match="ABG_MASTER_KEY"):
        wrap_data_key(new_data_key(), settings=Settings(master_key=bad))


def test_wrong_size_data_key_is_refused() -> None:
    with pytest.raises(ValueError):
        wrap_data_key(b"too short", settings=S)


# --- fields ------------------------------------------------------------------------------------

KEY = new_data_key()
PHONE_AAD = field_aad(MEMBER, "phone")


@pytest.mark.parametrize("text", ["+8613812341362", "", "名字 ✓ émoji 🎉", "x" * 10_000])
def test_field_round_trip(text) -> None:
    blob = encrypt_field(KEY, text, PHONE_AAD)
    assert decrypt_field(KEY, blob, PHONE_AAD) == text
    assert len(blob) == 1 + 12 + len(text.encode()) + 16
    if text:
        assert text.encode() not in blob


def test_nonces_are_unique_per_value() -> None:
    blobs = [encrypt_field(KEY, "same value", PHONE_AAD) for _ in range(2_000)]
    assert len({b[1:13] for b in blobs}) == len(blobs)
    assert len(set(blobs)) == len(blobs)  # equal plaintexts do not show as equal ciphertexts


@pytest.mark.parametrize("index", [0, 1, 12, 13, -1])  # version, nonce, ciphertext start, tag end
def test_flipped_bit_is_detected(index) -> None:
    blob = encrypt_field(KEY, "+8613812341362", PHONE_AAD)
    with pytest.raises(CryptoError):
        decrypt_field(KEY, flip(blob, index % len(blob)), PHONE_AAD)


def test_truncated_value_is_refused() -> None:
    blob = encrypt_field(KEY, "+8613812341362", PHONE_AAD)
    for cut in (0, 5, 13, len(blob) - 1):
        with pytest.raises(CryptoError):
            decrypt_field(KEY, blob[:cut], PHONE_AAD)


def test_value_copied_to_another_member_or_field_fails() -> None:
    blob = encrypt_field(KEY, "+8613812341362", PHONE_AAD)
    with pytest.raises(CryptoError):
        decrypt_field(KEY, blob, field_aad(OTHER, "phone"))
    with pytest.raises(CryptoError):
        decrypt_field(KEY, blob, field_aad(MEMBER, "email"))


def test_wrong_key_fails() -> None:
    blob = encrypt_field(KEY, "+8613812341362", PHONE_AAD)
    with pytest.raises(CryptoError):
        decrypt_field(new_data_key(), blob, PHONE_AAD)


def test_field_aad_is_unambiguous() -> None:
    assert field_aad(MEMBER, "phone") != field_aad(MEMBER, "email")
    assert field_aad("ab", "c") != field_aad("a", "bc")
    assert field_aad(MEMBER, "phone") == field_aad(str(MEMBER), "phone")
    with pytest.raises(ValueError):
        field_aad(MEMBER, "ph\x00one")


# --- blind index -------------------------------------------------------------------------------


def test_blind_index_is_deterministic_and_32_bytes() -> None:
    a = blind_index("+8613812341362", "phone", S)
    assert a == blind_index("+8613812341362", "phone", S)
    assert len(a) == 32
    assert b"13812341362" not in a


def test_blind_index_separates_values_purposes_and_keys() -> None:
    base = blind_index("a@example.com", "email", S)
    assert blind_index("b@example.com", "email", S) != base
    assert blind_index("a@example.com", "phone", S) != base
    assert blind_index("a@example.com", "email", Settings(blind_index_key=b64key())) != base
    # Domain separation is not mere concatenation of purpose and value.
    assert blind_index("x", "ab", S) != blind_index("bx", "a", S)


def test_blind_index_uses_its_own_key_not_the_master_key() -> None:
    changed_master = S.model_copy(update={"master_key": b64key()})
    assert blind_index("v", "phone", changed_master) == blind_index("v", "phone", S)


def test_blind_index_needs_a_purpose_and_a_valid_key() -> None:
    with pytest.raises(ValueError):
        blind_index("v", "", S)
    with pytest.raises(ValueError, match="ABG_BLIND_INDEX_KEY"):
        blind_index("v", "phone", Settings(blind_index_key="nope"))
