"""Reservations: a benefit held for one redemption in flight, then issued to the member, released,
or (after a refund) voided. Service-only, each step idempotent by the redemption's key.

Budgets follow the reservation: reserve takes its settlement price from the benefit's and its
partner's budget for the period (BUDGET_EXHAUSTED when a hard stop would be passed), issue turns
that into spent, release (or expiry) gives it back, and void (a refund) gives back what was spent.

- reserve: a CODE benefit's oldest AVAILABLE code that no one else holds (`FOR UPDATE SKIP LOCKED`
  on ix_codes_available) becomes RESERVED until the reservation expires; a RECHARGE benefit's
  `stock_reserved` grows by a conditional UPDATE (unlimited without `stock_total`). None left:
  OUT_OF_STOCK.
- issue: the code becomes ISSUED to the member with its validity; stock reserved → issued. The
  code in clear is answered to the calling service (to deliver it), never stored with the answer.
- release: the code is AVAILABLE again / the stock given back. Releasing twice is harmless (the
  expiry job may have released it first).
- void (refund): only an ISSUED code that was not used (USED: ALREADY_USED; past its validity:
  EXPIRED); a recharge's issued stock is given back.

A reservation past its time stays RESERVED until the job releases it; issuing it before then
still works (nobody else can have its code), which spares a slow redemption a needless failure.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits import access, statements
from services.benefits.catalogue.budgets import commit_budget, release_budget, reserve_budget
from services.benefits.catalogue.eligibility import check_eligibility
from services.benefits.catalogue.rules import MemberFacts
from services.benefits.codes import keys, lowstock, rules
from services.benefits.codes import store as codes
from services.benefits.config import get_benefits_settings
from services.benefits.errors import AlreadyUsed, Expired, NotAvailable, OutOfStock
from services.benefits.models import IDEMPOTENCY
from services.benefits.partners.service import require_redeemable_partner
from services.benefits.reservations import store
from services.benefits.reservations.answers import IssuedAnswer, ReservationAnswer
from shared.auth.principals import Principal
from shared.database import Database
from shared.errors import Conflict, DomainError, InvalidInput, NotFound
from shared.idempotency import check_key
from shared.ids import new_id
from shared.timeutil import utcnow

MIN_TTL, MAX_TTL = 10, 86_400
MAX_REFERENCE = 200


async def _checks_before_reserving(session: AsyncSession, benefit: Any, member: MemberFacts | None, now: datetime) -> None:
    """Everything that must hold before a benefit is reserved for a member, in the reserving
    transaction (so what it reads and what it reserves are decided together).

    The owning partner is ACTIVE and redeems (a share lock on its row, so a suspension waits for
    reservations in flight); the benefit is ACTIVE, inside its availability window, and its vouchers'
    fixed end (if any) is still ahead. With the member's facts (from the redemption, which reads them
    from members), the whole eligibility decision as well: tier, birthday perk, per-member limits
    (counted over `reservations` under a per member-and-benefit lock), stock and budget as they stand."""
    await require_redeemable_partner(session, benefit.partner_id, hold=True)
    if member is not None:
        await check_eligibility(session, benefit.id, member, now)
    if benefit.status != "ACTIVE":
        raise NotAvailable(f"this benefit is {benefit.status.lower()}, not redeemable", benefitId=str(benefit.id))
    if benefit.available_from is not None and now < benefit.available_from:
        raise NotAvailable("this benefit is not available yet", benefitId=str(benefit.id), availableFrom=benefit.available_from.isoformat())
    if benefit.available_until is not None and now >= benefit.available_until:
        raise NotAvailable("this benefit is no longer available", benefitId=str(benefit.id))
    if rules.is_past(benefit.valid_until, now):
        raise NotAvailable("this benefit's vouchers are no longer valid", benefitId=str(benefit.id))


@dataclass(frozen=True, slots=True)
class _Target:
    """A reservation's benefit as the budget functions name it."""

    id: uuid.UUID
    partner_id: uuid.UUID


def _budget_target(reservation: Any) -> _Target:
    return _Target(reservation.benefit_id, reservation.partner_id)


