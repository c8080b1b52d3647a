"""Tables of the `benefits` schema: the partner registry, the catalogue, budgets, code pools, write-offs,
reservations of benefits for redemptions in flight, and the partners' webhook deliveries.

Money is an integer in minor units beside an ISO 4217 currency code; points are integers; times are UTC.
States are short upper-case strings checked by the database, so a bug cannot write a state that does not exist.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.events import inbox_table, outbox_tables
from shared.idempotency import idempotency_table

from services.benefits.columns import SCHEMA, _big, _in, _int, _str, _strings, _tz, _uuid


class BenefitsModel(SQLModel, registry=registry()):
    """Base of this service's tables: a metadata of its own, so migrations see only benefits."""


metadata = BenefitsModel.metadata

IDEMPOTENCY = idempotency_table(metadata, SCHEMA)
OUTBOX = outbox_tables(metadata, SCHEMA)
INBOX = inbox_table(metadata, SCHEMA)


PARTNER_STATUSES = ("PENDING", "ACTIVE", "SUSPENDED")
PARTNER_ROLES = ("EARNING", "REDEMPTION")
BENEFIT_KINDS = ("VOUCHER", "VIDEO_MEMBERSHIP")
DELIVERY_MODES = ("CODE", "RECHARGE")
BENEFIT_STATUSES = ("DRAFT", "ACTIVE", "PAUSED", "RETIRED")
CODE_STATES = ("AVAILABLE", "RESERVED", "ISSUED", "USED", "VOIDED", "EXPIRED")
RESERVATION_STATES = ("RESERVED", "ISSUED", "RELEASED", "VOIDED")
BUDGET_SCOPES = ("BENEFIT", "PARTNER")
DELIVERY_STATUSES = ("PENDING", "DELIVERED", "FAILED")
SECRET_PURPOSES = ("WEBHOOK", "FULFILMENT")


# --- partners --------------------------------------------------------------------------------------


