"""Tables of the `points` schema.

The ledger is `ledger_transactions` + `postings`: append-only (a trigger refuses UPDATE and DELETE),
every transaction's postings sum to zero, and each transaction is hash-chained to the member's
previous one. `member_accounts` holds each member's balances as of their last transaction (a cache of
the postings, checked by `ledgerCheck`) and is the row locked to serialise one member's operations.
Lots, holds, purchases and settlements are the sub-ledgers that say where points came from and went.

Points and money are integers (money in minor units with an ISO 4217 currency code); times are UTC.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.events import inbox_table, outbox_tables
from shared.idempotency import idempotency_table
from shared.ids import new_id

SCHEMA = "points"
GENESIS_HASH = "0" * 64


class PointsModel(SQLModel, registry=registry()):
    """Base of this service's tables: a metadata of its own, so migrations see only points."""


metadata = PointsModel.metadata

IDEMPOTENCY = idempotency_table(metadata, SCHEMA)
OUTBOX = outbox_tables(metadata, SCHEMA)
INBOX = inbox_table(metadata, SCHEMA)


def _tz(nullable: bool = False, **kwargs: Any) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, **kwargs)


def _big(nullable: bool = False, default: int | None = 0) -> sa.Column:  # type: ignore[type-arg]
    server_default = None if default is None else str(default)
    return sa.Column(sa.BigInteger, nullable=nullable, server_default=server_default)


def _uuid(*, fk: str | None = None, nullable: bool = False, primary_key: bool = False) -> sa.Column:  # type: ignore[type-arg]
    args: list[Any] = [sa.ForeignKey(f"{SCHEMA}.{fk}")] if fk else []
    return sa.Column(sa.Uuid, *args, nullable=nullable, primary_key=primary_key)


class MemberAccount(PointsModel, table=True):
    """One member's points: balances, what points knows of them (tier, birthday month), chain head."""

    __tablename__ = "member_accounts"
    __table_args__ = (
        # The database refuses a negative balance even if the service had a bug.
        sa.CheckConstraint("available >= 0 AND pending >= 0 AND held >= 0 AND debt >= 0", name="ck_member_accounts_balances"),
        sa.CheckConstraint("birthday_month BETWEEN 1 AND 12", name="ck_member_accounts_birthday_month"),
        sa.CheckConstraint("status IN ('ACTIVE', 'SUSPENDED', 'ERASED')", name="ck_member_accounts_status"),
        {"schema": SCHEMA},
    )

    member_id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    # As learned from members' TierChanged events: the one with the highest sequence wins.
    tier: str | None = Field(default=None, sa_column=sa.Column(sa.String(20), nullable=True))
    tier_sequence: int = Field(default=0, sa_column=_big())
    birthday_month: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger, nullable=True))
    # As learned from members' MemberStatusChanged / MemberErased events (the latest wins; ERASED
    # is final): holds need ACTIVE, an ERASED account is closed (earns nothing, balance to breakage).
    status: str = Field(default="ACTIVE", sa_column=sa.Column(sa.String(16), nullable=False, server_default="ACTIVE"))
    status_changed_at: datetime | None = Field(default=None, sa_column=_tz(True))
    available: int = Field(default=0, sa_column=_big())
    pending: int = Field(default=0, sa_column=_big())
    held: int = Field(default=0, sa_column=_big())
    debt: int = Field(default=0, sa_column=_big())
    lifetime_earned: int = Field(default=0, sa_column=_big())
    lifetime_spent: int = Field(default=0, sa_column=_big())
    lifetime_expired: int = Field(default=0, sa_column=_big())
    # The member's hash chain: number of transactions and the hash of the last one.
    chain_length: int = Field(default=0, sa_column=_big())
    chain_head: str = Field(default=GENESIS_HASH, sa_column=sa.Column(sa.String(64), nullable=False, server_default=GENESIS_HASH))
    created_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))
    updated_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))


