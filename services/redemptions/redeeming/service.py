"""Redeem a benefit, and read redemptions.

`redeem` admits the redemption in one transaction under the member's lock (so limits hold under
concurrency): the same key answers the same redemption (another benefit or account with it is
IDEMPOTENCY_KEY_REUSED), a blocked member is refused, and the alliance's rules decide (RATE_LIMITED,
LIMIT_EXCEEDED, UNDER_REVIEW with an abuse signal). The member's status and tier are read from
members and the benefit from benefits before that transaction (never a call inside one).

The admitted redemption is PENDING and leased to this process, which drives the saga at once. The
caller gets the redemption as it stands after `answer_within_seconds`: COMPLETED or FAILED (with a
typed failureReason) for most, PENDING when a step is slow (a partner's recharge API, say); the saga
goes on in the background and the member polls `redemption(id)`. A refusal before any redemption
exists (blocked, rules, a member or benefit that cannot redeem) is a typed error instead.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from shared import deadline
from shared.auth.principals import Principal
from shared.crypto import blind_index
from shared.database import Database
from shared.errors import Forbidden, IdempotencyKeyReused, InvalidInput, LimitExceeded, NotFound, Unauthenticated, UpstreamError
from shared.idempotency import check_key, fingerprint
from shared.pagination import Page, PageRequest, paginate
from shared.timeutil import utcnow

from services.redemptions import access, errors
from services.redemptions.config import get_redemptions_settings
from services.redemptions.models import Redemption
from services.redemptions.peers import benefits, members
from services.redemptions.peers.calls import Refused, Unknown
from services.redemptions.redeeming import rules, store
from services.redemptions.redeeming.answers import RedemptionAnswer
from services.redemptions.saga import driver, faults
from services.redemptions.saga import store as saga_store

log = logging.getLogger("abg.redemptions")

# Benefits' deliverRecharge takes accounts of up to 100 characters: a longer one is refused here,
# before any points are held, not at delivery.
MAX_ACCOUNT = 100
MAX_DEVICE = 200
# Sagas this process drives in the background after answering PENDING (kept so they are not
# garbage-collected mid-flight).
_RUNNING: set[asyncio.Task[Any]] = set()


@dataclass(frozen=True, slots=True)
class ClientContext:
    """What the gateway forwards about the member's client (both optional)."""

    device_id: str | None = None
    client_ip: str | None = None


