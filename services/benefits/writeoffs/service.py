"""Write-off (核销): a partner redeems a code presented at its store, exactly once.

Only a code of the calling partner's own benefits, ISSUED and within its validity. The code is
found by its keyed hash among the partner's pools in one query that locks it: concurrent attempts
queue on that lock, the first moves it to USED and the others then read USED (ALREADY_USED). A code
that is another partner's and one that does not exist take the same query and get the same
NOT_YOURS, so a partner cannot learn what is in other pools. Every write-off is audited in
`write_offs` and published as `benefits.CodeWrittenOff` (a webhook to the owner; the redemption
learns its voucher is used). The same partner may undo it within `write_off_undo_seconds`.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.benefits import access, events, statements
from services.benefits.codes import keys, rules
from services.benefits.codes import store as codes
from services.benefits.config import get_benefits_settings
from services.benefits.errors import AlreadyUsed, Expired, NotYours
from services.benefits.models import IDEMPOTENCY
from services.benefits.reservations import store as reservations
from services.benefits.writeoffs import store
from services.benefits.writeoffs.answers import WriteOffAnswer
from shared.auth.principals import Principal
from shared.database import Database
from shared.errors import Conflict, InvalidInput, NotFound
from shared.idempotency import check_key
from shared.ids import new_id
from shared.pagination import Page, PageRequest, paginate
from shared.timeutil import require_aware, utcnow

MAX_STORE_ID = 100


def _check_store_id(store_id: str) -> str:
    if not isinstance(store_id, str) or not store_id.strip() or len(store_id) > MAX_STORE_ID or not store_id.isprintable():
        raise InvalidInput(f"storeId must be 1 to {MAX_STORE_ID} printable characters", field="storeId")
    return store_id.strip()


async def write_off(
    db: Database, principal: Principal, *, code: str, store_id: str, idempotency_key: str, now: datetime | None = None
) -> WriteOffAnswer:
    partner_id = access.require_writing_partner(principal)
    check_key(idempotency_key)
    store_id = _check_store_id(store_id)
    if not isinstance(code, str) or len(code) > rules.MAX_PRESENTED_LENGTH:
        raise InvalidInput(f"code must be at most {rules.MAX_PRESENTED_LENGTH} characters", field="code")
    forms = rules.lookup_forms(code)
    if not forms:
        raise InvalidInput("code must not be empty", field="code")
    hashes = [keys.code_hash(form) for form in forms]
    settings = get_benefits_settings()
    # The fingerprint holds the code's keyed hash, never the code.
    request = {"code": hashes[0].hex(), "storeId": store_id}

    async def work(session: AsyncSession) -> dict[str, Any]:
        at = now or utcnow()
        found = await codes.lock_partner_code(session, hashes, partner_id)
        if found is None:
            raise NotYours("no code of your benefits matches this code")
        _check_redeemable(found, at)
        await codes.move(session, found.id, from_state="ISSUED", to_state="USED", used_at=at)
        write_off_id = new_id()
        await store.insert(session, id=write_off_id, code_id=found.id, benefit_id=found.benefit_id, partner_id=partner_id,
                           key=idempotency_key, store_id=store_id, now=at, created_by=access.actor(principal))
        answer = await _answer(session, write_off_id, settings.write_off_undo_seconds)
        await events.publish_event(session, events.CODE_WRITTEN_OFF, _payload(answer, at))
        return answer.model_dump(mode="json")

    async def transaction(session: AsyncSession) -> WriteOffAnswer:
        stored = await statements.run_idempotent(session, IDEMPOTENCY, scope=f"benefits.writeOff:{partner_id}", key=idempotency_key,
                                      request=request, work=lambda: work(session))
        answer = WriteOffAnswer.model_validate(stored)
        (row,) = await codes.codes_by_id(session, [answer.code_id])
        answer.code = keys.PoolKeys(await codes.data_keys(session, [row.benefit_id])).decrypt(
            row.benefit_id, row.id, bytes(row.code_encrypted))
        return answer

    return await db.run_transaction(transaction)


def _check_redeemable(code: Any, now: datetime) -> None:
    if code.state == "USED":
        raise AlreadyUsed("this code was already written off", usedAt=code.used_at.isoformat() if code.used_at else None)
    if code.state == "EXPIRED" or (code.state == "ISSUED" and rules.is_past(code.valid_until, now)):
        raise Expired("this code's validity has ended", validUntil=code.valid_until.isoformat() if code.valid_until else None)
    if code.state == "VOIDED":
        raise Conflict("this code was voided (its redemption was refunded)", state=code.state)
    if code.state != "ISSUED":
        raise Conflict("this code has not been issued to a member", state=code.state)


async def undo(
    db: Database, principal: Principal, *, write_off_id: uuid.UUID, idempotency_key: str, now: datetime | None = None
) -> WriteOffAnswer:
    """The same partner takes a write-off back within the undo window: the code is ISSUED again."""
    partner_id = access.require_writing_partner(principal)
    check_key(idempotency_key)
    window = get_benefits_settings().write_off_undo_seconds

    async def work(session: AsyncSession) -> dict[str, Any]:
        at = now or utcnow()
        found = await store.lock(session, write_off_id)
        if found is None or found.partner_id != partner_id:
            raise NotFound("no write-off of yours has this id", writeOffId=str(write_off_id))
        if found.undone_at is not None:
            raise Conflict("this write-off was already undone", undoneAt=found.undone_at.isoformat())
        deadline = found.created_at + timedelta(seconds=window)
        if at > deadline:
            raise Conflict(f"a write-off can be undone only within {window} seconds; this one's window closed at "
                           f"{deadline.isoformat()}", undoableUntil=deadline.isoformat())
        code = await codes.lock_code(session, found.code_id)
        if code is None or not await codes.move(session, code.id, from_state="USED", to_state="ISSUED", used_at=None):
            raise Conflict("this code is no longer written off", state=code.state if code else None)
        await store.mark_undone(session, write_off_id, now=at, by=access.actor(principal))
        answer = await _answer(session, write_off_id, window)
        await events.publish_event(session, events.CODE_WRITE_OFF_UNDONE, _payload(answer, at))
        return answer.model_dump(mode="json")

    async def transaction(session: AsyncSession) -> WriteOffAnswer:
        stored = await statements.run_idempotent(session, IDEMPOTENCY, scope=f"benefits.undoWriteOff:{partner_id}", key=idempotency_key,
                                      request={"writeOffId": write_off_id}, work=lambda: work(session))
        return WriteOffAnswer.model_validate(stored)

    return await db.run_transaction(transaction)


async def _answer(session: AsyncSession, write_off_id: uuid.UUID, window: int) -> WriteOffAnswer:
    row = await store.by_id(session, write_off_id)
    assert row is not None
    return WriteOffAnswer.of(row, window, await reservations.key_of_code(session, row.code_id))


def _payload(answer: WriteOffAnswer, at: datetime) -> dict[str, Any]:
    ids = {"partnerId": answer.partner_id, "benefitId": answer.benefit_id, "codeId": answer.code_id, "writeOffId": answer.id,
           "memberId": answer.member_id}
    return {**{name: str(value) if value is not None else None for name, value in ids.items()},
            "reservationKey": answer.reservation_key, "storeId": answer.store_id, "occurredAt": at.isoformat()}


# --- reads -------------------------------------------------------------------------------------------


async def write_offs(
    db: Database, principal: Principal, *, partner_id: uuid.UUID, since: datetime | None = None,
    until: datetime | None = None, first: int | None = None, after: str | None = None,
) -> Page[WriteOffAnswer]:
    """A partner's write-offs in [since, until), newest first: for the partner and staff (masked)."""
    access.require_code_reader(principal, partner_id)
    since = require_aware(since, "from") if since is not None else None
    until = require_aware(until, "to") if until is not None else None
    if since is not None and until is not None and until <= since:
        raise InvalidInput("to must be after from", field="to")
    request = PageRequest(first, after, cursor_types=(datetime, uuid.UUID))
    window = get_benefits_settings().write_off_undo_seconds
    async with db.session() as session:
        rows = await store.of_partner(session, partner_id, since=since, until=until,
                                      after=request.after_values, limit=request.fetch_limit)  # type: ignore[arg-type]
    return paginate([WriteOffAnswer.of(row, window) for row in rows], request, key=lambda w: (w.created_at, w.id))