def _month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


async def _step(
    db: Database, principal: Principal, *, scope: str, key: str, request: dict[str, Any],
    work: Callable[[AsyncSession], Awaitable[dict[str, Any]]],
    after: Callable[[AsyncSession, dict[str, Any]], Awaitable[Any]] | None = None,
) -> Any:
    """One idempotent step in one transaction; `after` turns the stored answer into the reply (in
    the same transaction, e.g. to decrypt a code that the stored answer must not hold)."""
    access.require_reserver(principal)
    check_key(key)
    return await db.run_transaction(lambda session: _step_in(session, scope=scope, key=key, request=request, work=work,
                                                             after=after))


async def _step_in(
    session: AsyncSession, *, scope: str, key: str, request: dict[str, Any],
    work: Callable[[AsyncSession], Awaitable[dict[str, Any]]],
    after: Callable[[AsyncSession, dict[str, Any]], Awaitable[Any]] | None = None,
) -> Any:
    stored = await statements.run_idempotent(session, IDEMPOTENCY, scope=scope, key=key, request=request, work=lambda: work(session))
    return await after(session, stored) if after else stored


# --- the steps -----------------------------------------------------------------------------------------


async def reserve(
    db: Database, principal: Principal, *, benefit_id: uuid.UUID, member_id: uuid.UUID, key: str,
    ttl_seconds: int | None = None, member: MemberFacts | None = None, now: datetime | None = None,
) -> ReservationAnswer:
    """`member`: the member's tier, status and birthday month as the redemption read them from members;
    with them the reservation applies every eligibility rule, without them the benefit's own."""
    if member is not None and member.member_id != member_id:
        raise InvalidInput("the member's facts are of another member", field="member")
    ttl = get_benefits_settings().reservation_ttl_seconds if ttl_seconds is None else ttl_seconds
    if isinstance(ttl, bool) or not MIN_TTL <= ttl <= MAX_TTL:
        raise InvalidInput(f"ttlSeconds must be between {MIN_TTL} and {MAX_TTL}", field="ttlSeconds")
    request = {"benefitId": benefit_id, "memberId": member_id, "ttlSeconds": ttl,
               "member": [member.tier, member.status, member.birthday_month] if member else None}

    async def work(session: AsyncSession) -> dict[str, Any]:
        at = now or utcnow()
        benefit = await codes.benefit(session, benefit_id)
        if benefit is None:
            raise NotFound("no such benefit", benefitId=str(benefit_id))
        await _checks_before_reserving(session, benefit, member, at)
        await reserve_budget(session, benefit, benefit.settlement_minor, _month_start(at))
        reservation_id, expires_at = new_id(), at + timedelta(seconds=ttl)
        values = dict(id=reservation_id, key=key, benefit_id=benefit_id, member_id=member_id,
                      settlement_minor=benefit.settlement_minor, period_start=_month_start(at), expires_at=expires_at, now=at,
                      created_by=access.actor(principal))
        code_id = last4 = None
        if benefit.delivery == "CODE":
            taken = await store.reserve_code(session, **values)
            if taken is None:
                raise OutOfStock("no code of this benefit is left", benefitId=str(benefit_id))
            assert taken.taken == 1
            code_id, last4 = taken.id, taken.last4
        elif await store.reserve_stock(session, benefit_id):
            await store.insert(session, code_id=None, **values)
        else:
            raise OutOfStock("this benefit's stock is taken", benefitId=str(benefit_id))
        await lowstock.after_stock_fell(session, benefit)
        return ReservationAnswer(
            id=reservation_id, key=key, benefit_id=benefit_id, member_id=member_id, state="RESERVED", code_id=code_id,
            masked_code=rules.masked(last4) if last4 is not None else None, expires_at=expires_at,
            settlement_minor=benefit.settlement_minor, currency=benefit.currency, created_at=at, issued_at=None,
            released_at=None, delivery_reference=None,
        ).model_dump(mode="json")

    stored = await _step(db, principal, scope="benefits.reserve", key=key, request=request, work=work)
    return ReservationAnswer.model_validate(stored)


