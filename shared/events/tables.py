"""The outbox and inbox tables, as Core tables in a service's own schema.

A service adds them to its metadata (`outbox_tables(metadata, "points")`) so its Alembic history
creates them. The outbox is two tables: the event itself, written once, and one delivery row per
subscriber that the dispatcher leases, retries and finally marks delivered or dead.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

PENDING = "pending"
DELIVERED = "delivered"
DEAD = "dead"

MAX_TYPE_LENGTH = 100
MAX_SERVICE_NAME_LENGTH = 100


@dataclass(frozen=True, slots=True)
class OutboxTables:
    events: Table
    deliveries: Table

    @property
    def key(self) -> str:
        """Names this outbox within a process (publishers wake the dispatchers of the same key)."""
        return self.events.fullname


def outbox_tables(metadata: MetaData, schema: str) -> OutboxTables:
    events = Table(
        "outbox_events",
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),  # UUIDv7: sorts by creation time
        Column("type", String(MAX_TYPE_LENGTH), nullable=False),
        Column("payload", JSONB, nullable=False),
        # The publishing transaction's time (now() is fixed for a transaction), as seen by the database.
        Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("producer", String(MAX_SERVICE_NAME_LENGTH), nullable=False),
        schema=schema,
    )
    deliveries = Table(
        "outbox_deliveries",
        metadata,
        Column(
            "event_id",
            UUID(as_uuid=True),
            ForeignKey(f"{schema}.outbox_events.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("subscriber", String(MAX_SERVICE_NAME_LENGTH), primary_key=True),
        Column("status", String(16), nullable=False, server_default=PENDING),
        # Counted when a delivery is claimed, so a dispatcher that dies mid-send still uses one up.
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        # While in the future, one dispatcher owns the row; after it, anyone may claim it again.
        Column("leased_until", DateTime(timezone=True), nullable=True),
        Column("last_error", Text, nullable=True),
        Column("delivered_at", DateTime(timezone=True), nullable=True),
        CheckConstraint(f"status IN ('{PENDING}', '{DELIVERED}', '{DEAD}')", name="outbox_deliveries_status"),
        # Only pending rows are ever scanned; delivered ones pile up and must not slow the claim.
        Index(
            "ix_outbox_deliveries_due",
            "next_attempt_at",
            postgresql_where=text(f"status = '{PENDING}'"),
        ),
        schema=schema,
    )
    return OutboxTables(events=events, deliveries=deliveries)


def inbox_table(metadata: MetaData, schema: str) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("type", String(MAX_TYPE_LENGTH), nullable=False),
        Column("producer", String(MAX_SERVICE_NAME_LENGTH), nullable=False),
        # False for event types this service had no handler for: acknowledged, but worth a look.
        Column("handled", Boolean, nullable=False),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        schema=schema,
    )

