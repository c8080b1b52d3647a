import base64
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from shared.errors import InvalidInput
from shared.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PageRequest,
    decode_cursor,
    encode_cursor,
    paginate,
)

NOW = datetime(2026, 11, 22, 8, 30, 0, 123456, tzinfo=UTC)
ID = uuid.UUID("01a20263-a80f-7329-8a56-8c3bbebfbfda")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- cursors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        (NOW, ID),
        (NOW.isoformat(), str(ID)),
        (42, "x"),
        (None, ID),
        (True, False, 0, -7, 2**70),
        (date(2026, 2, 28),),
        ("ünïcode ✓", ""),
    ],
)
def test_cursor_round_trip_keeps_values_and_types(values) -> None:
    cursor = encode_cursor(values)
    decoded = decode_cursor(cursor)
    assert decoded == tuple(values)
    assert [type(v) for v in decoded] == [type(v) for v in values]


def test_cursor_is_url_safe_and_opaque() -> None:
    cursor = encode_cursor((NOW, ID))
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert str(ID) not in cursor and ID.hex not in cursor


def test_cursor_keeps_timezone_and_microseconds() -> None:
    shanghai = NOW.astimezone(timezone(timedelta(hours=8)))
    (value,) = decode_cursor(encode_cursor((shanghai,)))
    assert value == NOW and value.utcoffset() == timedelta(hours=8) and value.microsecond == 123456


def test_encode_refuses_values_it_could_not_give_back() -> None:
    for bad in (1.5, b"bytes", object(), [1]):
        with pytest.raises(TypeError):
            encode_cursor((bad,))


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "not base64 at all",
        "YQ",  # "a": not JSON
        b64(b"{}"),
        b64(b"[]"),
        b64(b'"text"'),
        b64(b"[1.5]"),
        b64(b"[NaN]"),
        b64(b"[[1]]"),
        b64(b'[{"u":"zz"}]'),
        b64(b'[{"t":"yesterday"}]'),
        b64(b'[{"x":"1"}]'),
        b64(b'[{"u":"a","t":"b"}]'),
        b64(b'[{"u":1}]'),
        b64(b"[" * 500 + b"]" * 500),
        "A" * 2000,
        b64(b"\xff\xfe"),
    ],
)
def test_garbage_cursors_are_invalid_input(cursor) -> None:
    with pytest.raises(InvalidInput) as info:
        decode_cursor(cursor)
    assert info.value.code == "BAD_USER_INPUT"
    assert info.value.extensions == {"argument": "after"}


def test_padded_cursor_is_refused_and_unpadded_accepted() -> None:
    raw = b64(json.dumps([1]).encode())
    assert decode_cursor(raw) == (1,)
    with pytest.raises(InvalidInput):
        decode_cursor(raw + "=")


@pytest.mark.parametrize(
    ("values", "types", "ok"),
    [
        ((NOW, ID), (datetime, uuid.UUID), True),
        ((NOW, ID), (datetime,), False),  # wrong arity
        ((NOW,), (datetime, uuid.UUID), False),
        ((ID, NOW), (datetime, uuid.UUID), False),  # wrong order
        ((5, ID), (datetime, uuid.UUID), False),
        ((True,), (int,), False),  # a bool is not a number here
        ((3,), (int,), True),
        ((True,), (bool,), True),
        ((None, ID), ((datetime, type(None)), uuid.UUID), True),
        ((None, ID), (datetime, uuid.UUID), False),
        ((NOW,), (date,), False),  # a datetime where a date is expected
        ((date(2026, 1, 1),), (date,), True),
    ],
)
def test_decode_checks_types_when_asked(values, types, ok) -> None:
    cursor = encode_cursor(values)
    if ok:
        assert decode_cursor(cursor, types) == values
    else:
        with pytest.raises(InvalidInput, match="another list"):
            decode_cursor(cursor, types)


# --- PageRequest -------------------------------------------------------------------------------


def test_page_request_defaults() -> None:
    request = PageRequest()
    assert request.first == DEFAULT_PAGE_SIZE
    assert request.after is None and request.after_values is None
    assert request.fetch_limit == DEFAULT_PAGE_SIZE + 1


def test_page_request_decodes_after() -> None:
    request = PageRequest(5, encode_cursor((NOW, ID)), cursor_types=(datetime, uuid.UUID))
    assert request.first == 5 and request.fetch_limit == 6
    assert request.after_values == (NOW, ID)


@pytest.mark.parametrize("first", [0, -1, MAX_PAGE_SIZE + 1, 10**9, True, "10", 2.0])
def test_page_request_refuses_bad_first(first) -> None:
    with pytest.raises(InvalidInput, match=f"between 1 and {MAX_PAGE_SIZE}") as info:
        PageRequest(first)
    assert info.value.extensions == {"argument": "first"}


def test_page_request_bounds_are_inclusive_and_max_is_configurable() -> None:
    assert PageRequest(1).first == 1
    assert PageRequest(MAX_PAGE_SIZE).first == MAX_PAGE_SIZE
    assert PageRequest(500, max_first=500).first == 500
    with pytest.raises(InvalidInput, match="between 1 and 10"):
        PageRequest(11, max_first=10)
    assert PageRequest(max_first=10).first == 10  # the default never exceeds the max


def test_page_request_refuses_a_bad_cursor() -> None:
    with pytest.raises(InvalidInput, match="invalid cursor"):
        PageRequest(10, "garbage!")
    with pytest.raises(InvalidInput, match="another list"):
        PageRequest(10, encode_cursor((1,)), cursor_types=(datetime, uuid.UUID))


# --- paginate ----------------------------------------------------------------------------------

ROWS = [{"created_at": NOW + timedelta(seconds=i), "id": uuid.UUID(int=i)} for i in range(23)]


def key(row):
    return (row["created_at"], row["id"])


def fetch(request: PageRequest) -> list[dict]:
    """What a keyset query returns: rows after the cursor, in order, LIMIT fetch_limit."""
    after = request.after_values
    return [r for r in ROWS if after is None or key(r) > after][: request.fetch_limit]


def test_first_page() -> None:
    request = PageRequest(10)
    page = paginate(fetch(request), request, key)
    assert page.rows == ROWS[:10]
    assert page.has_next_page and not page.has_previous_page
    assert len(page.cursors) == 10
    assert decode_cursor(page.end_cursor) == key(ROWS[9])
    assert decode_cursor(page.start_cursor) == key(ROWS[0])
    assert [decode_cursor(c) for c in page.cursors] == [key(r) for r in ROWS[:10]]


def test_walking_all_pages_visits_every_row_once() -> None:
    seen, after, pages = [], None, 0
    while True:
        request = PageRequest(10, after, cursor_types=(datetime, uuid.UUID))
        page = paginate(fetch(request), request, key)
        seen += page.rows
        pages += 1
        assert page.has_previous_page == (after is not None)
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == ROWS and pages == 3


def test_exactly_full_last_page_has_no_next_page() -> None:
    request = PageRequest(23)
    page = paginate(fetch(request), request, key)
    assert page.rows == ROWS and not page.has_next_page


def test_empty_page() -> None:
    request = PageRequest(5, encode_cursor(key(ROWS[-1])))
    page = paginate(fetch(request), request, key)
    assert page.rows == [] and page.cursors == []
    assert not page.has_next_page and page.has_previous_page
    assert page.start_cursor is None and page.end_cursor is None