class Partner(PointsModel, table=True):
    """A partner as points knows it: its earning programme and what its points cost it.

    The partner itself (name, credentials, benefits) belongs to the benefits service; operators
    register partners here to let them issue points or be paid for redemptions."""

    __tablename__ = "partners"
    __table_args__ = (
        sa.CheckConstraint("earn_points >= 0 AND earn_per_minor > 0", name="ck_partners_rate"),
        sa.CheckConstraint("return_window_days >= 0", name="ck_partners_return_window"),
        sa.CheckConstraint("expiry_months >= 1", name="ck_partners_expiry"),
        sa.CheckConstraint("cost_per_point_minor >= 0", name="ck_partners_cost"),
        sa.CheckConstraint("max_purchase_minor > 0", name="ck_partners_max_purchase"),
        sa.CheckConstraint("max_points_per_member_day > 0", name="ck_partners_max_points_day"),
        sa.CheckConstraint("max_purchase_age_days > 0", name="ck_partners_max_purchase_age"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    name: str | None = Field(default=None, sa_column=sa.Column(sa.String(100), nullable=True))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    earning_enabled: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    # Base rate: `earn_points` points per `earn_per_minor` minor units spent (1 per 100 = 1 per yuan).
    earn_points: int = Field(default=1, sa_column=sa.Column(sa.Integer, nullable=False))
    earn_per_minor: int = Field(default=100, sa_column=sa.Column(sa.Integer, nullable=False))
    return_window_days: int = Field(default=7, sa_column=sa.Column(sa.Integer, nullable=False))
    expiry_months: int = Field(default=36, sa_column=sa.Column(sa.Integer, nullable=False))
    cost_per_point_minor: int = Field(default=0, sa_column=_big())
    # Sanity caps at the ledger's door; null: the defaults from settings (ABG_POINTS_MAX_*).
    max_purchase_minor: int | None = Field(default=None, sa_column=_big(nullable=True, default=None))
    max_points_per_member_day: int | None = Field(default=None, sa_column=_big(nullable=True, default=None))
    max_purchase_age_days: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    created_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))
    updated_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))


class PartnerRegistryStatus(PointsModel, table=True):
    """What the partner registry (the benefits service) last said of a partner: its status and roles,
    from `benefits.PartnerStatusChanged`; the highest version wins, whatever order events arrive in."""

    __tablename__ = "partner_registry"
    __table_args__ = ({"schema": SCHEMA},)

    partner_id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    roles: list[str] = Field(sa_column=sa.Column(ARRAY(sa.String(16)), nullable=False))
    version: int = Field(sa_column=_big(default=None))
    updated_at: datetime = Field(sa_column=_tz())


class EarningPolicy(PointsModel, table=True):
    """Alliance-wide multipliers (one row); in basis points, 10000 = 1x."""

    __tablename__ = "earning_policy"
    __table_args__ = (sa.CheckConstraint("id = 1", name="ck_earning_policy_single_row"), {"schema": SCHEMA})

    id: int = Field(default=1, sa_column=sa.Column(sa.SmallInteger, primary_key=True, autoincrement=False))
    tier_multipliers_bps: dict = Field(sa_column=sa.Column(JSONB, nullable=False))
    birthday_multiplier_bps: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    updated_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))
    updated_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))


class Campaign(PointsModel, table=True):
    """A time-boxed multiplier, for one partner or all, optionally for one purchase category."""

    __tablename__ = "campaigns"
    __table_args__ = (
        sa.CheckConstraint("multiplier_bps > 0", name="ck_campaigns_multiplier"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_campaigns_window"),
        sa.Index("ix_campaigns_window", "starts_at", "ends_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(default_factory=new_id, sa_column=_uuid(primary_key=True))
    name: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    partner_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(fk="partners.id", nullable=True))
    category: str | None = Field(default=None, sa_column=sa.Column(sa.String(50), nullable=True))
    multiplier_bps: int = Field(sa_column=sa.Column(sa.Integer, nullable=False))
    starts_at: datetime = Field(sa_column=_tz())
    ends_at: datetime = Field(sa_column=_tz())
    created_at: datetime = Field(sa_column=_tz(server_default=sa.func.now()))
    created_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))


class LedgerTransaction(PointsModel, table=True):
    """One ledger transaction: never updated or deleted; chained per member by `prev_hash`."""

    __tablename__ = "ledger_transactions"
    __table_args__ = (
        # One chain per member: a fork (two transactions claiming one place) is impossible.
        sa.UniqueConstraint("member_id", "sequence", name="uq_ledger_transactions_member_sequence"),
        sa.Index("ix_ledger_transactions_created", "created_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    member_id: uuid.UUID = Field(sa_column=_uuid())
    sequence: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    actor: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    reference: str | None = Field(default=None, sa_column=sa.Column(sa.String(200), nullable=True))
    detail: dict | None = Field(default=None, sa_column=sa.Column(JSONB, nullable=True))
    created_at: datetime = Field(sa_column=_tz())
    prev_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))


