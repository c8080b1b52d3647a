"""Relay-style cursor pagination, independent of GraphQL and of the ORM.

A cursor is the sort key of a row (e.g. `(created_at, id)`), JSON-encoded and base64url'd so
clients treat it as opaque. Keyset pagination (`WHERE (created_at, id) > (:a, :b) ORDER BY ...
LIMIT first + 1`) stays fast at any depth and stable while rows are inserted, unlike OFFSET.

Cursors are not signed: a crafted one only moves the starting point of a list the caller may
read anyway, and its values reach SQL as bound parameters. Types are checked on decoding so a
cursor from another list is a clear `InvalidInput`, not a database error.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from shared.errors import InvalidInput

CursorValue = str | int | bool | None | uuid.UUID | datetime | date
CursorTypes = tuple[type | tuple[type, ...], ...]

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_CURSOR_LENGTH = 1024
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")

T = TypeVar("T")

# --- cursors -----------------------------------------------------------------------------------
# JSON carries str/int/bool/null natively; the other sort-key types are tagged one-key objects.


def _pack(value: CursorValue) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, uuid.UUID):
        return {"u": value.hex}
    if isinstance(value, datetime):  # before `date`: a datetime is a date
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    raise TypeError(f"cannot put a {type(value).__name__} in a cursor")


def _unpack(item: Any) -> CursorValue:
    if item is None or isinstance(item, (str, bool, int)):
        return item
    if isinstance(item, dict) and len(item) == 1:
        ((tag, text),) = item.items()
        if isinstance(text, str):
            if tag == "u":
                return uuid.UUID(hex=text)
            if tag == "t":
                return datetime.fromisoformat(text)
            if tag == "d":
                return date.fromisoformat(text)
    raise ValueError("unknown cursor item")


def encode_cursor(values: Sequence[CursorValue]) -> str:
    payload = json.dumps([_pack(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()


def _refuse(_: str) -> Any:
    raise ValueError("floats and NaN are not cursor values")


def decode_cursor(cursor: str, types: CursorTypes | None = None) -> tuple[CursorValue, ...]:
    """The values `encode_cursor` was given; `InvalidInput` for anything else.

    With `types`, the cursor must hold exactly that many values, each an instance of its type
    (pass `(datetime, type(None))` for a nullable key)."""
    try:
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("bad size")
        if not _BASE64URL.fullmatch(cursor):
            raise ValueError("not base64url")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        items = json.loads(raw, parse_float=_refuse, parse_constant=_refuse)
        if not isinstance(items, list) or not items:
            raise ValueError("not a list of values")
        values = tuple(_unpack(item) for item in items)
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise InvalidInput("invalid cursor: use a cursor returned by this list", argument="after") from None
    if types is not None and not _matches(values, types):
        raise InvalidInput("invalid cursor: it belongs to another list", argument="after")
    return values


def _matches(values: tuple[CursorValue, ...], types: CursorTypes) -> bool:
    if len(values) != len(types):
        return False
    for value, expected in zip(values, types):
        allowed = expected if isinstance(expected, tuple) else (expected,)
        if not isinstance(value, allowed):
            return False
        if isinstance(value, bool) and bool not in allowed:  # True is an int to isinstance
            return False
        if isinstance(value, datetime) and datetime not in allowed and date in allowed:
            return False
    return True


# --- page requests and pages -------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """Validated `first`/`after` arguments. Fetch `fetch_limit` rows after `after_values`.

    Backward pagination (`last`/`before`) is left out until a list needs it.
    """

    first: int | None = None
    after: str | None = None
    max_first: int = field(default=MAX_PAGE_SIZE, kw_only=True)
    cursor_types: CursorTypes | None = field(default=None, kw_only=True)
    after_values: tuple[CursorValue, ...] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        first = min(DEFAULT_PAGE_SIZE, self.max_first) if self.first is None else self.first
        if isinstance(first, bool) or not isinstance(first, int) or not 1 <= first <= self.max_first:
            raise InvalidInput(f"first must be between 1 and {self.max_first}", argument="first")
        object.__setattr__(self, "first", first)
        if self.after is not None:
            object.__setattr__(self, "after_values", decode_cursor(self.after, self.cursor_types))

    @property
    def fetch_limit(self) -> int:
        """One row more than the page: its presence says whether a next page exists."""
        return self.first + 1  # type: ignore[operator]


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    cursors: list[str]  # one per row
    has_next_page: bool
    has_previous_page: bool

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def paginate(
    fetched: Sequence[T], request: PageRequest, key: Callable[[T], Sequence[CursorValue]]
) -> Page[T]:
    """The page from rows fetched in order with `LIMIT request.fetch_limit`; `key` gives a row's
    sort-key values (the same ones the query orders by)."""
    first: int = request.first  # type: ignore[assignment]
    rows = list(fetched[:first])
    return Page(
        rows=rows,
        cursors=[encode_cursor(key(row)) for row in rows],
        has_next_page=len(fetched) > first,
        # Relay lets forward pagination answer this cheaply: there is a page before if we started
        # after some row.
        has_previous_page=request.after is not None,
    )