async def issue(
    db: Database, principal: Principal, *, key: str, delivery_reference: str | None = None, now: datetime | None = None
) -> IssuedAnswer:
    _check_reference(delivery_reference)
    access.require_reserver(principal)
    check_key(key)
    return await db.run_transaction(lambda session: issue_in(session, principal, key=key, delivery_reference=delivery_reference,
                                                             now=now))


async def issue_in(
    session: AsyncSession, principal: Principal, *, key: str, delivery_reference: str | None = None, now: datetime | None = None
) -> IssuedAnswer:
    """`issue` in the caller's transaction (a recharge is issued in the one that logs its delivery)."""
    _check_reference(delivery_reference)
    access.require_reserver(principal)
    check_key(key)
    clear: list[str] = []  # the code in clear, when this call issued it (a replay decrypts it again)

    async def work(session: AsyncSession) -> dict[str, Any]:
        at = now or utcnow()
        reservation = await _locked(session, key)
        if reservation.state != "RESERVED":
            raise _wrong_state(reservation, "issued")
        valid_until = None
        if reservation.code_id is not None:
            valid_until = rules.valid_until(at, reservation.validity_days, reservation.benefit_valid_until)
            if rules.is_past(valid_until, at):
                raise Expired("this benefit's vouchers are no longer valid; release the reservation", key=key)
            if not await store.issue_code(session, reservation_id=reservation.id, code_id=reservation.code_id,
                                          member_id=reservation.member_id, now=at, valid_until=valid_until,
                                          delivery_reference=delivery_reference):
                raise RuntimeError(f"code of reservation {reservation.id} is not RESERVED")
            clear.append(keys.PoolKeys([(reservation.benefit_id, bytes(reservation.data_key))]).decrypt(
                reservation.benefit_id, reservation.code_id, bytes(reservation.code_encrypted)))
        else:
            await store.move_stock(session, reservation.benefit_id, reserved=-1, issued=1)
            await store.set_state(session, reservation.id, from_state="RESERVED", to_state="ISSUED", issued_at=at,
                                  delivery_reference=delivery_reference)
        await commit_budget(session, _budget_target(reservation), reservation.settlement_minor, reservation.period_start)
        issued = ReservationAnswer.of(reservation).model_copy(
            update={"state": "ISSUED", "issued_at": at, "delivery_reference": delivery_reference})
        return IssuedAnswer(reservation=issued, valid_until=valid_until).model_dump(mode="json")

    async def with_code(session: AsyncSession, stored: dict[str, Any]) -> IssuedAnswer:
        answer = IssuedAnswer.model_validate(stored)
        code_id = answer.reservation.code_id
        if clear:
            answer.code = clear[0]
        elif code_id is not None:
            (row,) = await codes.codes_by_id(session, [code_id])
            pool_keys = keys.PoolKeys(await codes.data_keys(session, [row.benefit_id]))
            answer.code = pool_keys.decrypt(row.benefit_id, row.id, bytes(row.code_encrypted))
        return answer

    return await _step_in(session, scope="benefits.issue", key=key, request={"deliveryReference": delivery_reference},
                          work=work, after=with_code)


def _check_reference(delivery_reference: str | None) -> None:
    if delivery_reference is not None and not 1 <= len(delivery_reference) <= MAX_REFERENCE:
        raise InvalidInput(f"deliveryReference must be 1 to {MAX_REFERENCE} characters", field="deliveryReference")


async def release(db: Database, principal: Principal, *, key: str, now: datetime | None = None) -> ReservationAnswer:
    async def work(session: AsyncSession) -> dict[str, Any]:
        reservation = await _locked(session, key)
        if reservation.state == "RESERVED":
            await release_locked(session, reservation, now or utcnow())
        elif reservation.state != "RELEASED":
            raise _wrong_state(reservation, "released")
        return await _answer(session, reservation.id)

    stored = await _step(db, principal, scope="benefits.release", key=key, request={}, work=work)
    return ReservationAnswer.model_validate(stored)