def _clean(value: str | None, field: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > limit or any(ord(c) < 32 for c in value):
        raise InvalidInput(f"{field} must be at most {limit} printable characters", field=field)
    return value


async def redeem(
    db: Database, principal: Principal, *, benefit_id: uuid.UUID, idempotency_key: str, account: str | None = None,
    member_id: uuid.UUID | None = None, client: ClientContext = ClientContext(),
) -> RedemptionAnswer:
    member_id = access.redeeming_member(principal, member_id)
    check_key(idempotency_key)
    account = _clean(account, "deliverTo.account", MAX_ACCOUNT)
    device = _clean(client.device_id, "deviceId", MAX_DEVICE)
    request = fingerprint({"benefitId": benefit_id, "account": account})

    async with db.session() as session:
        existing = await store.by_key(session, member_id, idempotency_key)
    if existing is not None:
        return await _replay(db, principal, existing, request)

    member, benefit = await _facts(member_id, benefit_id)
    if benefit.delivery == "RECHARGE" and not account:
        raise InvalidInput("this benefit is recharged to the member's account on the platform: give deliverTo.account",
                           field="deliverTo.account")
    now = utcnow()
    settings = get_redemptions_settings()
    identities = _identities(benefit, account, device)

    async def admit(session: AsyncSession) -> tuple[bool, Redemption] | rules.Refusal:
        await store.lock(session, f"redemptions:member:{member_id}", *(f"redemptions:identity:{k}:{h.hex()}" for k, h in identities))
        if (again := await store.by_key(session, member_id, idempotency_key)) is not None:
            return False, again  # a concurrent call with the same key got here first
        block = await store.is_blocked(session, member_id)
        if block is not None:
            raise errors.MemberBlocked("this member may not redeem; contact customer service", blockedAt=block.blocked_at.isoformat())
        alliance = await store.rules(session)
        # Only what the rules in force need is read (most admissions read the rules and the recent redemptions).
        counted = {kind for kind, limit in (("ACCOUNT", alliance.members_per_account), ("DEVICE", alliance.members_per_device)) if limit}
        others = {kind: await store.others_using(session, kind, value, member_id) for kind, value in identities if kind in counted}
        reviewed = counted or alliance.young_account_days is not None
        attempt = rules.Attempt(benefit.points_price, member.joined_at, others.get("ACCOUNT"), others.get("DEVICE"),
                                await store.released_kinds(session, member_id) if reviewed else frozenset())
        refusal = rules.decide(alliance, await store.recent(session, member_id, now), attempt, now)
        if refusal is not None:
            if refusal.signal:
                await store.raise_signal(session, member_id, refusal.signal,
                                         {**refusal.limit, "benefitId": str(benefit_id), "points": benefit.points_price}, now)
            return refusal
        for kind, value in identities:
            await store.record_use(session, kind, value, member_id, now)
        row = Redemption(
            id=uuid.uuid4(), member_id=member_id, benefit_id=benefit.id, partner_id=benefit.partner_id, kind=benefit.kind,
            delivery=benefit.delivery, title=benefit.title[:200], points=benefit.points_price, status="PENDING", step="HOLD",
            idempotency_key=idempotency_key, fingerprint=request, deliver_to=account, device_id=device,
            client_ip=_clean(client.client_ip, "clientIp", 64), member_facts=member.as_json(),
            refund_window_days=benefit.refund_window_days, step_started_at=now, next_attempt_at=now,
            lease_owner=driver.new_lease(), lease_until=now + timedelta(seconds=settings.lease_seconds),
            created_at=now, updated_at=now,
        )
        session.add(row)
        await session.flush()
        await saga_store.add_timeline(session, row.id, [("ADMIT", "DONE", {"points": row.points, "tier": member.tier})], now)
        return True, row

    admitted = await db.run_transaction(admit)
    if isinstance(admitted, rules.Refusal):
        raise _refusal_error(admitted)
    created, row = admitted
    if not created:
        return await _replay(db, principal, row, request)
    faults.crash_point("ADMIT", "recorded")
    return await drive_and_answer(db, principal, row)


def _identities(benefit: benefits.BenefitFacts, account: str | None, device: str | None) -> list[tuple[str, bytes]]:
    """Accounts and devices by keyed hash: the rules need to know sameness, never the value."""
    found = []
    if account:
        found.append(("ACCOUNT", blind_index(f"{benefit.partner_id}:{account.casefold()}", "redemption-account")))
    if device:
        found.append(("DEVICE", blind_index(device, "redemption-device")))
    return found


def _refusal_error(refusal: rules.Refusal) -> Exception:
    kind = {"RATE_LIMITED": errors.RateLimited, "LIMIT_EXCEEDED": LimitExceeded, "UNDER_REVIEW": errors.UnderReview}[refusal.code]
    return kind(refusal.message, **refusal.limit)


async def _facts(member_id: uuid.UUID, benefit_id: uuid.UUID) -> tuple[members.MemberFacts, benefits.BenefitFacts]:
    try:
        member, benefit = await asyncio.gather(members.member_facts(member_id), benefits.benefit(benefit_id))
    except Refused as refusal:
        if refusal.code == "NOT_FOUND":
            raise NotFound("no such benefit", benefitId=str(benefit_id)) from refusal
        raise UpstreamError(f"{refusal.service} refused: {refusal.message}", service=refusal.service, reason="graphql",
                            upstreamCodes=[refusal.code]) from refusal
    except Unknown as unknown:
        raise UpstreamError(f"{unknown.service} did not answer; nothing was redeemed, try again", service=unknown.service,
                            reason=unknown.reason) from unknown
    if member is None:
        raise NotFound("no such member", memberId=str(member_id))
    if member.status != "ACTIVE":
        raise errors.MemberNotActive(f"this member is {member.status.lower()}", memberId=str(member_id))
    if benefit.status != "ACTIVE":
        raise errors.NotAvailable(f"this benefit is {benefit.status.lower()}, not redeemable", benefitId=str(benefit_id))
    return member, benefit


async def _replay(db: Database, principal: Principal, row: Redemption, request: str) -> RedemptionAnswer:
    if row.fingerprint != request:
        raise IdempotencyKeyReused("this idempotency key was used for another redemption", redemptionId=str(row.id))
    return await answer(db, principal, row.id)


async def drive_and_answer(db: Database, principal: Principal, row: Redemption) -> RedemptionAnswer:
    # The saga outlives this request when it answers PENDING: the caller's deadline is not its own.
    task = asyncio.create_task(
        driver.drive(db, row), name=f"redemption:{row.id}", context=deadline.detached_context()
    )
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    try:
        await asyncio.wait_for(asyncio.shield(task), get_redemptions_settings().answer_within_seconds)
    except TimeoutError:
        pass  # PENDING: the saga goes on; the member polls
    except Exception:  # noqa: BLE001 - the saga stays PENDING; the recovery loop takes it up when its lease ends
        log.exception("redemption %s: driving the saga failed; left to the recovery loop", row.id)
    return await answer(db, principal, row.id)


async def answer(db: Database, principal: Principal, redemption_id: uuid.UUID) -> RedemptionAnswer:
    async with db.session() as session:
        row = await saga_store.load(session, redemption_id)
        if row is None:
            raise NotFound("no such redemption", id=str(redemption_id))
        access.require_reader(principal, row.member_id, row.partner_id)
        steps = (await saga_store.timelines(session, [row.id]))[row.id]
    return RedemptionAnswer.of(row, steps, principal)


async def redemptions_by_ids(db: Database, principal: Principal, ids: list[uuid.UUID]) -> list[RedemptionAnswer | None]:
    """For the entity resolver: one query per batch; ids the caller may not see answer None."""
    async with db.session() as session:
        rows = await store.by_ids(session, ids)
        timelines = await saga_store.timelines(session, list(rows))
    found: list[RedemptionAnswer | None] = []
    for redemption_id in ids:
        row = rows.get(redemption_id)
        try:
            if row is not None:
                access.require_reader(principal, row.member_id, row.partner_id)
        except (Forbidden, Unauthenticated):  # not theirs: as if it did not exist
            row = None
        found.append(RedemptionAnswer.of(row, timelines[row.id], principal) if row is not None else None)
    return found


async def list_redemptions(
    db: Database, principal: Principal, request: PageRequest, *, member_id: uuid.UUID | None = None,
    partner_id: uuid.UUID | None = None, statuses: list[str] | None = None, kind: str | None = None,
) -> Page[RedemptionAnswer]:
    """Newest first. A member lists their own; a partner the redemptions of its own benefits;
    staff and services anyone's."""
    if member_id is not None:
        access.require_reader(principal, member_id, uuid.UUID(int=0))
    elif partner_id is not None:
        access.require_reader(principal, uuid.UUID(int=0), partner_id)
    else:
        access.require_staff(principal)
    async with db.session() as session:
        rows = await store.page(session, member_id=member_id, partner_id=partner_id, statuses=statuses, kind=kind,
                                after=request.after_values, limit=request.fetch_limit)
        timelines = await saga_store.timelines(session, [row.id for row in rows])
    return paginate([RedemptionAnswer.of(row, timelines[row.id], principal) for row in rows], request,
                    key=lambda a: (a.created_at, a.id))
