"""Identifiers: time-sortable UUIDv7, and ids read from clients.

UUIDv7 starts with a millisecond timestamp, so new rows land at the end of a B-tree index (no random
page splits as with UUIDv4) and ids sort by creation time, which cursor pagination relies on.
"""

from __future__ import annotations

import uuid

from uuid_utils import compat as _uuid7

from shared.errors import InvalidInput

__all__ = ["new_id", "parse_id"]


def new_id() -> uuid.UUID:
    """A new UUIDv7 as a stdlib `uuid.UUID` (what SQLAlchemy, asyncpg and strawberry expect).

    `uuid_utils` keeps a counter within one millisecond, so ids made in a tight loop still increase.
    """
    return _uuid7.uuid7()


def parse_id(value: object, field: str = "id") -> uuid.UUID:
    """An id a client sent (a GraphQL `ID`, say) as a UUID; anything else is `InvalidInput` on `field`."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{field} is not a valid id", field=field) from None
