"""The operation a document runs, as spans name it (read from the text, no parse)."""

from __future__ import annotations

import pytest

from shared.telemetry.graphql import operation_of


@pytest.mark.parametrize(
    ("document", "name", "expected"),
    [
        ("{ me { id } }", None, ("query", None)),
        ("  query Me { me { id } }", None, ("query", "Me")),
        ("mutation($k: String!) { redeem(key: $k) { id } }", None, ("mutation", None)),
        ("query A { a } mutation B { b }", "B", ("mutation", "B")),
        ("query A { a } mutation B { b }", "Bee", (None, "Bee")),  # no such operation: no type claimed
        ("query MyReviews__reviews__1($representations: [_Any!]!) { _entities }", None, ("query", "MyReviews__reviews__1")),
        (None, None, (None, None)),
    ],
)
def test_operation_of(document: str | None, name: str | None, expected: tuple[str | None, str | None]) -> None:
    assert operation_of(document, name) == expected
