"""Delivering video memberships by direct recharge, wired into reservations (service principals).

`deliver_recharge(key, account)` delivers a RESERVED reservation of a recharge benefit in three
steps, so no transaction is open while the partner is asked:

1. a short transaction reads the reservation, its benefit and the owning partner's fulfilment URL
   and signing secrets, and binds the key to the account and duration of its first request
   (store.bind: the partner is never sent another body under the key);
2. outside any transaction, DeliveryClient.recharge asks the partner, with an idempotency key
   derived from the reservation key (rules.recharge_key: the same on every call), retrying and
   looking the key up as CONTRACT.md says, never guessing;
3. one transaction logs every request in delivery_attempts and, when delivered, issues the
   reservation with the partner's reference (reservations' own issue step, in this transaction).

A refusal (PARTNER_REFUSED) leaves the reservation RESERVED for the caller to release; an unknown
outcome (DELIVERY_UNKNOWN) leaves it RESERVED for the caller to call again later with the same key
(the partner delivers at most once per key). A call after success answers the ISSUED reservation
from the binding, without asking the partner. `revoke_recharge(key)` takes a recharge back (refunds)
and voids the reservation if it was issued.

The partner's fulfilment secret, not its webhook secret, signs these calls: a webhook receiver is
often another system than the fulfilment API, and a secret leaked there must not be able to sign a
recharge, which moves value (webhooks.rules.SecretPurpose).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.auth.principals import Principal, require_authenticated
from shared.crypto import blind_index
from shared.database import Database
from shared.errors import Conflict, DomainError, Forbidden, IdempotencyKeyReused, InvalidInput, NotFound
from shared.idempotency import check_key, fingerprint

from services.benefits import access
from services.benefits.config import get_benefits_settings
from services.benefits.delivery import rules, store
from services.benefits.delivery.answers import AttemptAnswer
from services.benefits.delivery.client import DeliveryClient, RetryPolicy
from services.benefits.delivery.contract import FulfilmentEndpoint, RechargeRequest
from services.benefits.delivery.outcomes import Delivered, Refused, Revoked, Unknown
from services.benefits.errors import DeliveryUnknown, NotAvailable, PartnerRefused
from services.benefits.partner_http import partner_client
from services.benefits.reservations import service as reservations
from services.benefits.reservations.answers import ReservationAnswer
from services.benefits.webhooks import service as webhooks
from services.benefits.webhooks.rules import SecretPurpose

__all__ = ["attempts", "attempts_of", "default_client", "deliver_recharge", "revoke_recharge"]


def default_client() -> DeliveryClient:
    """A recharge client on the process's partner HTTP client, bounded by the settings."""
    s = get_benefits_settings()
    policy = RetryPolicy(
        max_attempts=s.recharge_max_requests, max_total_seconds=s.recharge_max_seconds,
        request_timeout=s.recharge_timeout_seconds, connect_timeout=min(2.0, s.recharge_timeout_seconds),
        base_delay=s.recharge_retry_base_seconds, max_delay=s.recharge_retry_max_seconds,
    )
    return DeliveryClient(partner_client(), policy)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What step 1 read, for steps 2 and 3."""

    key: str
    reservation_id: uuid.UUID
    partner_id: uuid.UUID
    endpoint: FulfilmentEndpoint
    request: RechargeRequest | None = None  # None for a revoke


# --- deliver ------------------------------------------------------------------------------------------


async def deliver_recharge(
    db: Database, principal: Principal, *, key: str, account: str, client: DeliveryClient | None = None,
    now: datetime | None = None,
) -> ReservationAnswer:
    access.require_reserver(principal)
    check_key(key)
    account = rules.check_account(account)
    bound = fingerprint({"account": account})

    async def prepare(session: AsyncSession) -> _Plan | ReservationAnswer:
        row = await _recharge_row(session, key)
        claimed, stored = await store.bind(session, key, bound)
        if claimed != bound:
            raise IdempotencyKeyReused("this reservation is being delivered to another account", idempotencyKey=key)
        if stored is not None and "reservation" in stored and row.state == "ISSUED":
            return ReservationAnswer.model_validate(stored["reservation"])  # delivered before: no new request
        if row.state != "RESERVED":
            raise _not_deliverable(row)
        days = stored["durationDays"] if stored else row.duration_days  # what the first request said
        if not days:
            raise NotAvailable("this benefit has no membership duration to recharge", reason="NOT_CONFIGURED", key=key)
        endpoint = await _endpoint(session, row)
        if stored is None:
            await store.remember(session, key, {"durationDays": days})
        member_ref = "m-" + blind_index(f"{row.partner_id}:{row.member_id}", "benefits.fulfilment.memberRef").hex()[:32]
        request = RechargeRequest(rules.recharge_key(key), account, days, str(row.benefit_id), member_ref)
        return _Plan(key, row.id, row.partner_id, endpoint, request)

    plan = await db.run_transaction(prepare)
    if isinstance(plan, ReservationAnswer):
        return plan
    assert plan.request is not None
    outcome = await (client or default_client()).recharge(plan.endpoint, plan.request)

    async def record(session: AsyncSession) -> ReservationAnswer | DomainError:
        row = await reservations.lock_in(session, key)  # first, as every reservation step: no deadlock between calls
        await store.insert_attempts(session, plan.reservation_id, plan.partner_id, outcome.attempts)
        if not isinstance(outcome, Delivered):
            return _failure(outcome, key)
        if row.state == "RESERVED" or (row.state == "ISSUED" and row.delivery_reference == outcome.reference):
            issued = await reservations.issue_in(session, principal, key=key, delivery_reference=outcome.reference, now=now)
            await store.remember(session, key, {"reservation": issued.reservation.model_dump(mode="json")})
            return issued.reservation
        return Conflict(  # released by its time running out while the partner was asked: take it back
            f"the partner delivered (reference {outcome.reference}), but the reservation is {row.state.lower()} now: "
            "revoke the recharge (revokeRecharge)",
            key=key, state=row.state, deliveryReference=outcome.reference,
        )

    result = await db.run_transaction(record)  # the log is kept whatever the outcome, then the error raised
    if isinstance(result, DomainError):
        raise result
    return result


# --- revoke -------------------------------------------------------------------------------------------


async def revoke_recharge(
    db: Database, principal: Principal, *, key: str, client: DeliveryClient | None = None, now: datetime | None = None
) -> ReservationAnswer:
    """Takes the recharge of a reservation back (refunds), or bars its key if it never arrived.
    Revoked: an ISSUED reservation is voided; one RESERVED or RELEASED stays so (the caller releases
    a RESERVED one); a VOIDED one is answered as it is. Refused or unknown: nothing changes."""
    access.require_reserver(principal)
    check_key(key)

    async def prepare(session: AsyncSession) -> _Plan:
        row = await _recharge_row(session, key)
        return _Plan(key, row.id, row.partner_id, await _endpoint(session, row))

    plan = await db.run_transaction(prepare)
    outcome = await (client or default_client()).revoke(plan.endpoint, rules.recharge_key(key))

    async def record(session: AsyncSession) -> ReservationAnswer | DomainError:
        row = await reservations.lock_in(session, key)
        await store.insert_attempts(session, plan.reservation_id, plan.partner_id, outcome.attempts)
        if not isinstance(outcome, Revoked):
            return _failure(outcome, key, revoking=True)
        if row.state == "ISSUED":
            return await reservations.void_in(session, principal, key=key, now=now)
        return ReservationAnswer.of(row)

    result = await db.run_transaction(record)
    if isinstance(result, DomainError):
        raise result
    return result


# --- the delivery log ---------------------------------------------------------------------------------


async def attempts(db: Database, principal: Principal, key: str) -> list[AttemptAnswer]:
    """`deliveryAttempts(key)`: every request sent for a reservation, oldest first. Staff, alliance
    services and the partner that owns the benefit; to any other partner a key is as unknown as one
    that does not exist."""
    require_authenticated(principal)
    partner = access.calling_partner(principal)
    if partner is None and not (principal.is_staff or access.is_reader_service(principal)):
        raise Forbidden("delivery attempts are visible only to the benefit's partner, staff and alliance services")
    check_key(key)
    async with db.session() as session:
        (owner,) = await store.owners(session, keys=[key]) or (None,)
        if owner is None or not access.may_read_partner_private(principal, owner.partner_id):
            if partner is not None:
                raise Forbidden("no reservation of this key among your benefits", key=key)
            raise NotFound("no reservation with this key", key=key)
        return [AttemptAnswer.of(row) for row in await store.attempts_of(session, [owner.id])]


async def attempts_of(
    db: Database, principal: Principal, reservation_ids: Sequence[uuid.UUID]
) -> list[list[AttemptAnswer] | None]:
    """`Reservation.deliveryAttempts` in one batch: each reservation's log, None where the caller
    may not read it."""
    if not principal.is_authenticated:
        return [None for _ in reservation_ids]
    async with db.session() as session:
        owners = {row.id: row.partner_id for row in await store.owners(session, ids=reservation_ids)}
        visible = [i for i in reservation_ids if i in owners and access.may_read_partner_private(principal, owners[i])]
        found: dict[uuid.UUID, list[AttemptAnswer]] = {i: [] for i in visible}
        for row in await store.attempts_of(session, visible) if visible else ():
            found[row.reservation_id].append(AttemptAnswer.of(row))
    return [found.get(i) for i in reservation_ids]


# --- helpers -----------------------------------------------------------------------------------------


async def _recharge_row(session: AsyncSession, key: str) -> Any:
    row = await store.for_delivery(session, key)
    if row is None:
        raise NotFound("no reservation with this key", key=key)
    if not rules.is_recharge(row):
        raise InvalidInput("this reservation's benefit is delivered as a code, not by recharge: issue the reservation instead",
                           field="key", kind=row.kind, delivery=row.delivery)
    return row


async def _endpoint(session: AsyncSession, row: Any) -> FulfilmentEndpoint:
    """The partner's fulfilment endpoint with its active secrets. Without one, nothing can be sent:
    a first call says so as NOT_AVAILABLE (nothing was delivered); after earlier requests the
    outcome of those stays unknown until the partner is reachable again."""
    keys = await webhooks.active_signing_keys(session, row.partner_id, SecretPurpose.FULFILMENT)
    missing = ("a fulfilment endpoint" if not row.fulfilment_url else
               "a fulfilment signing secret (rotateFulfilmentSecret makes one)" if not keys else None)
    if missing is None:
        try:
            return FulfilmentEndpoint(row.fulfilment_url, tuple(keys))
        except InvalidInput:
            missing = "a usable fulfilment endpoint"
    if row.attempted:
        raise DeliveryUnknown(f"the partner has no {missing} now, so what became of the earlier requests is not known yet",
                              key=row.key, attempts=0)
    raise NotAvailable(f"the partner has no {missing}; nothing was sent", reason="FULFILMENT_NOT_CONFIGURED", key=row.key)


def _failure(outcome: Refused | Unknown, key: str, *, revoking: bool = False) -> DomainError:
    what = "revoke" if revoking else "delivery"
    if isinstance(outcome, Refused):
        return PartnerRefused(f"the partner refused the {what}: {outcome.reason}", reason=outcome.reason,
                              partnerMessage=outcome.message, key=key, attempts=len(outcome.attempts))
    return DeliveryUnknown(f"whether the partner did the {what} is not known yet ({outcome.why}); "
                           "call again later with the same key", key=key, attempts=len(outcome.attempts))


def _not_deliverable(row: Any) -> DomainError:
    why = {"ISSUED": "it was issued already", "RELEASED": "it was released; reserve again", "VOIDED": "it was voided"}
    return Conflict(f"this reservation cannot be delivered: {why.get(row.state, row.state)}", key=row.key, state=row.state)

