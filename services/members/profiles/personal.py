"""A member's sealed fields as one viewer may see them, decrypted only when asked.

Display name, birthday, phone and email are stored only as ciphertext under the member's data key
(see `rules.seal`). A view keeps the ciphertexts and opens a field the first time someone asks for
it, then remembers the answer for the life of the view (one request): `me { displayName tier }`
unwraps the key once and decrypts the name only; `me { tier }` decrypts nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from shared.crypto import decrypt_field, field_aad

# Stored as `<field>_ciphertext` on the member row, bound to (member id, field) by the AAD.
SEALED_FIELDS = ("display_name", "birthday", "phone", "email")


class PersonalFields:
    """`get(field)`: the field's value for this viewer (None when they may not see it or it is
    unset), masked when a mask is given for it."""

    __slots__ = ("_member_id", "_sealed", "_key", "_masks", "_opened")

    def __init__(
        self,
        member_id: uuid.UUID,
        sealed: Mapping[str, bytes | None],
        key: Callable[[], bytes | None],
        masks: Mapping[str, Callable[[str], str]] | None = None,
    ) -> None:
        self._member_id = member_id
        self._sealed = sealed
        self._key = key
        self._masks = masks or {}
        self._opened: dict[str, str | None] = {}

    @classmethod
    def fixed(cls, values: Mapping[str, str | None]) -> PersonalFields:
        """Values known without decrypting (an erased member's placeholder name)."""
        fields = cls(uuid.UUID(int=0), {}, lambda: None)
        fields._opened.update(values)
        return fields

    def get(self, field: str) -> str | None:
        if field in self._opened:
            return self._opened[field]
        value = self._open(field)
        if value is not None and field in self._masks:
            value = self._masks[field](value)
        self._opened[field] = value
        return value

    def _open(self, field: str) -> str | None:
        blob = self._sealed.get(field)
        if blob is None:
            return None
        key = self._key()
        if key is None:
            return None
        return decrypt_field(key, blob, field_aad(self._member_id, field))