class Partner(BenefitsModel, table=True):
    """A brand or platform of the alliance. Its public face (name, logo, categories) is readable by
    every signed-in caller; the rest by the partner itself and staff."""

    __tablename__ = "partners"
    __table_args__ = (
        _in("status", PARTNER_STATUSES, "ck_partners_status"),
        sa.CheckConstraint(f"cardinality(roles) >= 1 AND roles <@ ARRAY{list(PARTNER_ROLES)}::varchar[]", name="ck_partners_roles"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="ck_partners_currency"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    name: str = Field(sa_column=_str(100))
    brand: str = Field(sa_column=_str(100))
    status: str = Field(sa_column=_str(16))
    roles: list[str] = Field(sa_column=sa.Column(ARRAY(sa.String(16)), nullable=False))
    currency: str = Field(sa_column=_str(3))
    contact_name: str | None = Field(default=None, sa_column=_str(100, nullable=True))
    contact_email: str | None = Field(default=None, sa_column=_str(254, nullable=True))
    logo_url: str | None = Field(default=None, sa_column=_str(500, nullable=True))
    categories: list[str] = Field(default_factory=list, sa_column=_strings())
    webhook_url: str | None = Field(default=None, sa_column=_str(500, nullable=True))
    fulfilment_url: str | None = Field(default=None, sa_column=_str(500, nullable=True))
    # Why an operator suspended it (kept until it is activated again).
    status_reason: str | None = Field(default=None, sa_column=_str(500, nullable=True))
    created_at: datetime = Field(sa_column=_tz())
    updated_at: datetime = Field(sa_column=_tz())
    # Bumped by every change: events carry it so consumers ignore an older status than they hold.
    version: int = Field(default=1, sa_column=_big(default=1))


class ApiKey(BenefitsModel, table=True):
    """A partner's credential: `abk_<prefix>_<secret>`, shown once; the secret is kept only as a keyed
    hash, found by its public prefix. Several per partner (rotation); revocable."""

    __tablename__ = "api_keys"
    __table_args__ = (sa.Index("ix_api_keys_partner", "partner_id"), {"schema": SCHEMA})

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    partner_id: uuid.UUID = Field(sa_column=_uuid(fk="partners.id"))
    prefix: str = Field(sa_column=_str(16, unique=True))
    secret_hash: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    label: str | None = Field(default=None, sa_column=_str(100, nullable=True))
    created_at: datetime = Field(sa_column=_tz())
    created_by: str = Field(sa_column=_str(200))
    last_used_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    revoked_by: str | None = Field(default=None, sa_column=_str(200, nullable=True))


class WebhookSecret(BenefitsModel, table=True):
    """A partner's signing secret (encrypted at rest): for the webhooks we send it, or for our
    fulfilment calls to it (`purpose`; each rotated on its own). During a rotation the old one stays
    active until `expires_at`, and every request is signed with each active secret."""

    __tablename__ = "webhook_secrets"
    __table_args__ = (
        _in("purpose", SECRET_PURPOSES, "ck_webhook_secrets_purpose"),
        sa.Index("ix_webhook_secrets_partner", "partner_id", "purpose"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    partner_id: uuid.UUID = Field(sa_column=_uuid(fk="partners.id"))
    purpose: str = Field(default="WEBHOOK", sa_column=_str(10, server_default="WEBHOOK"))
    secret: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=_tz())
    expires_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))


class WebhookDelivery(BenefitsModel, table=True):
    """One event to one partner's endpoint, and every attempt to deliver it (the partner reads this log
    and may ask for a redelivery)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        _in("status", DELIVERY_STATUSES, "ck_webhook_deliveries_status"),
        sa.UniqueConstraint("event_id", "partner_id", name="uq_webhook_deliveries_event_partner"),
        sa.Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=sa.text("status = 'PENDING'")),
        sa.Index("ix_webhook_deliveries_partner", "partner_id", "created_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    event_id: uuid.UUID = Field(sa_column=_uuid())
    partner_id: uuid.UUID = Field(sa_column=_uuid(fk="partners.id"))
    event_type: str = Field(sa_column=_str(100))
    payload: dict = Field(sa_column=sa.Column(JSONB, nullable=False))
    status: str = Field(sa_column=_str(16))
    attempts: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    leased_until: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    # [{at, url, status, error, latencyMs}] newest last, bounded by the dispatcher.
    log: list = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]"))
    created_at: datetime = Field(sa_column=_tz())
    delivered_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))


# --- catalogue ---------------------------------------------------------------------------------------


class Benefit(BenefitsModel, table=True):
    """Something a member can redeem points for, owned by one partner."""

    __tablename__ = "benefits"
    __table_args__ = (
        _in("kind", BENEFIT_KINDS, "ck_benefits_kind"),
        _in("delivery", DELIVERY_MODES, "ck_benefits_delivery"),
        _in("status", BENEFIT_STATUSES, "ck_benefits_status"),
        sa.CheckConstraint("points_price >= 0 AND settlement_minor >= 0", name="ck_benefits_prices"),
        sa.CheckConstraint("face_value_minor IS NULL OR face_value_minor >= 0", name="ck_benefits_face_value"),
        sa.CheckConstraint("available_until IS NULL OR available_from IS NULL OR available_until > available_from", name="ck_benefits_window"),
        sa.CheckConstraint("refund_window_days IS NULL OR refund_window_days BETWEEN 0 AND 365", name="ck_benefits_refund_window"),
        sa.CheckConstraint(
            "stock_total IS NULL OR (stock_reserved >= 0 AND stock_issued >= 0 AND stock_reserved + stock_issued <= stock_total)",
            name="ck_benefits_stock",
        ),
        sa.Index("ix_benefits_partner", "partner_id"),
        sa.Index("ix_benefits_status_points", "status", "points_price", "id"),
        sa.Index("ix_benefits_status_created", "status", "created_at", "id"),
        sa.Index("ix_benefits_status_title", "status", "title", "id"),
        sa.Index("ix_benefits_categories", "categories", postgresql_using="gin"),
        sa.Index("ix_benefits_tags", "tags", postgresql_using="gin"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    partner_id: uuid.UUID = Field(sa_column=_uuid(fk="partners.id"))
    kind: str = Field(sa_column=_str(20))
    delivery: str = Field(sa_column=_str(10))
    status: str = Field(sa_column=_str(10))
    title: str = Field(sa_column=_str(200))
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    image_url: str | None = Field(default=None, sa_column=_str(500, nullable=True))
    categories: list[str] = Field(default_factory=list, sa_column=_strings())
    tags: list[str] = Field(default_factory=list, sa_column=_strings())
    points_price: int = Field(sa_column=_big(default=None))
    settlement_minor: int = Field(sa_column=_big(default=None))
    currency: str = Field(sa_column=_str(3))
    # VOUCHER
    face_value_minor: int | None = Field(default=None, sa_column=_big(nullable=True, default=None))
    terms: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    validity_days: int | None = Field(default=None, sa_column=_int())
    valid_until: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    # VIDEO_MEMBERSHIP
    platform: str | None = Field(default=None, sa_column=_str(50, nullable=True))
    duration_days: int | None = Field(default=None, sa_column=_int())
    # Eligibility
    min_tier: str | None = Field(default=None, sa_column=_str(20, nullable=True))
    available_from: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    available_until: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    limit_per_day: int | None = Field(default=None, sa_column=_int())
    limit_per_month: int | None = Field(default=None, sa_column=_int())
    limit_lifetime: int | None = Field(default=None, sa_column=_int())
    birthday_perk: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    # Members may ask for a refund of an unused redemption within this many days of it; NULL: only
    # operators refund.
    refund_window_days: int | None = Field(default=None, sa_column=sa.Column(sa.SmallInteger, nullable=True))
    # Stock: null total = unlimited (recharges); codes count from the pool instead.
    stock_total: int | None = Field(default=None, sa_column=_big(nullable=True, default=None))
    stock_reserved: int = Field(default=0, sa_column=_big())
    stock_issued: int = Field(default=0, sa_column=_big())
    low_stock_threshold: int | None = Field(default=None, sa_column=_int())
    low_stock_alerted: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    # Encrypts this benefit's codes (wrapped by the master key): dropping it shreds the pool.
    data_key: bytes | None = Field(default=None, sa_column=sa.Column(sa.LargeBinary, nullable=True))
    created_at: datetime = Field(sa_column=_tz())
    updated_at: datetime = Field(sa_column=_tz())


class Budget(BenefitsModel, table=True):
    """A spending cap in settlement value per period, for one benefit or (benefit_id NULL) all of one partner's."""

    __tablename__ = "budgets"
    __table_args__ = (
        _in("scope", BUDGET_SCOPES, "ck_budgets_scope"),
        sa.CheckConstraint("limit_minor >= 0", name="ck_budgets_limit"),
        sa.CheckConstraint(
            "(scope = 'BENEFIT' AND benefit_id IS NOT NULL) OR (scope = 'PARTNER' AND benefit_id IS NULL)", name="ck_budgets_target"
        ),
        sa.UniqueConstraint("partner_id", "benefit_id", name="uq_budgets_target", postgresql_nulls_not_distinct=True),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    scope: str = Field(sa_column=_str(10))
    partner_id: uuid.UUID = Field(sa_column=_uuid(fk="partners.id"))
    benefit_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(fk="benefits.id", nullable=True))
    period: str = Field(default="MONTH", sa_column=_str(10))
    limit_minor: int = Field(sa_column=_big(default=None))
    currency: str = Field(sa_column=_str(3))
    thresholds_percent: list[int] = Field(sa_column=sa.Column(ARRAY(sa.Integer), nullable=False, server_default="{80,100}"))
    hard_stop: bool = Field(default=True, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.true()))
    updated_at: datetime = Field(sa_column=_tz())