class Lot(PointsModel, table=True):
    """Points credited together, with their provenance. `remaining` are still the member's
    (pending until vested); reserved, spent, expired or clawed-back points have left it."""

    __tablename__ = "lots"
    __table_args__ = (
        sa.CheckConstraint("remaining >= 0 AND remaining <= amount", name="ck_lots_remaining"),
        sa.CheckConstraint("amount > 0", name="ck_lots_amount"),
        # Spending walks a member's live lots first-expiring first.
        sa.Index("ix_lots_member_expiry", "member_id", "expires_at", "id", postgresql_where=sa.text("expired_at IS NULL")),
        sa.Index("ix_lots_to_vest", "vests_at", postgresql_where=sa.text("vested_at IS NULL AND expired_at IS NULL")),
        sa.Index("ix_lots_to_expire", "expires_at", postgresql_where=sa.text("expired_at IS NULL")),
        sa.Index("ix_lots_issuer", "issuer_partner_id"),
        sa.Index("ix_lots_purchase", "purchase_id"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    member_id: uuid.UUID = Field(sa_column=_uuid())
    # None: funded by the alliance itself (operator goodwill credits).
    issuer_partner_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    cost_per_point_minor: int = Field(default=0, sa_column=_big())
    currency: str | None = Field(default=None, sa_column=sa.Column(sa.String(3), nullable=True))
    amount: int = Field(sa_column=_big(default=None))
    remaining: int = Field(sa_column=_big(default=None))
    earned_at: datetime = Field(sa_column=_tz())
    vests_at: datetime = Field(sa_column=_tz())
    expires_at: datetime = Field(sa_column=_tz())
    vested_at: datetime | None = Field(default=None, sa_column=_tz(True))
    expired_at: datetime | None = Field(default=None, sa_column=_tz(True))
    source: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    purchase_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    origin_lot_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    created_tx_id: uuid.UUID = Field(sa_column=_uuid())
    created_at: datetime = Field(sa_column=_tz())


class Posting(PointsModel, table=True):
    """One leg of a transaction. `lot_id` links member-side and issuer-side legs to the lot moved."""

    __tablename__ = "postings"
    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="ck_postings_amount"),
        sa.Index("ix_postings_transaction", "transaction_id"),
        sa.Index("ix_postings_account", "account"),
        sa.Index("ix_postings_lot", "lot_id", postgresql_where=sa.text("lot_id IS NOT NULL")),
        {"schema": SCHEMA},
    )

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True))
    transaction_id: uuid.UUID = Field(sa_column=_uuid(fk="ledger_transactions.id"))
    account: str = Field(sa_column=sa.Column(sa.String(120), nullable=False))
    amount: int = Field(sa_column=_big(default=None))
    lot_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(fk="lots.id", nullable=True))


class Hold(PointsModel, table=True):
    """Points reserved for a redemption: ACTIVE, then CAPTURED (fully or partly; the rest goes
    back), RELEASED, or EXPIRED (released by the job after its time limit)."""

    __tablename__ = "holds"
    __table_args__ = (
        sa.CheckConstraint("status IN ('ACTIVE', 'CAPTURED', 'RELEASED', 'EXPIRED')", name="ck_holds_status"),
        sa.CheckConstraint("amount > 0 AND captured + released <= amount AND refunded <= captured", name="ck_holds_amounts"),
        sa.Index("ix_holds_expiry", "expires_at", postgresql_where=sa.text("status = 'ACTIVE'")),
        sa.Index("ix_holds_member", "member_id", "created_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    member_id: uuid.UUID = Field(sa_column=_uuid())
    amount: int = Field(sa_column=_big(default=None))
    captured: int = Field(default=0, sa_column=_big())
    released: int = Field(default=0, sa_column=_big())
    refunded: int = Field(default=0, sa_column=_big())
    status: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    reference: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    expires_at: datetime = Field(sa_column=_tz())
    beneficiary_partner_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    settlement_value_minor: int | None = Field(default=None, sa_column=_big(nullable=True, default=None))
    settlement_currency: str | None = Field(default=None, sa_column=sa.Column(sa.String(3), nullable=True))
    created_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = Field(sa_column=_tz())
    closed_at: datetime | None = Field(default=None, sa_column=_tz(True))


class HoldAllocation(PointsModel, table=True):
    """How much of one lot a hold reserved, captured and had refunded (with settlement value)."""

    __tablename__ = "hold_allocations"
    __table_args__ = (
        sa.CheckConstraint("amount > 0 AND captured <= amount AND refunded <= captured", name="ck_hold_allocations_amounts"),
        {"schema": SCHEMA},
    )

    hold_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, sa.ForeignKey(f"{SCHEMA}.holds.id"), primary_key=True))
    lot_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, sa.ForeignKey(f"{SCHEMA}.lots.id"), primary_key=True))
    amount: int = Field(sa_column=_big(default=None))
    captured: int = Field(default=0, sa_column=_big())
    refunded: int = Field(default=0, sa_column=_big())
    settled_minor: int = Field(default=0, sa_column=_big())
    refunded_minor: int = Field(default=0, sa_column=_big())