async def release_locked(session: AsyncSession, reservation: Any, now: datetime) -> None:
    """Gives a RESERVED reservation's code or stock back (its row locked by the caller)."""
    if reservation.code_id is not None:
        await codes.move(session, reservation.code_id, from_state="RESERVED", to_state="AVAILABLE", reservation_id=None,
                         reserved_until=None)
    else:
        await store.move_stock(session, reservation.benefit_id, reserved=-1, issued=0)
    await store.set_state(session, reservation.id, from_state="RESERVED", to_state="RELEASED", released_at=now)
    await release_budget(session, _budget_target(reservation), reservation.settlement_minor, reservation.period_start)


async def void(db: Database, principal: Principal, *, key: str, now: datetime | None = None) -> ReservationAnswer:
    access.require_reserver(principal)
    check_key(key)
    return await db.run_transaction(lambda session: void_in(session, principal, key=key, now=now))


async def void_in(session: AsyncSession, principal: Principal, *, key: str, now: datetime | None = None) -> ReservationAnswer:
    """`void` in the caller's transaction (a revoked recharge is voided in the one that logs the revoke)."""
    access.require_reserver(principal)
    check_key(key)

    async def work(session: AsyncSession) -> dict[str, Any]:
        at = now or utcnow()
        reservation = await _locked(session, key)
        if reservation.state == "ISSUED":
            if reservation.code_id is not None:
                code = await codes.lock_code(session, reservation.code_id)
                assert code is not None
                if code.state == "USED":
                    raise AlreadyUsed("this code was written off; it cannot be voided", key=key)
                if code.state == "EXPIRED" or (code.state == "ISSUED" and rules.is_past(code.valid_until, at)):
                    raise Expired("this code's validity has ended; it cannot be voided", key=key)
                await codes.move(session, code.id, from_state="ISSUED", to_state="VOIDED", voided_at=at)
            else:
                await store.move_stock(session, reservation.benefit_id, reserved=0, issued=-1)
            await store.set_state(session, reservation.id, from_state="ISSUED", to_state="VOIDED", released_at=at)
            await release_budget(session, _budget_target(reservation), reservation.settlement_minor, reservation.period_start,
                                 spent=True)
        elif reservation.state != "VOIDED":
            raise _wrong_state(reservation, "voided")
        return await _answer(session, reservation.id)

    stored = await _step_in(session, scope="benefits.void", key=key, request={}, work=work)
    return ReservationAnswer.model_validate(stored)


# --- reads and helpers ------------------------------------------------------------------------------


async def reservations(db: Database, principal: Principal, keys_: Sequence[str]) -> list[ReservationAnswer | None]:
    """Reservations by key, for services and staff (codes masked)."""
    access.require_reservation_reader(principal)
    async with db.session() as session:
        found = {row.key: ReservationAnswer.of(row) for row in await store.by_keys(session, keys_)}
    return [found.get(key) for key in keys_]


async def _locked(session: AsyncSession, key: str) -> Any:
    reservation = await store.lock_by_key(session, key)
    if reservation is None:
        raise NotFound("no reservation with this key", key=key)
    return reservation


async def lock_in(session: AsyncSession, key: str) -> Any:
    """A reservation's row locked in the caller's transaction, the first lock every step takes
    (for a step of another concept that decides on it: delivering a recharge)."""
    return await _locked(session, key)


async def _answer(session: AsyncSession, reservation_id: uuid.UUID) -> dict[str, Any]:
    row = await store.by_id(session, reservation_id)
    assert row is not None
    return ReservationAnswer.of(row).model_dump(mode="json")


def _wrong_state(reservation: Any, wanted: str) -> DomainError:
    why = {
        "RESERVED": "it is still reserved (release it instead)",
        "ISSUED": "it was issued (void it instead)",
        "RELEASED": "it was released (its time ran out or it was given back); reserve again",
        "VOIDED": "it was voided",
    }[reservation.state]
    return Conflict(f"this reservation cannot be {wanted}: {why}", key=reservation.key, state=reservation.state)
