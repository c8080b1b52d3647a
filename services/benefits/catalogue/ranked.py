"""The SQL of a member's ranked read: ACTIVE benefits of ACTIVE partners with their facts, in the
order `rules.rank` puts them for a member — interest descending, then points and id ascending.

It reads in two parts. The benefits that match some of the member's interests come first, sorted
by interest (a scan of the matches: the GIN indexes on categories and tags when they are few);
then the rest, all of interest 0, straight from ix_benefits_status_points in points order, so a
page of them is an index range scan. Either way, under the LIMIT, stock and budgets are probed
only for the rows returned.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, case, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement

from services.benefits.catalogue.rules import BenefitFacts
from services.benefits.catalogue.store import FACTS, Executor, _from, b, const, facts_of, literal_limit, p, run

# Where a read resumes: after an (interest, points, id) position, or at the start of the group of
# that interest (`(interest,)`).
Start = tuple[int] | tuple[int, int, uuid.UUID]


def interest_expression(categories: Sequence[str]) -> ColumnElement[int]:
    """How many of `categories` (a member's interests) a benefit's categories and tags contain:
    `rules.interest` in SQL."""
    terms = [case((or_(const(c) == sa.any_(b.categories), const(c) == sa.any_(b.tags)), 1), else_=0) for c in categories]
    return sum(terms[1:], terms[0]) if terms else sa.literal(0)


def _matches(categories: Sequence[str]) -> ColumnElement[bool]:
    wanted = sa.cast(sa.literal(list(categories), ARRAY(sa.String(50)), literal_execute=True), ARRAY(sa.String(50)))
    return or_(b.categories.overlap(wanted), b.tags.overlap(wanted))


def in_interested_part(categories: Sequence[str], start: Start | None) -> bool:
    """Whether a read from `start` reads the part matching the member's interests."""
    return bool(categories) and (start is None or start[0] > 0)


def ranked_statement(categories: Sequence[str], category: str | None, start: Start | None, limit: int) -> sa.Select[Any]:
    interested = in_interested_part(categories, start)
    interest = interest_expression(categories) if interested else sa.literal(0)
    statement = select(*FACTS, interest.label("interest")).select_from(_from()).where(b.status == const("ACTIVE"), p.status == const("ACTIVE"))
    if category is not None:
        statement = statement.where(b.categories.contains([category]))
    if categories:
        statement = statement.where(_matches(categories) if interested else ~_matches(categories))
    if start is not None and len(start) == 3:
        group, points, last_id = start  # type: ignore[misc]
        after = sa.tuple_(b.points_price, b.id) > sa.tuple_(sa.literal(points, b.points_price.type), sa.literal(last_id, b.id.type))
        statement = statement.where(or_(interest < group, and_(interest == group, after)) if interested else after)
    elif start is not None and interested:
        statement = statement.where(interest <= start[0])
    if interested:
        return statement.order_by(sa.literal_column("interest").desc(), b.points_price.asc(), b.id.asc()).limit(literal_limit(limit))
    return statement.order_by(b.points_price.asc(), b.id.asc()).limit(literal_limit(limit))


async def ranked_facts(
    executor: Executor, categories: Sequence[str], category: str | None, start: Start | None, limit: int, *, period_start: datetime
) -> list[tuple[BenefitFacts, int]]:
    rows = await run(executor, ranked_statement(categories, category, start, limit), {"period_start": period_start})
    return [(facts_of(row), row.interest) for row in rows]