class Settlement(PointsModel, table=True):
    """What a lot's issuer owes a beneficiary for points redeemed (negative lines reverse refunds)."""

    __tablename__ = "settlements"
    __table_args__ = (
        sa.Index("ix_settlements_issuer", "issuer_partner_id", "created_at"),
        sa.Index("ix_settlements_beneficiary", "beneficiary_partner_id", "created_at"),
        {"schema": SCHEMA},
    )

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True))
    transaction_id: uuid.UUID = Field(sa_column=_uuid(fk="ledger_transactions.id"))
    hold_id: uuid.UUID = Field(sa_column=_uuid(fk="holds.id"))
    lot_id: uuid.UUID = Field(sa_column=_uuid(fk="lots.id"))
    issuer_partner_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    beneficiary_partner_id: uuid.UUID = Field(sa_column=_uuid())
    points: int = Field(sa_column=_big(default=None))
    amount_minor: int = Field(sa_column=_big(default=None))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    created_at: datetime = Field(sa_column=_tz())


class Purchase(PointsModel, table=True):
    """A purchase a partner reported, keyed by (partner, external id)."""

    __tablename__ = "purchases"
    __table_args__ = (
        sa.UniqueConstraint("partner_id", "external_id", name="uq_purchases_partner_external"),
        sa.CheckConstraint("amount_minor > 0", name="ck_purchases_amount"),
        sa.CheckConstraint("returned_minor >= 0 AND returned_minor <= amount_minor", name="ck_purchases_returned"),
        sa.CheckConstraint("points_clawed_back >= 0 AND points_clawed_back <= points_earned", name="ck_purchases_clawback"),
        sa.Index("ix_purchases_member", "member_id", "occurred_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    partner_id: uuid.UUID = Field(sa_column=_uuid(fk="partners.id"))
    external_id: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    member_id: uuid.UUID = Field(sa_column=_uuid())
    amount_minor: int = Field(sa_column=_big(default=None))
    currency: str = Field(sa_column=sa.Column(sa.String(3), nullable=False))
    occurred_at: datetime = Field(sa_column=_tz())
    category: str | None = Field(default=None, sa_column=sa.Column(sa.String(50), nullable=True))
    # The input's fingerprint: a replay with other content is refused, not silently accepted.
    fingerprint: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    points_earned: int = Field(sa_column=_big(default=None))
    # How the points were computed (rate, multipliers, campaign), for support and audit.
    rule: dict = Field(sa_column=sa.Column(JSONB, nullable=False))
    lot_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    transaction_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    returned_minor: int = Field(default=0, sa_column=_big())
    points_clawed_back: int = Field(default=0, sa_column=_big())
    recorded_by: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    created_at: datetime = Field(sa_column=_tz())


class PurchaseReturn(PointsModel, table=True):
    """One return against a purchase and how its clawback was taken."""

    __tablename__ = "purchase_returns"
    __table_args__ = (
        sa.UniqueConstraint("purchase_id", "return_key", name="uq_purchase_returns_key"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    purchase_id: uuid.UUID = Field(sa_column=_uuid(fk="purchases.id"))
    return_key: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    amount_minor: int = Field(sa_column=_big(default=None))
    points_clawed_back: int = Field(sa_column=_big(default=None))
    from_purchase_lot: int = Field(sa_column=_big(default=None))
    from_other_lots: int = Field(sa_column=_big(default=None))
    as_debt: int = Field(sa_column=_big(default=None))
    transaction_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    created_at: datetime = Field(sa_column=_tz())


class ExpiryNotice(PointsModel, table=True):
    """A lot whose coming expiry was announced; the job announces each lot once."""

    __tablename__ = "expiry_notices"
    __table_args__ = {"schema": SCHEMA}

    lot_id: uuid.UUID = Field(sa_column=sa.Column(sa.Uuid, sa.ForeignKey(f"{SCHEMA}.lots.id"), primary_key=True))
    member_id: uuid.UUID = Field(sa_column=_uuid())
    points: int = Field(sa_column=_big(default=None))
    expires_at: datetime = Field(sa_column=_tz())
    notified_at: datetime = Field(sa_column=_tz())
