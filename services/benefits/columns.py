"""Column shorthands for the tables of the `benefits` schema (models.py), so each table reads as a list
of its columns rather than of SQLAlchemy arguments."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

SCHEMA = "benefits"


def _tz(nullable: bool = False, **kwargs: Any) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, **kwargs)


def _big(nullable: bool = False, default: int | None = 0) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.BigInteger, nullable=nullable, server_default=None if default is None else str(default))


def _int(nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.Integer, nullable=nullable)


def _uuid(*, fk: str | None = None, nullable: bool = False, primary_key: bool = False) -> sa.Column:  # type: ignore[type-arg]
    args: list[Any] = [sa.ForeignKey(f"{SCHEMA}.{fk}")] if fk else []
    return sa.Column(sa.Uuid, *args, nullable=nullable, primary_key=primary_key)


def _str(length: int, nullable: bool = False, **kwargs: Any) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.String(length), nullable=nullable, **kwargs)


def _strings(nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(ARRAY(sa.String(50)), nullable=nullable, server_default="{}")


def _in(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})", name=name)
