"""The catalogue as a keyset-paginated list: visibility by caller, filters, sort orders and cursors.

Each sort order is (sort key, id), read through an index that starts with the status
(ix_benefits_status_points / _created / _title), so a member's page is an index range scan that
stops after `first + 1` rows, and a page stays stable while benefits are added.
A cursor carries the sort's name, so a cursor of one order cannot be used with another.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, or_, true
from sqlalchemy.sql import ColumnElement

from services.benefits.access import CatalogueScope
from services.benefits.catalogue import inputs
from services.benefits.catalogue.inputs import CatalogueFilter, Sort
from services.benefits.catalogue.store import ListQuery, b, const, not_redeemable_clause, p, redeemable_clause
from shared.errors import InvalidInput
from shared.pagination import CursorValue, PageRequest


@dataclass(frozen=True, slots=True)
class _SortSpec:
    columns: tuple[sa.Column[Any], sa.Column[Any]]
    descending: bool
    key_type: type
    key: Callable[[Any], CursorValue]


SORTS: dict[Sort, _SortSpec] = {
    Sort.POINTS_ASC: _SortSpec((b.points_price, b.id), False, int, lambda row: row.points_price),
    Sort.POINTS_DESC: _SortSpec((b.points_price, b.id), True, int, lambda row: row.points_price),
    Sort.NEWEST: _SortSpec((b.created_at, b.id), True, datetime, lambda row: row.created_at),
    Sort.TITLE: _SortSpec((b.title, b.id), False, str, lambda row: row.title),
}


def checked(flt: CatalogueFilter | None) -> CatalogueFilter:
    """The filter with its slugs normalised; bad bounds are `InvalidInput`."""
    flt = flt or CatalogueFilter()
    category = inputs.slugs("category", [flt.category], 1)[0] if flt.category is not None else None
    tag = inputs.slugs("tag", [flt.tag], 1)[0] if flt.tag is not None else None
    for name, value in (("pointsMin", flt.points_min), ("pointsMax", flt.points_max)):
        if value is not None and (isinstance(value, bool) or not 0 <= value <= inputs.MAX_POINTS):
            raise InvalidInput(f"{name} must be from 0 to {inputs.MAX_POINTS}", field=f"filter.{name}")
    if flt.points_min is not None and flt.points_max is not None and flt.points_min > flt.points_max:
        raise InvalidInput("pointsMin is above pointsMax", field="filter.pointsMin")
    return CatalogueFilter(
        partner_id=flt.partner_id, kind=flt.kind, category=category, tag=tag, redeemable_now=flt.redeemable_now,
        points_min=flt.points_min, points_max=flt.points_max, status=flt.status,
    )


def cursor_types(sort: Sort) -> tuple[type, ...]:
    return (str, SORTS[sort].key_type, uuid.UUID)


def cursor_of(sort: Sort, row: Any) -> tuple[CursorValue, ...]:
    return (sort.value, SORTS[sort].key(row), row.id)


def visible(scope: CatalogueScope, viewer_partner: uuid.UUID | None) -> ColumnElement[bool]:
    active = and_(b.status == const("ACTIVE"), p.status == const("ACTIVE"))
    if scope is CatalogueScope.ALL:
        return true()
    if scope is CatalogueScope.OWN_AND_ACTIVE and viewer_partner is not None:
        return or_(active, b.partner_id == viewer_partner)
    return active


def conditions(flt: CatalogueFilter) -> tuple[ColumnElement[bool], ...]:
    found: list[ColumnElement[bool]] = []
    if flt.partner_id is not None:
        found.append(b.partner_id == flt.partner_id)
    if flt.kind is not None:
        found.append(b.kind == const(flt.kind))
    if flt.status is not None:
        found.append(b.status == const(flt.status))
    if flt.category is not None:
        found.append(b.categories.contains([flt.category]))
    if flt.tag is not None:
        found.append(b.tags.contains([flt.tag]))
    if flt.points_min is not None:
        found.append(b.points_price >= flt.points_min)
    if flt.points_max is not None:
        found.append(b.points_price <= flt.points_max)
    if flt.redeemable_now is True:
        found.append(redeemable_clause())
    elif flt.redeemable_now is False:
        found.append(not_redeemable_clause())
    return tuple(found)


def list_query(
    scope: CatalogueScope, viewer_partner: uuid.UUID | None, flt: CatalogueFilter, sort: Sort, page: PageRequest
) -> ListQuery:
    spec = SORTS[sort]
    key_column, id_column = spec.columns
    keyset = None
    if page.after_values is not None:
        name, key, last_id = page.after_values
        if name != sort.value:
            raise InvalidInput("invalid cursor: it belongs to another sort order", argument="after")
        here = sa.tuple_(key_column, id_column)
        there = sa.tuple_(sa.literal(key, key_column.type), sa.literal(last_id, id_column.type))
        keyset = here < there if spec.descending else here > there
    order = (key_column.desc(), id_column.desc()) if spec.descending else (key_column.asc(), id_column.asc())
    return ListQuery(visible(scope, viewer_partner), conditions(flt), order, keyset, page.fetch_limit)