class BudgetPeriod(BenefitsModel, table=True):
    """What one budget has reserved and spent in one period, and which alert thresholds have fired."""

    __tablename__ = "budget_periods"
    __table_args__ = (
        sa.CheckConstraint("reserved_minor >= 0 AND spent_minor >= 0", name="ck_budget_periods_amounts"),
        {"schema": SCHEMA},
    )

    budget_id: uuid.UUID = Field(sa_column=_uuid(fk="budgets.id", primary_key=True))
    period_start: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), primary_key=True))
    reserved_minor: int = Field(default=0, sa_column=_big())
    spent_minor: int = Field(default=0, sa_column=_big())
    alerted_percent: list[int] = Field(default_factory=list, sa_column=sa.Column(ARRAY(sa.Integer), nullable=False, server_default="{}"))


# --- reservations and codes ---------------------------------------------------------------------------


class Reservation(BenefitsModel, table=True):
    """A benefit held for one redemption in flight: its stock or code and its budget, then issued to
    the member or released. Keyed by the redemption's key, so every step is idempotent, and the
    per-member limits count these rows."""

    __tablename__ = "reservations"
    __table_args__ = (
        _in("state", RESERVATION_STATES, "ck_reservations_state"),
        sa.UniqueConstraint("key", name="uq_reservations_key"),
        sa.Index("ix_reservations_member_benefit", "member_id", "benefit_id", "created_at"),
        sa.Index("ix_reservations_expiry", "expires_at", postgresql_where=sa.text("state = 'RESERVED'")),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    key: str = Field(sa_column=_str(200))
    benefit_id: uuid.UUID = Field(sa_column=_uuid(fk="benefits.id"))
    member_id: uuid.UUID = Field(sa_column=_uuid())
    state: str = Field(sa_column=_str(10))
    settlement_minor: int = Field(sa_column=_big(default=None))
    period_start: datetime = Field(sa_column=_tz())
    code_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    # Recharges: the partner's reference once delivered.
    delivery_reference: str | None = Field(default=None, sa_column=_str(200, nullable=True))
    expires_at: datetime = Field(sa_column=_tz())
    created_at: datetime = Field(sa_column=_tz())
    issued_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    released_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    created_by: str = Field(sa_column=_str(200))


class CodeUpload(BenefitsModel, table=True):
    """One upload (or generation) of codes into a benefit's pool, idempotent by its key."""

    __tablename__ = "code_uploads"
    __table_args__ = (sa.UniqueConstraint("benefit_id", "key", name="uq_code_uploads_key"), {"schema": SCHEMA})

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    benefit_id: uuid.UUID = Field(sa_column=_uuid(fk="benefits.id"))
    key: str = Field(sa_column=_str(200))
    fingerprint: str = Field(sa_column=_str(64))
    accepted: int = Field(default=0, sa_column=_big())
    rejected: int = Field(default=0, sa_column=_big())
    # The first rejected lines: [{line, reason}] (bounded; the counts are complete).
    errors: list = Field(default_factory=list, sa_column=sa.Column(JSONB, nullable=False, server_default="[]"))
    created_at: datetime = Field(sa_column=_tz())
    created_by: str = Field(sa_column=_str(200))


class Code(BenefitsModel, table=True):
    """One voucher or activation code: bearer value, so encrypted; found by a keyed hash."""

    __tablename__ = "codes"
    __table_args__ = (
        _in("state", CODE_STATES, "ck_codes_state"),
        sa.UniqueConstraint("code_hash", name="uq_codes_hash"),
        # Reservation takes the oldest available code of a benefit, skipping locked ones.
        sa.Index("ix_codes_available", "benefit_id", "id", postgresql_where=sa.text("state = 'AVAILABLE'")),
        sa.Index("ix_codes_reserved_expiry", "reserved_until", postgresql_where=sa.text("state = 'RESERVED'")),
        sa.Index("ix_codes_member", "member_id", postgresql_where=sa.text("member_id IS NOT NULL")),
        sa.Index("ix_codes_benefit", "benefit_id", "id", postgresql_include=["state"]),
        sa.Index("ix_codes_issued_expiry", "valid_until", postgresql_where=sa.text("state = 'ISSUED'")),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    benefit_id: uuid.UUID = Field(sa_column=_uuid(fk="benefits.id"))
    upload_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(fk="code_uploads.id", nullable=True))
    code_hash: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    code_encrypted: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    last4: str = Field(sa_column=_str(4))
    state: str = Field(sa_column=_str(10))
    reservation_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    reserved_until: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    member_id: uuid.UUID | None = Field(default=None, sa_column=_uuid(nullable=True))
    issued_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    valid_until: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    used_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    voided_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    created_at: datetime = Field(sa_column=_tz())


class WriteOff(BenefitsModel, table=True):
    """The audit of a code written off at a partner's store (and of its undoing)."""

    __tablename__ = "write_offs"
    __table_args__ = (
        sa.UniqueConstraint("partner_id", "key", name="uq_write_offs_key"),
        sa.Index("ix_write_offs_code", "code_id"),
        sa.Index("ix_write_offs_partner", "partner_id", "created_at"),
        {"schema": SCHEMA},
    )

    id: uuid.UUID = Field(sa_column=_uuid(primary_key=True))
    code_id: uuid.UUID = Field(sa_column=_uuid(fk="codes.id"))
    benefit_id: uuid.UUID = Field(sa_column=_uuid(fk="benefits.id"))
    partner_id: uuid.UUID = Field(sa_column=_uuid(fk="partners.id"))
    key: str = Field(sa_column=_str(200))
    store_id: str = Field(sa_column=_str(100))
    created_at: datetime = Field(sa_column=_tz())
    created_by: str = Field(sa_column=_str(200))
    undone_at: datetime | None = Field(default=None, sa_column=_tz(nullable=True))
    undone_by: str | None = Field(default=None, sa_column=_str(200, nullable=True))


class DeliveryAttempt(BenefitsModel, table=True):
    """Every call to a partner's fulfilment endpoint (recharges), kept for support."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (sa.Index("ix_delivery_attempts_reservation", "reservation_id", "at"), {"schema": SCHEMA})

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger, sa.Identity(), primary_key=True))
    reservation_id: uuid.UUID = Field(sa_column=_uuid(fk="reservations.id"))
    partner_id: uuid.UUID = Field(sa_column=_uuid(fk="partners.id"))
    at: datetime = Field(sa_column=_tz())
    request: str = Field(sa_column=_str(20))
    http_status: int | None = Field(default=None, sa_column=_int())
    error: str | None = Field(default=None, sa_column=_str(500, nullable=True))
    latency_ms: int | None = Field(default=None, sa_column=_int())
    outcome: str = Field(sa_column=_str(20))
    # The partner's reference (delivered) or reason code (refused), when it gave one.
    detail: str | None = Field(default=None, sa_column=_str(256, nullable=True))
