"""The points service's operations, as the GraphQL layer, events and jobs call them.

Each operation validates its input before it opens a transaction (a bad request costs no lock),
then runs as one retried transaction with its idempotency key (see `operation`). The rules live in
the modules named here: holds, purchases, returns, adjustments, jobs, checks. `caller` names who
asks (e.g. "service:redemptions", "partner:<id>", "staff:<id>"); idempotency keys are per caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.dialects.postgresql import insert

from services.points import adjustments, events, holds, partners, purchases, returns
from services.points.answers import AdjustAnswer, CaptureAnswer, HoldView, PurchaseAnswer, RefundAnswer, ReleaseAnswer, ReturnAnswer
from services.points.config import PointsSettings, get_points_settings
from services.points.directory import MemberDirectory, default_directory
from services.points.ledger import LedgerUnit, ensure_accounts
from services.points.models import IDEMPOTENCY, accounts_t
from services.points.partners import PartnerProgram, check_currency, get_partner
from services.points.purchases import PurchaseInput
from shared.database import Database, Idempotency, run_operation
from shared.errors import DomainError, InvalidInput, NotFound
from shared.timeutil import utcnow

MAX_POINTS = 10**12  # far above any real balance; refuses overflow-sized input early
MAX_REFERENCE = 200
MAX_REASON = 500


def _positive(points: int, field: str = "points") -> int:
    if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= MAX_POINTS:
        raise InvalidInput(f"{field} must be a positive whole number of points", field=field)
    return points


def _text(value: str | None, field: str, limit: int, *, required: bool = True) -> str | None:
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"{field} is required", field=field)
        return None
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    return value


# --- holds (service callers: redemptions) ---------------------------------------------------------


async def hold_points(
    db: Database,
    *,
    member_id: uuid.UUID,
    points: int,
    ttl_seconds: int,
    reference: str,
    idempotency_key: str,
    caller: str,
    now: datetime | None = None,
) -> HoldView:
    settings = get_points_settings()
    _positive(points)
    if not settings.min_hold_ttl_seconds <= ttl_seconds <= settings.max_hold_ttl_seconds:
        raise InvalidInput(
            f"ttlSeconds must be {settings.min_hold_ttl_seconds} to {settings.max_hold_ttl_seconds}", field="ttlSeconds"
        )
    _text(reference, "reference", MAX_REFERENCE)
    request = {"member": str(member_id), "points": points, "ttl": ttl_seconds, "reference": reference}
    return await run_operation(
        db,
        LedgerUnit,
        lambda unit: holds.hold(unit, member_id=member_id, points=points, ttl=timedelta(seconds=ttl_seconds), reference=reference, actor=caller),
        HoldView,
        idempotency=Idempotency(IDEMPOTENCY, f"hold:{caller}", idempotency_key, request),
        now=now,
    )


async def _beneficiary(unit: LedgerUnit, partner_id: uuid.UUID, currency: str) -> PartnerProgram:
    row = (await unit.execute(partners.BY_ID, {"partner_id": partner_id})).first()
    partner = PartnerProgram(**row._mapping) if row else None
    if partner is None:
        raise NotFound("the beneficiary is not registered with the points programme", partnerId=str(partner_id))
    if partner.currency != currency:
        raise InvalidInput(f"the beneficiary settles in {partner.currency}", field="currency", expected=partner.currency, got=currency)
    return partner


async def capture_hold(
    db: Database,
    *,
    hold_id: uuid.UUID,
    points: int,
    beneficiary_partner_id: uuid.UUID,
    value_minor: int,
    currency: str,
    idempotency_key: str,
    caller: str,
    now: datetime | None = None,
) -> CaptureAnswer:
    _positive(points)
    if isinstance(value_minor, bool) or not 0 <= value_minor <= MAX_POINTS:
        raise InvalidInput("the settlement value must be zero or more minor units", field="valueMinor")
    check_currency(currency)

    async def work(unit: LedgerUnit) -> CaptureAnswer:
        await _beneficiary(unit, beneficiary_partner_id, currency)
        return await holds.capture(
            unit, hold_id=hold_id, points=points, beneficiary_partner_id=beneficiary_partner_id,
            value_minor=value_minor, currency=currency, actor=caller,
        )

    request = {"hold": str(hold_id), "points": points, "beneficiary": str(beneficiary_partner_id), "value": value_minor, "currency": currency}
    idempotency = Idempotency(IDEMPOTENCY, f"capture:{caller}", idempotency_key, request)
    return await run_operation(db, LedgerUnit, work, CaptureAnswer, idempotency=idempotency, now=now)


async def release_hold(
    db: Database, *, hold_id: uuid.UUID, idempotency_key: str, caller: str, now: datetime | None = None
) -> ReleaseAnswer:
    return await run_operation(
        db,
        LedgerUnit,
        lambda unit: holds.release(unit, hold_id=hold_id, actor=caller),
        ReleaseAnswer,
        idempotency=Idempotency(IDEMPOTENCY, f"release:{caller}", idempotency_key, {"hold": str(hold_id)}),
        now=now,
    )


async def refund_capture(
    db: Database,
    *,
    hold_id: uuid.UUID,
    points: int,
    idempotency_key: str,
    caller: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> RefundAnswer:
    _positive(points)
    _text(reason, "reason", MAX_REASON, required=False)
    grace = timedelta(days=get_points_settings().grace_days)
    return await run_operation(
        db,
        LedgerUnit,
        lambda unit: holds.refund(unit, hold_id=hold_id, points=points, grace=grace, actor=caller, reason=reason),
        RefundAnswer,
        idempotency=Idempotency(IDEMPOTENCY, f"refund:{caller}", idempotency_key, {"hold": str(hold_id), "points": points, "reason": reason}),
        now=now,
    )


# --- purchases and returns (earning partners, services) ------------------------------------------


async def record_purchases(
    db: Database,
    items: Sequence[PurchaseInput],
    *,
    caller: str,
    allowed_partner: uuid.UUID | None = None,
    directory: MemberDirectory | None = None,
    settings: PointsSettings | None = None,
    now: datetime | None = None,
) -> list[PurchaseAnswer | DomainError]:
    return await purchases.record_purchases(
        db,
        items,
        actor=caller,
        allowed_partner=allowed_partner,
        directory=directory or default_directory(),
        settings=settings or get_points_settings(),
        now=now,
    )


async def record_purchase(
    db: Database,
    item: PurchaseInput,
    *,
    caller: str,
    allowed_partner: uuid.UUID | None = None,
    directory: MemberDirectory | None = None,
    now: datetime | None = None,
) -> PurchaseAnswer:
    (result,) = await record_purchases(db, [item], caller=caller, allowed_partner=allowed_partner, directory=directory, now=now)
    if isinstance(result, DomainError):
        raise result
    return result


async def record_return(
    db: Database,
    *,
    partner_id: uuid.UUID,
    external_id: str,
    return_key: str,
    amount_minor: int,
    currency: str,
    caller: str,
    now: datetime | None = None,
) -> ReturnAnswer:
    """`return_key` is the idempotency key of the return (the partner's own return id)."""
    if isinstance(amount_minor, bool) or not 0 < amount_minor <= purchases.MAX_AMOUNT_MINOR:
        raise InvalidInput("amountMinor must be a positive amount in minor units", field="amountMinor")
    check_currency(currency)
    _text(external_id, "externalId", purchases.MAX_EXTERNAL_ID)
    request = {"externalId": external_id, "amount": amount_minor, "currency": currency}
    answer = await run_operation(
        db,
        LedgerUnit,
        lambda unit: returns.record_return(
            unit, partner_id=partner_id, external_id=external_id, return_key=return_key,
            amount_minor=amount_minor, currency=currency, actor=caller,
        ),
        ReturnAnswer,
        idempotency=Idempotency(IDEMPOTENCY, f"return:{partner_id}", return_key, request),
        now=now,
    )
    events.wake()
    return answer


# --- operators ----------------------------------------------------------------------------------


async def adjust_points(
    db: Database,
    *,
    member_id: uuid.UUID,
    points: int,
    reason: str,
    idempotency_key: str,
    caller: str,
    issuer_partner_id: uuid.UUID | None = None,
    directory: MemberDirectory | None = None,
    now: datetime | None = None,
) -> AdjustAnswer:
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > MAX_POINTS:
        raise InvalidInput("points must be a non-zero whole number (negative to debit)", field="points")
    _text(reason, "reason", MAX_REASON)
    issuer = await get_partner(db, issuer_partner_id) if issuer_partner_id else None
    if points > 0 and member_id not in await (directory or default_directory()).existing(db, [member_id]):
        raise NotFound("no such member", memberId=str(member_id))
    settings = get_points_settings()

    async def work(unit: LedgerUnit) -> AdjustAnswer:
        await ensure_accounts(unit, [member_id])
        return await adjustments.adjust(
            unit, member_id=member_id, points=points, reason=reason, issuer=issuer, actor=caller, settings=settings
        )

    request = {"member": str(member_id), "points": points, "reason": reason, "issuer": str(issuer_partner_id) if issuer_partner_id else None}
    idempotency = Idempotency(IDEMPOTENCY, f"adjust:{caller}", idempotency_key, request)
    return await run_operation(db, LedgerUnit, work, AdjustAnswer, idempotency=idempotency, now=now)


async def set_points_profile(
    db: Database, *, member_id: uuid.UUID, birthday_month: int | None, directory: MemberDirectory | None = None
) -> None:
    """What points keeps about a member besides their tier: the birthday month for the birthday
    multiplier (members does not publish birthdays; a service or an operator sets it here)."""
    if birthday_month is not None and not 1 <= birthday_month <= 12:
        raise InvalidInput("birthdayMonth is 1 to 12", field="birthdayMonth")
    if member_id not in await (directory or default_directory()).existing(db, [member_id]):
        raise NotFound("no such member", memberId=str(member_id))
    async with db.engine.begin() as connection:
        await connection.execute(
            insert(accounts_t)
            .values(member_id=member_id, birthday_month=birthday_month)
            .on_conflict_do_update(index_elements=["member_id"], set_={"birthday_month": birthday_month, "updated_at": utcnow()})
        )

