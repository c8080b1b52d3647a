"""The request's clock: parsing the caller's timeout, what remains, the outcome, detached tasks."""

from __future__ import annotations

import asyncio

import pytest

from shared import deadline
from shared.errors import DeadlineExceeded


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("1500", 1.5), ("0", 0.0), (None, None), ("", None), ("-5", None), ("1.5", None), ("9" * 12, None), ("abc", None)],
)
def test_only_a_plain_millisecond_count_is_a_timeout(header: str | None, seconds: float | None) -> None:
    assert deadline.parse_timeout_ms(header) == seconds


def test_without_a_request_there_is_no_deadline() -> None:
    assert deadline.remaining() is None
    assert deadline.outgoing_header() == {}
    deadline.check_time_left("anything")  # never raises


def test_the_outcome_turns_unknown_once_something_may_have_changed() -> None:
    token = deadline.begin_request(0)
    try:
        with pytest.raises(DeadlineExceeded) as first:
            deadline.check_time_left("before")
        assert first.value.extensions["outcome"] == "NOT_APPLIED"
        deadline.note_effects()
        with pytest.raises(DeadlineExceeded) as second:
            deadline.check_time_left("after")
        assert second.value.extensions["outcome"] == "UNKNOWN"
    finally:
        deadline.end_request(token)


async def test_the_remaining_time_is_passed_on_and_detached_tasks_have_none() -> None:
    token = deadline.begin_request(2)
    try:
        assert 1900 <= int(deadline.outgoing_header()[deadline.HEADER]) <= 2000

        async def seen() -> float | None:
            return deadline.remaining()

        assert await asyncio.create_task(seen()) is not None  # tasks inherit the request's clock…
        assert await asyncio.create_task(seen(), context=deadline.detached_context()) is None  # …unless detached
        assert deadline.remaining() is not None
    finally:
        deadline.end_request(token)
