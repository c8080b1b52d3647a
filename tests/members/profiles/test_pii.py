"""Validation, normalisation and masking of personal data (no database)."""

from __future__ import annotations

import pytest

from shared.errors import InvalidInput

from services.members.profiles.pii import (
    MonthDay,
    mask_email,
    mask_phone,
    normalise_display_name,
    normalise_email,
    normalise_phone,
)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13800131362", "+8613800131362"),  # a bare mainland mobile number
        ("138 0013 1362", "+8613800131362"),
        ("+86 138-0013-1362", "+8613800131362"),
        ("0086 13800131362", "+8613800131362"),
        ("+8619912345678", "+8619912345678"),
        ("+44 20 7946 0958", "+442079460958"),
        ("+1 (415) 555-2671", "+14155552671"),
        ("  +6591234567 ", "+6591234567"),
    ],
)
def test_phones_are_normalised_to_e164(raw: str, e164: str) -> None:
    assert normalise_phone(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "12345",
        "23800131362",  # 11 digits but not a mobile number, and no country code
        "1380013136",  # 10 digits
        "+86 10 8888 8888",  # a Beijing landline: members sign in with a mobile
        "+86138001313621",  # too long for a mainland mobile
        "+0123456789",  # country codes do not start with 0
        "+1234567890123456",  # 16 digits: longer than E.164 allows
        "+12 34x567",
        "phone",
        "+" + "1" * 40,  # oversize
        "1" * 100,
    ],
)
def test_malformed_phones_are_refused_with_a_typed_error(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_phone(raw)
    assert caught.value.code == "BAD_USER_INPUT" and caught.value.extensions["field"] == "phone"


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert normalise_email("  Jane.Doe+promo@Example.COM ") == "jane.doe+promo@example.com"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "no-at-sign",
        "a@b",
        "a@@b.com",
        ".a@b.com",
        "a.@b.com",
        "a..b@c.com",
        "a b@c.com",
        "a@-b.com",
        "a@b-.com",
        "a@b.123",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_malformed_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_email(raw)
    assert caught.value.extensions["field"] == "email"


def test_display_names_are_normalised() -> None:
    assert normalise_display_name("  Jane \t  Doe ") == "Jane Doe"
    assert normalise_display_name("Cafe\u0301") == "Café"  # NFC
    assert normalise_display_name("李" * 40) == "李" * 40


@pytest.mark.parametrize("raw", ["", "   ", "x" * 41, "bad\x00name", "bell\x07", "[erased]"])
def test_bad_display_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_display_name(raw)
    assert caught.value.extensions["field"] == "displayName"


@pytest.mark.parametrize(("raw", "month", "day"), [("02-29", 2, 29), ("--12-31", 12, 31), (" 01-01 ", 1, 1)])
def test_birthdays_are_month_and_day(raw: str, month: int, day: int) -> None:
    parsed = MonthDay.parse(raw)
    assert (parsed.month, parsed.day) == (month, day)
    assert str(parsed) == f"{month:02d}-{day:02d}"


@pytest.mark.parametrize("raw", ["02-30", "13-01", "00-10", "04-31", "12-00", "2-3", "0229", "1990-02-03", "ab-cd", ""])
def test_impossible_birthdays_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        MonthDay.parse(raw)
    assert caught.value.extensions["field"] == "birthday"


def test_masking_keeps_only_what_support_needs_to_confirm_a_caller() -> None:
    assert mask_phone("+8613800131362") == "138****1362"
    other = mask_phone("+442079460958")
    assert other.startswith("+44") and other.endswith("0958") and "7946" not in other
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert "ane" not in mask_email("jane.doe@example.com")
